import { createHash, randomBytes } from 'node:crypto';
import { rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DiskFs } from '@gorgon/ftp';
import { leakGuard } from '@gorgon/core/testing';
import { plantedRoot, testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll } from './socket-client.js';

// A hook run right after the small-file path's fstat, to change the file between its stat and
// its read (another process could do that at any moment).
const hooks = vi.hoisted(() => ({ afterFstat: undefined as (() => void) | undefined, fstats: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fstatSync: ((...args: Parameters<typeof fs.fstatSync>) => {
      const st = fs.fstatSync(...args);
      hooks.fstats++;
      const hook = hooks.afterFstat;
      hooks.afterFstat = undefined;
      hook?.();
      return st;
    }) as typeof fs.fstatSync,
  };
});

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  hooks.afterFstat = undefined;
  await guard.check(2000);
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const setup = () => plantedRoot(dirs, 'gorgon-ftp-small-');

/** RETR over EPSV: the 150 line, the bytes, the final reply. */
async function retr(c: Awaited<ReturnType<typeof controlClient>>, path: string): Promise<{ opening: string; body: Buffer; done: string }> {
  const d = await dataConnect(await epsv(c));
  const got = readAll(d);
  const opening = await cmd(c, `RETR ${path}`);
  if (!opening.startsWith('150')) {
    d.destroy();
    return { opening, body: Buffer.alloc(0), done: '' };
  }
  return { opening, body: await got, done: await c.line() };
}

describe('RETR of small files from disk, read with synchronous calls', () => {
  it('sends byte-identical content at every size around the limit, from REST offsets and in TYPE A', async () => {
    const { root } = await setup();
    const limit = 64 * 1024;
    const sizes = [0, 1, 4096, limit - 1, limit, limit + 1, 300 * 1024];
    const bodies = new Map<number, Buffer>();
    for (const size of sizes) {
      const body = randomBytes(size);
      bodies.set(size, body);
      await writeFile(join(root, `f${size}.bin`), body);
    }
    await writeFile(join(root, 'text.txt'), 'one\ntwo\r\nthree\n');
    await symlink(join(root, 'f4096.bin'), join(root, 'pub', 'inside-link'));
    await symlink(join(root, 'f4096.bin'), join(root, 'top-link')); // in the root itself
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    for (const size of sizes) {
      const before = hooks.fstats;
      const r = await retr(c, `f${size}.bin`);
      expect(r.opening).toBe(`150 Opening BINARY mode data connection for f${size}.bin (${size} bytes).`);
      expect(sha(r.body)).toBe(sha(bodies.get(size)!));
      expect(r.done).toBe('226 Transfer complete.');
      // Up to the limit the file was read on the small-file path (once the root was known).
      if (size > 0) expect(hooks.fstats - before).toBe(1);
    }
    for (const offset of [1, 100, 4095, 4096]) {
      expect(await cmd(c, `REST ${offset}`)).toMatch(/^350 /);
      const r = await retr(c, 'f4096.bin');
      expect(r.opening).toBe(`150 Opening BINARY mode data connection for f4096.bin (${4096 - offset} bytes).`);
      expect(sha(r.body)).toBe(sha(bodies.get(4096)!.subarray(offset)));
      expect(r.done).toBe('226 Transfer complete.');
    }
    expect(await cmd(c, 'REST 4097')).toMatch(/^350 /);
    expect((await retr(c, 'f4096.bin')).opening).toBe('554 REST offset is past the end of the file.');
    const linked = await retr(c, 'pub/inside-link');
    expect(sha(linked.body)).toBe(sha(bodies.get(4096)!));
    const topLinked = await retr(c, 'top-link');
    expect(sha(topLinked.body)).toBe(sha(bodies.get(4096)!));
    expect(await cmd(c, 'TYPE A')).toMatch(/^200 /);
    const text = await retr(c, 'text.txt');
    expect(text.body.toString()).toBe('one\r\ntwo\r\nthree\r\n');
    expect(text.done).toBe('226 Transfer complete.');
    c.end();
    await c.closed();
  });

  it('still refuses symlinks out of the root, NUL, directories and missing files', async () => {
    const { root, outside } = await setup();
    await writeFile(join(root, 'ok.txt'), 'ok');
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    expect((await retr(c, 'ok.txt')).body.toString()).toBe('ok'); // the root is known from now on
    await symlink(join(outside, 'secret.txt'), join(root, 'top-secret-link')); // in the root itself
    await symlink(outside, join(root, 'top-escape'));
    for (const path of [
      'pub/secret-link',
      'pub/escape/secret.txt',
      '../outside/secret.txt',
      '/../../outside/secret.txt',
      'top-secret-link',
      'top-escape/secret.txt',
      '/top-secret-link',
    ]) {
      const r = await retr(c, path);
      expect(r.body.toString()).not.toContain('secret');
      expect(r.opening).toMatch(/^550 /);
    }
    expect((await retr(c, 'pub')).opening).toBe('550 Is a directory.');
    expect((await retr(c, 'missing.txt')).opening).toBe('550 No such file or directory.');
    c.sendLine('RETR ok\0.txt');
    expect(await c.line()).toMatch(/^(501|550|553) /);
    // A symlink planted after login is refused too: paths are resolved on every access.
    await symlink(join(outside, 'secret.txt'), join(root, 'late-link'));
    expect((await retr(c, 'late-link')).opening).toBe('550 Permission denied.');
    c.end();
    await c.closed();
  });

  it('sends the size seen at open when the file grows, and what is left when it shrinks', async () => {
    const { root } = await setup();
    const body = randomBytes(8192);
    const file = join(root, 'moving.bin');
    await writeFile(file, body);
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    await retr(c, 'moving.bin');
    const fsSync = await import('node:fs');
    hooks.afterFstat = () => fsSync.appendFileSync(file, Buffer.alloc(1000, 7));
    const grown = await retr(c, 'moving.bin');
    expect(grown.opening).toMatch(/\(8192 bytes\)/);
    expect(sha(grown.body)).toBe(sha(body));
    expect(grown.done).toBe('226 Transfer complete.');
    await truncate(file, 8192);
    hooks.afterFstat = () => fsSync.truncateSync(file, 100);
    const shrunk = await retr(c, 'moving.bin');
    expect(sha(shrunk.body)).toBe(sha(body.subarray(0, 100)));
    expect(shrunk.done).toBe('226 Transfer complete.');
    c.end();
    await c.closed();
  });

  it.each([
    [
      'for a root on a network filesystem (createFtpServer disk: { local: false })',
      (root: string) => ({ store: undefined, root, disk: { local: false } }),
    ],
    ['with smallFileBytes: 0', (root: string) => ({ store: new DiskFs(root, { smallFileBytes: 0 }) })],
  ] as const)('is off %s: RETR reads on the thread pool', async (_what, options) => {
    const { root } = await setup();
    await writeFile(join(root, 'ok.txt'), 'ok');
    await using server = testServer(options(root));
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    await retr(c, 'ok.txt'); // the first resolves the root
    const before = hooks.fstats;
    const r = await retr(c, 'ok.txt');
    expect(r.body.toString()).toBe('ok');
    expect(hooks.fstats).toBe(before);
    c.end();
    await c.closed();
  });
});
