/**
 * The grabber writing into a disk that fills up (a small tmpfs mounted for the test; skipped,
 * saying why, where mounting is not allowed): the URL fails with a message naming the local
 * file and the cause, the run ends (a file stream that fails never drains: the wait for it must
 * end with the stream), the .part keeps what was written, no 'drain' listeners pile up, and
 * once there is room the next run resumes the .part to the whole file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from '@gorgon/core/testing';
import { getUrls } from '@gorgon/http/client';

let disk: SmallDisk;
let server: Server | undefined;
beforeEach(async () => {
  disk = await mountSmallDisk('8m');
});
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  server = undefined;
  await disk.dispose();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('getUrls into a disk that fills up', () => {
  it('fails the URL naming the file and ENOSPC, keeps the .part, and resumes it once there is room', async (t) => {
    if (!disk.mounted) return t.skip(disk.whyNot);
    const body = randomBytes(6 * 1024 * 1024);
    server = createServer((req, res) => {
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      if (start > 0)
        res
          .writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start })
          .end(body.subarray(start));
      else res.writeHead(200, { 'Content-Length': body.length }).end(body);
    });
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.bin`;
    // 1 MiB of room left on an 8 MiB disk for a 6 MiB file.
    const ballast = join(disk.path, 'ballast');
    const handle = await open(ballast, 'w');
    await handle.write(Buffer.alloc(7 * 1024 * 1024));
    await handle.close();
    const out = join(disk.path, 'out');
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on('warning', onWarning);
    try {
      const first = await getUrls([url], { outDir: out, retries: 0 });
      expect(first.done).toBe(0);
      expect(first.failed).toHaveLength(1);
      expect(first.failed[0]!.message).toMatch(/cannot write .*big\.bin\.part: ENOSPC/);
      const kept = (await stat(join(out, 'big.bin.part'))).size;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(body.length);
      expect((await readFile(join(out, 'big.bin.part'))).equals(body.subarray(0, kept))).toBe(true);
      await unlink(ballast);
      const second = await getUrls([url], { outDir: out, retries: 0 });
      expect(second.failed.map((f) => f.message)).toEqual([]);
      expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(body));
      await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
      expect(warnings.filter((w) => /MaxListeners/.test(w))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 30_000);
});
