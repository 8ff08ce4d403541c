/**
 * Binary uploads over plain TCP are read into a few reused blocks (receive-blocks.ts), not a
 * fresh buffer per socket read: the filesystem sees writes from at most a handful of distinct
 * memory blocks, whatever the size, and the bytes are exactly those sent for every size around
 * the block boundaries, with a slow filesystem (reading pauses and resumes), with bytes sent
 * before the 150 reply, and past the upload limit. Through real loopback sockets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { MemoryFs, type WritableFile, type WriteOptions } from '@gorgon/ftp';
import { testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, sendAll } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

/** A memory filesystem that records the memory behind every buffer written, and may be slow. */
class RecordingFs extends MemoryFs {
  readonly blocks = new Set<ArrayBufferLike>();
  writes = 0;
  constructor(readonly delayMs = 0) {
    super({ 'pub/': '' });
  }
  override async openWrite(path: string, options: WriteOptions): Promise<WritableFile> {
    const w = await super.openWrite(path, options);
    const slow = (): Promise<void> => (this.delayMs > 0 ? new Promise((r) => setTimeout(r, this.delayMs)) : Promise.resolve());
    return {
      write: async (data) => {
        this.writes++;
        this.blocks.add(data.buffer);
        await slow();
        await w.write(data);
      },
      writev: async (parts) => {
        this.writes++;
        for (const p of parts) this.blocks.add(p.buffer);
        await slow();
        for (const p of parts) await w.write(p);
      },
      commit: () => w.commit(),
      abort: () => w.abort(),
    };
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function content(fs: MemoryFs, path: string): Promise<Buffer> {
  const producer = await fs.openRead(path);
  const parts: Buffer[] = [];
  for (let chunk = await producer.more(); chunk && chunk.length > 0; chunk = await producer.more()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** STOR `body` to /pub/up.bin; `early` sends it (and the FIN) before STOR. Returns the final reply. */
async function upload(fs: MemoryFs, body: Buffer, options: { early?: boolean; maxUploadBytes?: number } = {}): Promise<string> {
  await using server = testServer({ store: fs, limits: { maxUploadBytes: options.maxUploadBytes ?? 0 } });
  const { port } = await server.listen(0);
  const c = await controlClient(port);
  try {
    await login(c);
    const d = await dataConnect(await epsv(c));
    d.on('error', () => {});
    let sent: Promise<void> | undefined;
    if (options.early) {
      sent = sendAll(d, body);
      await sent;
      await new Promise((r) => setTimeout(r, 50)); // the bytes and the FIN are in the server's socket
    }
    expect(await cmd(c, 'STOR pub/up.bin')).toMatch(/^150 /);
    sent ??= sendAll(d, body);
    const reply = await c.line(20_000);
    await sent.catch(() => undefined);
    d.destroy();
    return reply;
  } finally {
    c.end();
  }
}

describe('binary STOR over TCP reads into reused blocks', () => {
  it('a 24 MiB upload is written from at most five memory blocks, bytes intact', async () => {
    const fs = new RecordingFs();
    const body = randomBytes(24 * 1024 * 1024);
    expect(await upload(fs, body)).toBe('226 Transfer complete.');
    expect(sha(await content(fs, '/pub/up.bin'))).toBe(sha(body));
    // 64 KiB first block + at most 4 large ones; a buffer per socket read would be hundreds.
    expect(fs.blocks.size).toBeLessThanOrEqual(5);
    expect(fs.writes).toBeGreaterThan(1);
  });

  it.each([0, 1, 48 * 1024, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 5 * 1024 * 1024 + 3])(
    '%i bytes through a slow filesystem (reading pauses and resumes): the same bytes',
    async (size) => {
      const fs = new RecordingFs(3);
      const body = randomBytes(size);
      expect(await upload(fs, body)).toBe('226 Transfer complete.');
      expect(sha(await content(fs, '/pub/up.bin'))).toBe(sha(body));
    },
  );

  it('bytes and FIN sent before STOR (before the switch to blocks) are kept in order', async () => {
    const fs = new RecordingFs();
    const body = randomBytes(300 * 1024);
    expect(await upload(fs, body, { early: true })).toBe('226 Transfer complete.');
    expect(sha(await content(fs, '/pub/up.bin'))).toBe(sha(body));
  });

  it('past maxUploadBytes: 552 and nothing stored', async () => {
    const fs = new RecordingFs();
    expect(await upload(fs, randomBytes(3 * 1024 * 1024), { maxUploadBytes: 2 * 1024 * 1024 })).toMatch(/^552 /);
    await expect(fs.stat('/pub/up.bin')).rejects.toThrow();
  });
});
