import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryClient } from '@gorgon/core/testing';
import { SpawnedDaemon } from './spawn-cli.js';

// SIGTERM (issue 13): draining first, then each protocol's goodbye; a transfer in progress
// finishes within `shutdown.timeoutMs`, one still running past it is cut; exit status 0.

let dir: string;
const big = Buffer.alloc(8 * 1024 * 1024, 3);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-drain-'));
  await mkdir(join(dir, 'files'));
  await writeFile(join(dir, 'files', 'big.bin'), big);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function reply(c: MemoryClient, timeoutMs = 10_000): Promise<string> {
  for (;;) {
    const line = await c.line(timeoutMs);
    if (/^\d{3} /.test(line)) return line;
  }
}

/** Logs in anonymously and starts RETR big.bin with the data connection paused after 1 MiB. */
async function startDownload(port: number): Promise<{ c: MemoryClient; data: Socket; received: () => number; ended: Promise<string> }> {
  const c = new MemoryClient(connect(port, '127.0.0.1'));
  expect(await reply(c)).toMatch(/^220/);
  c.sendLine('USER anonymous');
  expect(await reply(c)).toMatch(/^331/);
  c.sendLine('PASS guest@');
  expect(await reply(c)).toMatch(/^230/);
  c.sendLine('TYPE I');
  expect(await reply(c)).toMatch(/^200/);
  c.sendLine('EPSV');
  const dataPort = Number(/\|\|\|(\d+)\|/.exec(await reply(c))?.[1]);
  const data = connect(dataPort, '127.0.0.1');
  await new Promise<void>((resolve) => data.once('connect', () => resolve()));
  let got = 0;
  let held = false;
  const ended = new Promise<string>((resolve) => {
    data.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    data.on('end', () => resolve('end'));
  });
  data.on('data', (b: Buffer) => {
    got += b.length;
    if (got > 1024 * 1024 && !held) {
      held = true;
      data.pause(); // mid-file: the transfer is in progress when the signal comes
    }
  });
  c.sendLine('RETR big.bin');
  expect(await reply(c)).toMatch(/^150/);
  while (got <= 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
  return { c, data, received: () => got, ended };
}

async function serveFtp(shutdown: Record<string, number>): Promise<SpawnedDaemon> {
  const config = { ftp: { port: 0, root: 'files', anonymous: true }, shutdown };
  await writeFile(join(dir, 'gorgon.yaml'), JSON.stringify(config));
  return new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
}

describe('SIGTERM drains (gorgon serve)', () => {
  it('a transfer in progress finishes within shutdown.timeoutMs, then 421, exit 0', async () => {
    const daemon = await serveFtp({ timeoutMs: 30_000 });
    try {
      const port = await daemon.started('ftpd');
      const download = await startDownload(port);
      const mark = daemon.records.length;
      daemon.child.kill('SIGTERM');
      await daemon.waitFor((r) => r.event === 'shutdown', mark);
      download.data.resume();
      expect(await reply(download.c, 20_000)).toMatch(/^226 /);
      expect(await reply(download.c)).toBe('421 Server shutting down.');
      expect(await download.ended).toBe('end');
      expect(download.received()).toBe(big.length);
      await download.c.closed(5000);
      expect(await daemon.exited()).toBe(0);
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('a transfer still running at the bound is cut (426, 421), and the process exits 0', async () => {
    const daemon = await serveFtp({ timeoutMs: 500 });
    try {
      const port = await daemon.started('ftpd');
      const download = await startDownload(port);
      daemon.child.kill('SIGTERM');
      // The client never reads on: past the bound the transfer is aborted, not waited for.
      expect(await reply(download.c, 10_000)).toBe('426 Transfer aborted.');
      expect(await reply(download.c)).toBe('421 Server shutting down.');
      expect(await daemon.exited()).toBe(0);
      expect(download.received()).toBeLessThan(big.length);
      download.data.destroy();
      download.c.end();
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('shutdown.drainDelayMs: after the signal the listener still accepts for the delay, then closes', async () => {
    const daemon = await serveFtp({ drainDelayMs: 3000, timeoutMs: 1000 });
    try {
      const port = await daemon.started('ftpd');
      const mark = daemon.records.length;
      daemon.child.kill('SIGTERM');
      const draining = await daemon.waitFor((r) => r.event === 'draining', mark);
      expect(draining.msg).toBe('draining: listeners close in 3000 ms');
      // Within the delay a load balancer may still send a client: it is served.
      const late = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await reply(late)).toMatch(/^220/);
      expect(await reply(late)).toBe('421 Server shutting down.');
      expect(await daemon.exited()).toBe(0);
      late.end();
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
