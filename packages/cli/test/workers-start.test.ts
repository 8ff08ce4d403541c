import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpawnedDaemon } from './spawn-cli.js';
import { makeWorkersSite, type WorkersSite } from './workers-setup.js';

/** Lines of stderr that are not JSON log records: what a person reads as the error. */
function errorLines(daemon: SpawnedDaemon): string[] {
  return daemon.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
}

describe('gorgon serve --workers: start-up, config and signals', () => {
  let site: WorkersSite;
  beforeAll(async () => {
    site = await makeWorkersSite({ users: 2, extra: 'workers: 2' });
  });
  afterAll(async () => rm(site.dir, { recursive: true, force: true }));

  it('refuses a worker count that is not one, in one sentence', async () => {
    const daemon = new SpawnedDaemon(['serve', '--config', site.config, '--workers', '0'], site.dir);
    expect(await daemon.exited()).toBe(2);
    expect(errorLines(daemon)[0]).toBe('gorgon: --workers must be a whole number from 1 to 1024, or auto, got "0".');
  }, 30_000);

  it("reports a config the workers cannot run once, as the primary's own error, and exits 1", async () => {
    const small = await makeWorkersSite({ users: 1, pasvPorts: 1 });
    try {
      const daemon = new SpawnedDaemon(['serve', '--config', small.config, '--workers', '3'], small.dir);
      expect(await daemon.exited()).toBe(1);
      const range = `${small.pasvRange!.min}-${small.pasvRange!.max}`;
      expect(errorLines(daemon)).toEqual([`gorgon: ftp: pasvRange ${range} has 1 port for 3 workers; give at least one port per worker.`]);
    } finally {
      await rm(small.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs workers: 2 from the config, passes SIGHUP on to every worker, and drains both on SIGTERM', async () => {
    const daemon = new SpawnedDaemon(['serve', '--config', site.config], site.dir);
    try {
      const ready = await daemon.waitFor((r) => r.event === 'workers-ready', 0, 30_000);
      expect(ready.workers).toBe(2);
      const from = daemon.records.length;
      daemon.child.kill('SIGHUP');
      await daemon.waitFor((r) => r.event === 'reload' && r.worker === 1, from);
      await daemon.waitFor((r) => r.event === 'reload' && r.worker === 2, from);
      expect(daemon.alive).toBe(true);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    const shutdowns = daemon.records.filter((r) => r.event === 'shutdown');
    expect(shutdowns.map((r) => r.worker ?? 'primary').sort()).toEqual([1, 2, 'primary']);
  }, 60_000);

  it('--workers 1 wins over the config: one process, as without workers', async () => {
    const daemon = new SpawnedDaemon(['serve', '--config', site.config, '--workers', '1'], site.dir);
    try {
      await daemon.waitFor((r) => r.event === 'ready', 0, 30_000);
      expect(daemon.records.some((r) => r.event === 'workers-ready' || r.worker !== undefined)).toBe(false);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  }, 60_000);

  it('serve --demo --workers 2: NNTP (one spool, numbered in one process) runs in worker 1 only; only worker 1 sweeps stale uploads', async () => {
    const daemon = new SpawnedDaemon(
      ['serve', '--demo', '--data', join(site.dir, 'demo'), '--ephemeral-ports', '--workers', '2'],
      site.dir,
    );
    try {
      await daemon.waitFor((r) => r.event === 'workers-ready', 0, 40_000);
      const started = (name: string): unknown[] =>
        daemon.records
          .filter((r) => r.event === 'started' && r.daemon === name)
          .map((r) => r.worker)
          .sort();
      expect(started('nntpd')).toEqual([1]);
      expect(started('pop3d')).toEqual([1, 2]);
      expect(started('ftpd')).toEqual([1, 2]);
      // Every NNTP connection reaches worker 1, the only one listening there.
      const port = daemon.ports.get('nntpd')!;
      for (let i = 0; i < 3; i++) {
        const greeting = await new Promise<string>((resolve, reject) => {
          const socket = connect({ port, host: '127.0.0.1' });
          socket.once('data', (d) => {
            socket.end('QUIT\r\n');
            resolve(d.toString());
          });
          socket.once('error', reject);
        });
        expect(greeting).toMatch(/^20[01] /);
      }
      await daemon.waitFor((r) => r.event === 'upload-sweep');
      expect(daemon.records.filter((r) => r.event === 'upload-sweep').map((r) => r.worker)).toEqual([1]);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
  }, 90_000);
});
