import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskFs } from '@gorgon/ftp';
import { testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll } from './socket-client.js';

// Helper threads that die as soon as they are given work (out of memory, killed): the listing
// must still be complete, each lost slice statted on the thread pool instead.
const threads = vi.hoisted(() => ({ made: 0, posted: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  const { EventEmitter } = await import('node:events');
  class DyingWorker extends EventEmitter {
    constructor() {
      super();
      threads.made++;
    }
    ref(): void {}
    unref(): void {}
    postMessage(): void {
      threads.posted++;
      setImmediate(() => this.emit('exit', 1));
    }
    terminate(): Promise<number> {
      return Promise.resolve(1);
    }
  }
  return { ...real, Worker: DyingWorker };
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('large listings when the helper threads die', () => {
  it('LIST and NLST of 600 files still list every file, with its size', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-lister-'));
    dirs.push(root);
    const names = Array.from({ length: 600 }, (_, i) => `f${String(i).padStart(4, '0')}.txt`);
    await Promise.all(names.map((n, i) => writeFile(join(root, n), 'x'.repeat(i % 50))));
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const list = async (verb: string): Promise<string[]> => {
      const d = await dataConnect(await epsv(c));
      const body = readAll(d);
      expect(await cmd(c, verb)).toMatch(/^150/);
      const text = (await body).toString();
      expect(await c.line()).toMatch(/^226/);
      return text.split('\r\n').filter(Boolean);
    };
    const lines = await list('LIST');
    expect(lines).toHaveLength(600);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^-\\S+\\s+\\d+ \\S+\\s+\\S+\\s+${i % 50} .* ${names[i]}$`));
    });
    expect(await list('NLST')).toEqual(names);
    // The threads were asked, and died: the listing above came from the fallback.
    expect(threads.posted).toBeGreaterThan(0);
    expect(threads.made).toBeGreaterThan(0);
    c.end();
    await c.closed();
  });
});
