/**
 * A full disk under the FTP root (RFC 959 §4.2: 452, insufficient storage space): STOR of a new
 * file and STOR over an existing one are refused with 452, leave no partial file under a final
 * name and no temporary file, leave the existing file as it was; APPE keeps what fitted (a
 * prefix of the upload, to resume from); the session goes on; once space is freed the uploads
 * succeed. The disk is a small tmpfs mounted for
 * the test; where mounting is not allowed the test is skipped, saying why. Real sockets.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '@gorgon/core';
import { mountSmallDisk, type SmallDisk } from '@gorgon/core/testing';
import { DiskFs, type DiskFsOptions } from '@gorgon/ftp';
import { kLoopWriteClock } from '../src/internal.js';
import { testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, sendAll } from './socket-client.js';

let disk: SmallDisk;
beforeEach(async () => {
  disk = await mountSmallDisk('2m');
});
afterEach(() => disk.dispose());

/** A gate clock that always lets blocks be written on the loop (see loop-writes.test.ts). */
const loopAlways = { now: () => 0, dirtyFigures: () => ({ dirty: 0, background: 1 }) };

describe.each([
  { fsync: true, loop: true },
  { fsync: false, loop: true },
  { fsync: true, loop: false },
])('a full disk under the FTP root (fsync $fsync, blocks written on the loop $loop)', ({ fsync, loop }) => {
  it('STOR, STOR over a file and APPE answer 452; nothing torn or left behind; the session goes on; then the upload works', async (t) => {
    if (!disk.mounted) return t.skip(disk.whyNot);
    const root = join(disk.path, 'root');
    await mkdir(join(root, 'pub'), { recursive: true });
    const original = randomBytes(100 * 1024);
    await writeFile(join(root, 'pub', 'keep.bin'), original);
    const logger = memoryLogger();
    await using server = testServer({
      store: new DiskFs(root, { fsync, loopWrites: loop, [kLoopWriteClock]: loopAlways } as DiskFsOptions),
      logger,
    });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    const body = randomBytes(600 * 1024);
    const upload = async (verb: string, path: string): Promise<string> => {
      const d = await dataConnect(await epsv(c));
      d.on('error', () => {});
      expect(await cmd(c, `${verb} ${path}`)).toMatch(/^150 /);
      const sent = sendAll(d, body).catch(() => undefined);
      const reply = await c.line(20_000);
      await sent;
      d.destroy();
      return reply;
    };
    try {
      await login(c);
      // 64 KiB left: the first blocks of each upload fit, the rest does not.
      await disk.fill(join(disk.path, 'ballast'), 64 * 1024);
      for (const [verb, path] of [
        ['STOR', 'pub/new.bin'],
        ['STOR', 'pub/keep.bin'],
      ] as const) {
        expect(await upload(verb, path), `${verb} ${path}`).toBe('452 Insufficient storage space in system.');
        expect(await cmd(c, 'PWD')).toMatch(/^257 /); // the session goes on
        expect((await readdir(join(root, 'pub'))).sort()).toEqual(['keep.bin']); // no partial or temporary file
        expect((await readFile(join(root, 'pub', 'keep.bin'))).equals(original), `${verb} ${path} left keep.bin changed`).toBe(true);
      }
      // APPE writes in place (as REST + STOR does): what fitted stays, a prefix of the upload
      // after the untouched original, so the client can resume from SIZE once there is room.
      expect(await upload('APPE', 'pub/keep.bin')).toBe('452 Insufficient storage space in system.');
      const appended = await readFile(join(root, 'pub', 'keep.bin'));
      expect(appended.subarray(0, original.length).equals(original)).toBe(true);
      const kept = appended.length - original.length;
      expect(appended.subarray(original.length).equals(body.subarray(0, kept))).toBe(true);
      expect(kept).toBeLessThan(body.length);
      expect(await cmd(c, `SIZE pub/keep.bin`)).toBe(`213 ${appended.length}`);
      expect(logger.records.filter((r) => r['event'] === 'transfer-failed')).toHaveLength(3);

      await unlink(join(disk.path, 'ballast'));
      expect(await upload('STOR', 'pub/new.bin')).toBe('226 Transfer complete.');
      expect((await readFile(join(root, 'pub', 'new.bin'))).equals(body)).toBe(true);
      // The rest of the append, from where it stopped.
      const d = await dataConnect(await epsv(c));
      expect(await cmd(c, 'APPE pub/keep.bin')).toMatch(/^150 /);
      await sendAll(d, body.subarray(kept));
      d.end();
      expect(await c.line(20_000)).toBe('226 Transfer complete.');
      expect((await readFile(join(root, 'pub', 'keep.bin'))).equals(Buffer.concat([original, body]))).toBe(true);
    } finally {
      c.end();
    }
  });
});
