/**
 * fsync before 226 is a setting (DiskFs `fsync`, createFtpServer `disk.fsync`): on by default,
 * an acknowledged upload has been flushed (file, then directory); off, no fsync is called for
 * STOR, APPE or REST+STOR. The calls are counted on Node's FileHandle.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFtpServer, DiskFs, type DiskFsOptions } from '@gorgon/ftp';
import { fileHandleProbe } from './file-handle-calls.js';
import { demoAuth } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, sendAll } from './socket-client.js';

const probe = fileHandleProbe('gorgon-fsync-');
afterEach(() => probe.cleanup());
const root = () => probe.dir();

/** Counts FileHandle sync and datasync calls from now on (they still run). */
const countSyncs = () => probe.count('sync', 'datasync');

async function storeEach(options: DiskFsOptions): Promise<void> {
  const dir = await root();
  await writeFile(join(dir, 'old.txt'), 'old content\n');
  const fs = new DiskFs(dir, options);
  const replace = await fs.openWrite('/new.txt', { mode: 'replace' });
  await replace.write(Buffer.from('new\n'));
  await replace.commit();
  const append = await fs.openWrite('/old.txt', { mode: 'append' });
  await append.write(Buffer.from('more\n'));
  await append.commit();
  const resume = await fs.openWrite('/old.txt', { mode: 'resume', offset: 4 });
  await resume.write(Buffer.from('CONTENT\n'));
  await resume.commit();
  expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('new\n');
  expect(await readFile(join(dir, 'old.txt'), 'utf8')).toBe('old CONTENT\n');
}

describe('DiskFs fsync setting', () => {
  it('flushes every kind of upload by default (file, directory, each APPE chunk)', async () => {
    const syncs = await countSyncs();
    await storeEach({});
    // replace: file + directory; append: one datasync per chunk + commit; resume: commit.
    expect(syncs.calls).toBe(5);
  });

  it('calls no fsync at all with fsync: false', async () => {
    const syncs = await countSyncs();
    await storeEach({ fsync: false });
    expect(syncs.calls).toBe(0);
  });
});

describe('createFtpServer disk.fsync reaches the store', () => {
  it.each([
    [undefined, true],
    [true, true],
    [false, false],
  ] as const)('disk.fsync %s: STOR flushed before 226 %s', async (fsync, flushed) => {
    const dir = await root();
    const server = createFtpServer({ root: dir, auth: demoAuth(), ...(fsync === undefined ? {} : { disk: { fsync } }) });
    const { port } = await server.listen(0, '127.0.0.1');
    const c = await controlClient(port);
    try {
      await login(c);
      const data = await dataConnect(await epsv(c));
      const syncs = await countSyncs();
      expect(await cmd(c, 'STOR up.bin')).toMatch(/^150/);
      await sendAll(data, Buffer.alloc(100_000, 7));
      expect(await c.line()).toMatch(/^226/);
      expect(syncs.calls > 0).toBe(flushed);
      expect((await readFile(join(dir, 'up.bin'))).length).toBe(100_000);
    } finally {
      c.socket.destroy();
      await server.close({ timeoutMs: 1000 });
    }
  });
});
