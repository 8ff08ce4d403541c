/**
 * Temporary files of uploads cut off by a crash (kill -9 leaves `.gorgon-upload-*` behind) are
 * removed when the server starts listening: those last changed before the process started,
 * anywhere in the root (names that are not UTF-8 included); a live upload's is left alone.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import { createFtpServer, type FtpServerOptions } from '@gorgon/ftp';
import { hostTag, uploadTag } from '../src/fs-disk-sweep.js';
import { demoAuth } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
const dirs: string[] = [];
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const HOUR_AGO = new Date(Date.now() - 3600_000);
const exists = (path: string | Buffer): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

function server(root: string, logs: MemoryLogRecord[], options: Partial<FtpServerOptions> = {}) {
  return createFtpServer({ root, auth: demoAuth(), logger: memoryLogger(logs), throttle: { baseDelayMs: 1, maxDelayMs: 2 }, ...options });
}

/** Waits (polling briefly) for the server's sweep to log its outcome. */
async function swept(logs: MemoryLogRecord[]): Promise<MemoryLogRecord> {
  for (let i = 0; i < 200; i++) {
    const r = logs.find((l) => l['event'] === 'upload-sweep');
    if (r) return r;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no upload-sweep log record');
}

/** A temporary upload file as a crashed upload leaves it: written, then not touched since. */
async function crashed(path: string | Buffer, bytes: number): Promise<void> {
  await writeFile(path, Buffer.alloc(bytes, 7));
  await utimes(path, HOUR_AGO, HOUR_AGO);
}

describe('stale temporary upload files', () => {
  it('are removed at start-up, in the whole tree; other files and a live upload are left alone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-sweep-'));
    dirs.push(root);
    const latin1Dir = Buffer.concat([Buffer.from(`${root}/`), Buffer.from('d\xe9p\xf4t', 'latin1')]);
    await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
    await mkdir(latin1Dir);
    const stale = [join(root, '.gorgon-upload-00112233aabbccdd'), join(root, 'sub', 'deeper', '.gorgon-upload-0123456789abcdef')];
    for (const path of stale) await crashed(path, 1000);
    const staleBytes = Buffer.concat([latin1Dir, Buffer.from('/.gorgon-upload-ffeeddccbbaa9988')]);
    await crashed(staleBytes, 500);
    await writeFile(join(root, 'keep.txt'), 'old but not a temporary file');
    await utimes(join(root, 'keep.txt'), HOUR_AGO, HOUR_AGO);

    // A live upload on a first server: its temporary file exists while the data flows.
    const logsA: MemoryLogRecord[] = [];
    await using a = server(root, logsA, { disk: { sweepStaleUploads: false } });
    const { port } = await a.listen(0);
    const c = await controlClient(port);
    await login(c);
    const data = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR live.bin')).toMatch(/^150 /);
    data.write(Buffer.alloc(1000, 1));
    let live: string | undefined;
    for (let i = 0; i < 200 && !live; i++) {
      live = (await readdir(root)).find((n) => n.startsWith('.gorgon-upload-') && !stale.includes(join(root, n)));
      if (!live) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(live).toBeDefined();

    // A second server starting on the same root sweeps it.
    const logsB: MemoryLogRecord[] = [];
    await using b = server(root, logsB);
    await b.listen(0);
    const record = await swept(logsB);
    expect(record).toMatchObject({ event: 'upload-sweep', removed: 3, bytes: 2500, complete: true });
    for (const path of [...stale, staleBytes]) expect(await exists(path)).toBe(false);
    expect(await exists(join(root, 'keep.txt'))).toBe(true);
    expect(await exists(join(root, live!))).toBe(true);

    // The live upload still completes.
    await new Promise<void>((resolve) => data.end(Buffer.alloc(1000, 2), resolve));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect((await readFile(join(root, 'live.bin'))).length).toBe(2000);
    expect(logsA.some((l) => l['event'] === 'upload-sweep')).toBe(false);
    c.end();
    await c.closed();
  });

  it('are kept when the sweep is turned off, or when younger than staleUploadMs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-sweep-off-'));
    dirs.push(root);
    const temp = join(root, '.gorgon-upload-aaaaaaaaaaaaaaaa');
    await crashed(temp, 10);
    const logs: MemoryLogRecord[] = [];
    {
      await using off = server(root, logs, { disk: { sweepStaleUploads: false } });
      await off.listen(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await exists(temp)).toBe(true);
    }
    await using young = server(root, logs, { disk: { staleUploadMs: 2 * 3600_000 } });
    await young.listen(0);
    expect(await swept(logs)).toMatchObject({ removed: 0 });
    expect(await exists(temp)).toBe(true);
  });

  it("on a root shared by several servers: another live process's upload is kept however old, a dead one's removed however recent, another host's after a day", async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-sweep-shared-'));
    dirs.push(root);
    // A live process of this host (another server on the root, say behind HAProxy) and a dead one.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    const dead = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => dead.once('exit', resolve));
    try {
      const name = (tag: string) => join(root, `.gorgon-upload-${tag}0123456789abcdef`);
      const liveOld = name(uploadTag(other.pid!));
      const deadRecent = name(uploadTag(dead.pid!));
      const ownPidBeforeStart = name(uploadTag(process.pid)); // an earlier process with our pid
      const foreignHour = name(uploadTag(4242, hostTag('another-host.example')));
      const foreignDays = name(uploadTag(4243, hostTag('another-host.example')));
      await crashed(liveOld, 100); // a slow client: no block written for an hour
      await writeFile(deadRecent, Buffer.alloc(200, 7)); // written just now, but its writer is gone
      await crashed(ownPidBeforeStart, 300);
      await crashed(foreignHour, 400);
      await crashed(foreignDays, 500);
      const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
      await utimes(foreignDays, twoDaysAgo, twoDaysAgo);

      const logs: MemoryLogRecord[] = [];
      await using s = server(root, logs);
      await s.listen(0);
      expect(await swept(logs)).toMatchObject({ removed: 3, bytes: 200 + 300 + 500 });
      expect(await exists(liveOld)).toBe(true);
      expect(await exists(foreignHour)).toBe(true);
      for (const gone of [deadRecent, ownPidBeforeStart, foreignDays]) expect(await exists(gone)).toBe(false);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) =>
        other.exitCode !== null || other.signalCode !== null ? resolve(undefined) : other.once('exit', resolve),
      );
    }
  });

  it('an upload names its temporary file with its host and pid', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-sweep-name-'));
    dirs.push(root);
    await using s = server(root, []);
    const { port } = await s.listen(0);
    const c = await controlClient(port);
    await login(c);
    const data = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR named.bin')).toMatch(/^150 /);
    data.write(Buffer.alloc(10, 1));
    let temp: string | undefined;
    for (let i = 0; i < 200 && !temp; i++) {
      temp = (await readdir(root)).find((n) => n.startsWith('.gorgon-upload-'));
      if (!temp) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(temp).toMatch(new RegExp(`^\\.gorgon-upload-${hostTag()}-${process.pid}-[0-9a-f]{16}$`));
    await new Promise<void>((resolve) => data.end(resolve));
    expect(await c.line()).toBe('226 Transfer complete.');
    c.end();
    await c.closed();
  });
});
