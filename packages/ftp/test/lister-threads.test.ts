import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker as RealWorker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFtpServer, DiskFs } from '@gorgon/ftp';
import { demoAuth } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll } from './socket-client.js';

// The real helper threads, each recorded: whether it answered, and whether it is gone.
const threads = vi.hoisted(() => ({ made: [] as Array<{ worker: RealWorker; answers: number; exited: boolean; errors: string[] }> }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      const record = { worker: this, answers: 0, exited: false, errors: [] as string[] };
      threads.made.push(record);
      this.on('message', () => record.answers++);
      this.on('error', (err: Error) => record.errors.push(String(err)));
      this.on('exit', () => (record.exited = true));
    }
  }
  return { ...real, Worker: RecordedWorker };
});

const NAMES = Array.from({ length: 600 }, (_, i) => `f${String(i).padStart(4, '0')}.txt`);
let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-threads-'));
  await Promise.all(NAMES.map((n, i) => writeFile(join(root, n), 'x'.repeat(i % 50))));
  return () => rm(root, { recursive: true, force: true });
});
afterEach(() => {
  threads.made.length = 0;
});

/** Every process event with its listener count. */
function processListeners(): Record<string, number> {
  return Object.fromEntries(process.eventNames().map((e) => [String(e), process.listenerCount(e)]));
}

async function listOverSocket(port: number): Promise<string[]> {
  const c = await controlClient(port);
  await login(c);
  const d = await dataConnect(await epsv(c));
  const body = readAll(d);
  expect(await cmd(c, 'NLST')).toMatch(/^150/);
  const text = (await body).toString();
  expect(await c.line()).toMatch(/^226/);
  c.end();
  await c.closed();
  return text.split('\r\n').filter(Boolean);
}

function expectAllAnsweredThenGone(): void {
  expect(threads.made.length).toBeGreaterThan(0);
  // The listing came from the threads (not from the thread-pool fallback) ...
  expect(threads.made.reduce((n, t) => n + t.answers, 0)).toBeGreaterThan(0);
  expect(threads.made.flatMap((t) => t.errors)).toEqual([]);
}

describe('helper threads of large listings belong to their owner (issue 10)', () => {
  it("a server's own DiskFs: made at the first large listing, ended by close(); no process listener added", async () => {
    const listeners = processListeners();
    const server = createFtpServer({ root, auth: demoAuth(), throttle: { baseDelayMs: 1, maxDelayMs: 2 } });
    const { port } = await server.listen(0, '127.0.0.1');
    expect(threads.made).toHaveLength(0); // none at start: made when first needed
    expect(await listOverSocket(port)).toEqual(NAMES);
    expectAllAnsweredThenGone();
    expect(threads.made.some((t) => !t.exited)).toBe(true);
    await server.close();
    // ... and no thread outlives the server.
    expect(threads.made.map((t) => t.exited)).toEqual(threads.made.map(() => true));
    expect(processListeners()).toEqual(listeners);
  });

  it('a DiskFs given to the server is closed with it', async () => {
    const server = createFtpServer({ store: new DiskFs(root), auth: demoAuth(), throttle: { baseDelayMs: 1, maxDelayMs: 2 } });
    const { port } = await server.listen(0, '127.0.0.1');
    expect(await listOverSocket(port)).toEqual(NAMES);
    expectAllAnsweredThenGone();
    await server.close();
    expect(threads.made.every((t) => t.exited)).toBe(true);
  });

  it('DiskFs.close() ends its threads; a later large listing makes new ones', async () => {
    const fs = new DiskFs(root);
    expect((await fs.list('/')).map((s) => s.name)).toEqual(NAMES);
    expectAllAnsweredThenGone();
    const first = threads.made.length;
    await fs.close();
    expect(threads.made.every((t) => t.exited)).toBe(true);
    const again = await fs.list('/');
    expect(again.map((s) => s.size)).toEqual(NAMES.map((_, i) => i % 50));
    expect(threads.made.length).toBeGreaterThan(first);
    await fs[Symbol.asyncDispose]();
    expect(threads.made.every((t) => t.exited)).toBe(true);
  });
});
