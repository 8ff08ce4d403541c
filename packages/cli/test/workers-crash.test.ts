import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FtpClient } from '@gorgon/ftp/client';
import { SpawnedDaemon } from './spawn-cli.js';
import { makeWorkersSite, type WorkersSite } from './workers-setup.js';

/** A sink that holds the first chunk until `release()`: the transfer is still running until then. */
function gatedSink(): { sink: Writable; chunks: Buffer[]; release: () => void; started: Promise<void> } {
  let release = (): void => {};
  let started = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      if (chunks.length === 1) {
        started();
        void gate.then(() => callback());
      } else callback();
    },
  });
  return { sink, chunks, release, started: startedPromise };
}

describe('gorgon serve --workers 2: one worker killed', () => {
  let site: WorkersSite;
  let daemon: SpawnedDaemon;
  let port: number;
  let pids: number[];
  let nextUser = 1;

  /** A logged-in FTP session (PASV), and the worker that serves it (from its login log line). */
  async function session(): Promise<{ client: FtpClient; worker: number; user: string }> {
    const user = `u${nextUser++}`;
    const client = await FtpClient.connect({ host: '127.0.0.1', port, user, password: site.password, passive: 'pasv' });
    const login = await daemon.waitFor((r) => r.event === 'login' && r.user === user);
    return { client, worker: login.worker as number, user };
  }

  beforeAll(async () => {
    site = await makeWorkersSite({ users: 40 });
    daemon = new SpawnedDaemon(['serve', '--config', site.config, '--workers', '2'], site.dir);
    const ready = await daemon.waitFor((r) => r.event === 'workers-ready', 0, 30_000);
    pids = ready.pids as number[];
    port = daemon.ports.get('ftpd')!;
  }, 40_000);
  afterAll(async () => {
    if (daemon) expect(await daemon.stop()).toBe(0);
    await rm(site.dir, { recursive: true, force: true });
  }, 40_000);

  it('keeps the other worker serving (a transfer in flight completes), restarts the killed one, and takes new connections', async () => {
    const sessions = [];
    while (new Set(sessions.map((s) => s.worker)).size < 2) {
      if (sessions.length >= 8) throw new Error('8 connections all went to one worker');
      sessions.push(await session());
    }
    const victim = sessions.find((s) => s.worker === 1)!;
    const survivor = sessions.find((s) => s.worker === 2)!;

    // A download on the survivor, held mid-transfer while worker 1 dies.
    const gated = gatedSink();
    const download = survivor.client.download('pub/data.bin', gated.sink);
    await gated.started;
    const from = daemon.records.length;
    process.kill(pids[0]!, 'SIGKILL');
    const exit = await daemon.waitFor((r) => r.event === 'worker-exit' && r.worker === 1, from);
    expect(exit.how).toBe('signal SIGKILL');
    expect(exit.msg).toMatch(/worker 1 \(pid \d+\) exited \(signal SIGKILL\); restarting it in \d+ ms/);
    gated.release();
    expect(await download).toBe(site.data.length);
    expect(createHash('sha256').update(Buffer.concat(gated.chunks)).digest('hex')).toBe(site.sha256);
    // The survivor's session goes on: an upload and a goodbye.
    expect(await survivor.client.upload(Buffer.from('after the crash'), 'up/after.txt')).toBe(15);
    await survivor.client.quit();
    // The victim's control connection died with its worker.
    await expect(victim.client.send('NOOP')).rejects.toThrow();
    victim.client.close();

    const restarted = await daemon.waitFor((r) => r.event === 'worker-restarted' && r.worker === 1, from, 20_000);
    expect(restarted.pid).not.toBe(pids[0]);
    // New connections succeed, on both workers again.
    const fresh = [];
    while (new Set(fresh.map((s) => s.worker)).size < 2) {
      if (fresh.length >= 8) throw new Error('8 new connections all went to one worker');
      fresh.push(await session());
    }
    for (const s of fresh) {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _e, cb) {
          chunks.push(chunk);
          cb();
        },
      });
      expect(await s.client.download('pub/data.bin', sink)).toBe(site.data.length);
      expect(Buffer.concat(chunks).equals(site.data)).toBe(true);
      await s.client.quit();
    }
    for (const s of sessions) s.client.close();
    pids[0] = restarted.pid as number;
  }, 60_000);

  it('stops restarting a worker that keeps crashing, and the others go on serving', async () => {
    const from = daemon.records.length;
    let pid = pids[1]!;
    for (let crash = 1; crash <= 5; crash++) {
      const mark = daemon.records.length;
      process.kill(pid, 'SIGKILL');
      if (crash === 5) break;
      const restarted = await daemon.waitFor((r) => r.event === 'worker-restarted' && r.worker === 2, mark, 20_000);
      pid = restarted.pid as number;
    }
    const loop = await daemon.waitFor((r) => r.event === 'worker-crash-loop', from, 20_000);
    expect(loop.worker).toBe(2);
    expect(loop.msg).toMatch(
      /worker 2 \(pid \d+\) exited \(signal SIGKILL\); it exited 5 times in 30 s, so it is not restarted: 1 of 2 workers serve/,
    );
    expect(daemon.alive).toBe(true);
    // Worker 1 takes every connection now.
    for (let i = 0; i < 3; i++) {
      const s = await session();
      expect(s.worker).toBe(1);
      await s.client.quit();
    }
  }, 60_000);
});
