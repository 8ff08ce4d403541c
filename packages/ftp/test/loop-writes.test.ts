/**
 * Upload blocks written on the event loop (DiskFs `loopWrites`): on a local root the blocks of
 * a replacing upload are written with synchronous calls while the kernel's dirty pages are
 * under the background threshold, and go to the thread pool (Node's FileHandle) when they are
 * not, when the figures cannot be read, for a while after a slow write, with `loopWrites:
 * false`, and on a root that is not local. The pool's calls are counted on FileHandle.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  COOL_DOWN_MS,
  DiskFs,
  type DiskFsOptions,
  type DirtyFigures,
  kLoopWriteClock,
  LoopWriteGate,
  readDirtyFigures,
  SLOW_WRITE_MS,
} from '../src/internal.js';
import { fileHandleProbe } from './file-handle-calls.js';
import { testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, sendAll } from './socket-client.js';

/** A clock the test moves, with dirty-page figures it sets; counts how often they were read. */
function fakeClock(figures: DirtyFigures | null = { dirty: 0, background: 100 }) {
  const clock = {
    t: 1_000,
    figures: figures as DirtyFigures | null,
    reads: 0,
    now: () => clock.t,
    dirtyFigures: () => {
      clock.reads++;
      return clock.figures ?? undefined;
    },
  };
  return clock;
}

describe('LoopWriteGate', () => {
  it('is open while dirty pages are under the background threshold, and closed from it up', () => {
    const clock = fakeClock({ dirty: 99, background: 100 });
    const gate = new LoopWriteGate(clock);
    expect(gate.open()).toBe(true);
    clock.figures = { dirty: 100, background: 100 };
    clock.t += 100;
    expect(gate.open()).toBe(false);
    clock.figures = { dirty: 10, background: 100 };
    clock.t += 100;
    expect(gate.open()).toBe(true);
  });

  it('reads the figures at most every 100 ms', () => {
    const clock = fakeClock();
    const gate = new LoopWriteGate(clock);
    for (let i = 0; i < 50; i++) {
      gate.open();
      clock.t += 1;
    }
    expect(clock.reads).toBe(1);
    clock.t += 50;
    gate.open();
    expect(clock.reads).toBe(2);
  });

  it('is closed where the figures cannot be read', () => {
    expect(new LoopWriteGate(fakeClock(null)).open()).toBe(false);
  });

  it(`closes for ${COOL_DOWN_MS} ms after a write slower than ${SLOW_WRITE_MS} ms, then opens again`, () => {
    const clock = fakeClock();
    const gate = new LoopWriteGate(clock);
    const written = gate.run(() => {
      clock.t += SLOW_WRITE_MS;
      return 'fast enough';
    });
    expect(written).toBe('fast enough');
    expect(gate.open()).toBe(true);
    gate.run(() => {
      clock.t += SLOW_WRITE_MS + 1;
    });
    expect(gate.open()).toBe(false);
    clock.t += COOL_DOWN_MS - 1;
    expect(gate.open()).toBe(false);
    clock.t += 1;
    expect(gate.open()).toBe(true);
  });

  it('a write that throws is timed too, and the error goes to the caller', () => {
    const clock = fakeClock();
    const gate = new LoopWriteGate(clock);
    expect(() =>
      gate.run(() => {
        clock.t += SLOW_WRITE_MS * 2;
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      }),
    ).toThrow('no space');
    expect(gate.open()).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('readDirtyFigures', () => {
  it("reads this machine's dirty pages and background threshold", () => {
    const f = readDirtyFigures();
    expect(f).toBeDefined();
    expect(f!.dirty).toBeGreaterThanOrEqual(0);
    expect(f!.background).toBeGreaterThan(0);
  });
});

const probe = fileHandleProbe('gorgon-loopw-');
afterEach(() => probe.cleanup());

/** Counts FileHandle write and writev calls (the thread pool's) from now on; they still run. */
const countPoolWrites = () => probe.count('write', 'writev');

/** Replaces /up.bin with `parts` (write, then writev) through a DiskFs made with `options`. */
async function upload(options: DiskFsOptions & { [kLoopWriteClock]?: unknown }, parts: Buffer[]): Promise<string> {
  const dir = await probe.dir();
  const fs = new DiskFs(dir, options);
  try {
    const file = await fs.openWrite('/up.bin', { mode: 'replace' });
    await file.write(parts[0]!);
    await file.writev!(parts.slice(1));
    await file.commit();
    expect((await readFile(join(dir, 'up.bin'))).equals(Buffer.concat(parts))).toBe(true);
  } finally {
    await fs.close();
  }
  return dir;
}

describe('DiskFs loopWrites', () => {
  const parts = [randomBytes(70_000), randomBytes(1 << 20), randomBytes(5)];

  it('writes a replacing upload on the loop while the gate is open: no FileHandle write', async () => {
    const pool = await countPoolWrites();
    await upload({ fsync: false, [kLoopWriteClock]: fakeClock() }, parts);
    expect(pool.calls).toBe(0);
  });

  it('writes in the pool when dirty pages are at the threshold', async () => {
    const pool = await countPoolWrites();
    await upload({ fsync: false, [kLoopWriteClock]: fakeClock({ dirty: 100, background: 100 }) }, parts);
    expect(pool.calls).toBe(2);
  });

  it('writes in the pool with loopWrites: false, and on a root that is not local', async () => {
    const pool = await countPoolWrites();
    await upload({ fsync: false, loopWrites: false, [kLoopWriteClock]: fakeClock() }, parts);
    expect(pool.calls).toBe(2);
    await upload({ fsync: false, local: false, [kLoopWriteClock]: fakeClock() }, parts);
    expect(pool.calls).toBe(4);
  });

  it('a write after abort fails as a store error, on the loop as in the pool', async () => {
    const dir = await probe.dir();
    const fs = new DiskFs(dir, { fsync: false, [kLoopWriteClock]: fakeClock() } as DiskFsOptions);
    const file = await fs.openWrite('/up.bin', { mode: 'replace' });
    await file.write(Buffer.from('first\n'));
    await file.abort();
    await expect(file.write(Buffer.from('late\n'))).rejects.toMatchObject({ name: 'FsError' });
    await expect(file.writev!([Buffer.from('late\n')])).rejects.toMatchObject({ name: 'FsError' });
    expect(await readdir(dir)).toEqual([]);
    await fs.close();
  });

  it('STOR over a real socket with the default options stores the bytes whole', async () => {
    const dir = await probe.dir();
    await using server = testServer({ store: new DiskFs(dir, { fsync: false }) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    try {
      await login(c);
      const body = randomBytes(3 * 1024 * 1024 + 17);
      const d = await dataConnect(await epsv(c));
      expect(await cmd(c, 'STOR big.bin')).toMatch(/^150 /);
      await sendAll(d, body);
      d.end();
      expect(await c.line(20_000)).toBe('226 Transfer complete.');
      expect((await readFile(join(dir, 'big.bin'))).equals(body)).toBe(true);
    } finally {
      c.end();
    }
  });
});
