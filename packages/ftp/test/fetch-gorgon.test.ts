/**
 * The client and the grabber against the Gorgon FTP server itself (createFtpServer over a disk
 * root), on loopback sockets: both halves of @gorgon/ftp checked against each other.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { MemoryAuthenticator } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFtpServer, fetchFiles, FtpClient, FtpError, type FtpServer } from '../src/internal.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function collector(): { sink: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    sink: new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
    data: () => Buffer.concat(parts),
  };
}

let base: string;
let pems: { cert: string; key: string };
const servers: FtpServer[] = [];
const ports: number[] = [];
let implicitPort = 0;
const contents = new Map<string, Buffer>();

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gorgon-fetch-gorgon-'));
  pems = await createDemoCertificate('localhost');
  for (const name of ['one', 'two']) {
    const root = join(base, name);
    await mkdir(join(root, 'pub', 'deep'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const data = randomBytes(5_000 + i * 41_000);
      contents.set(`${name}/pub/${name}-${i}.bin`, data);
      await writeFile(join(root, 'pub', `${name}-${i}.bin`), data);
    }
    await writeFile(join(root, 'pub', 'deep', 'inner.txt'), `inner of ${name}\n`);
    const server = createFtpServer({
      root,
      anonymous: true,
      auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
      tls: pems,
      throttle: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    servers.push(server);
    ports.push((await server.listen(0, '127.0.0.1')).port);
  }
  implicitPort = (await servers[0]!.listenTls(0, '127.0.0.1')).port;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close({ timeoutMs: 1000 })));
  await rm(base, { recursive: true, force: true });
});

describe('FtpClient against the Gorgon server', () => {
  it('lists with MLSD, reads SIZE and MDTM, downloads and resumes byte for byte', async () => {
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: ports[0]! });
    expect(client.featureSet.has('MLST')).toBe(true);
    const entries = await client.listDir('pub');
    expect(entries.filter((e) => e.type === 'file')).toHaveLength(12);
    expect(entries.find((e) => e.name === 'deep')?.type).toBe('dir');
    const data = contents.get('one/pub/one-11.bin')!;
    expect(await client.size('pub/one-11.bin')).toBe(data.length);
    expect((await client.modifiedTime('pub/one-11.bin')).getTime()).toBeGreaterThan(Date.now() - 3600_000);
    const whole = collector();
    await client.download('pub/one-11.bin', whole.sink);
    expect(sha(whole.data())).toBe(sha(data));
    const tail = collector();
    await client.download('/pub/one-11.bin', tail.sink, { offset: 100_000 });
    expect(sha(tail.data())).toBe(sha(data.subarray(100_000)));
    expect((await client.list('pub')).map((e) => e.name)).toContain('one-0.bin');
    expect(await client.nlst('pub/deep')).toEqual(['inner.txt']);
  });

  it('uploads as a user (STOR, REST+STOR, APPE) and reads it back; a wrong password is FtpError 530', async () => {
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: ports[1]!, user: 'alice', password: 'wonderland' });
    const body = randomBytes(700_000);
    await client.upload(body, 'up.bin');
    await client.upload(body.subarray(300_000), 'up.bin', { offset: 300_000 });
    await client.upload(Buffer.from('tail'), 'up.bin', { append: true });
    expect(sha(await readFile(join(base, 'two', 'up.bin')))).toBe(sha(Buffer.concat([body, Buffer.from('tail')])));
    const err = await FtpClient.connect({ host: '127.0.0.1', port: ports[1]!, user: 'alice', password: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FtpError);
    expect((err as FtpError).code).toBe(530);
  });

  it('refuses a missing file with 550 and keeps the session', async () => {
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: ports[0]! });
    await expect(client.download('pub/none', collector().sink)).rejects.toMatchObject({ code: 550 });
    expect(await client.pwd()).toBe('/');
  });

  it('explicit FTPS (AUTH TLS, PROT P) and implicit FTPS', async () => {
    const data = contents.get('one/pub/one-5.bin')!;
    for (const options of [
      { host: '127.0.0.1', port: ports[0]!, secure: 'explicit' as const },
      { host: 'localhost', port: implicitPort, secure: 'implicit' as const },
    ]) {
      await using client = await FtpClient.connect({ ...options, tls: { ca: pems.cert } });
      const got = collector();
      await client.download('pub/one-5.bin', got.sink);
      expect(sha(got.data()), options.secure).toBe(sha(data));
      expect((await client.listDir('pub')).length, options.secure).toBe(13);
    }
  });
});

describe('fetchFiles against two Gorgon servers', () => {
  it('fetches 24 files from both at once, resuming a partial one, checked by SHA-256', async () => {
    const out = join(base, 'out');
    await mkdir(out, { recursive: true });
    const partial = contents.get('two/pub/two-7.bin')!;
    await writeFile(join(out, 'two-7.bin.part'), partial.subarray(0, 100_000));
    let resumed = 0;
    const result = await fetchFiles([`ftp://127.0.0.1:${ports[0]}/pub/*.bin`, `ftp://127.0.0.1:${ports[1]}/pub/two-*.bin`], {
      outDir: out,
      parallel: 4,
      perHost: 3,
      onProgress: (e) => {
        if (e.type === 'done' && e.resumedFrom > 0) resumed++;
      },
    });
    expect(result.failed).toEqual([]);
    expect(result.done).toBe(24);
    expect(resumed).toBe(1);
    for (const [key, data] of contents) {
      expect(sha(await readFile(join(out, key.slice(key.lastIndexOf('/') + 1)))), key).toBe(sha(data));
    }
  });

  it('fetches over IPv6 (EPSV to [::1])', async () => {
    const v6 = createFtpServer({ root: join(base, 'one'), anonymous: true });
    try {
      const port = (await v6.listen(0, '::1')).port;
      const out = join(base, 'out-v6');
      const result = await fetchFiles([`ftp://[::1]:${port}/pub/one-1*.bin`], { outDir: out, passive: 'epsv' });
      expect(result.failed).toEqual([]);
      expect(result.done).toBe(3);
      expect(sha(await readFile(join(out, 'one-10.bin')))).toBe(sha(contents.get('one/pub/one-10.bin')!));
    } finally {
      await v6.close({ timeoutMs: 1000 });
    }
  });

  it('fetches over implicit TLS with an ftps:// URL and a trusted CA', async () => {
    const out = join(base, 'out-tls');
    const result = await fetchFiles([`ftps://localhost:${implicitPort}/pub/deep/*`], { outDir: out, tls: { ca: pems.cert } });
    expect(result.failed).toEqual([]);
    expect(await readFile(join(out, 'inner.txt'), 'utf8')).toBe('inner of one\n');
  });
});
