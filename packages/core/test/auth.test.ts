import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  hashPassword,
  LoginThrottle,
  MemoryAuthenticator,
  parsePasswordHash,
  UsersFileAuthenticator,
  verifyPassword,
  loadUsersFile,
} from '@gorgon/core';

const fast = { N: 1024, r: 8, p: 1, keyLength: 32 };
const attempt = (user: string, password: string) => ({ user, password, remoteAddress: '127.0.0.1', secure: false });

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('s3cret', fast);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(parsePasswordHash(hash)).toBeDefined();
    expect(await verifyPassword('s3cret', hash)).toBe(true);
    expect(await verifyPassword('s3cret!', hash)).toBe(false);
    expect(await verifyPassword('s3cret', 'plain-text')).toBe(false);
  });
  it('rejects hashes with absurd parameters', () => {
    expect(parsePasswordHash('scrypt$3$8$1$AAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=')).toBeUndefined();
    expect(parsePasswordHash(`scrypt$${2 ** 24}$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`)).toBeUndefined();
  });
});

describe('UsersFileAuthenticator', () => {
  let dir: string;
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('authenticates, carries attributes, reloads on change, and caches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-auth-'));
    const path = join(dir, 'users.json');
    await writeFile(path, JSON.stringify({ users: [{ name: 'alice', password: await hashPassword('pw', fast), ftp: { root: '/x' } }] }));
    const auth = new UsersFileAuthenticator(path, { reloadCheckMs: 0 });
    const alice = await auth.authenticate(attempt('alice', 'pw'));
    expect(alice).toEqual({ name: 'alice', attributes: { ftp: { root: '/x' } } });
    expect(await auth.authenticate(attempt('alice', 'nope'))).toBeUndefined();
    expect(await auth.authenticate(attempt('bob', 'pw'))).toBeUndefined();
    expect(await auth.lookup('alice')).toEqual(alice);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(path, JSON.stringify({ users: [{ name: 'bob', password: await hashPassword('pw2', fast) }] }));
    expect(await auth.authenticate(attempt('bob', 'pw2'))).toMatchObject({ name: 'bob' });
    expect(await auth.authenticate(attempt('alice', 'pw'))).toBeUndefined();
  });

  it('notices a file rewritten with its old mtime kept (cp -p, rsync -t)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-auth-'));
    const path = join(dir, 'users.json');
    const users = async (password: string) => JSON.stringify({ users: [{ name: 'alice', password: await hashPassword(password, fast) }] });
    await writeFile(path, await users('old-password'));
    const old = Math.floor(Date.now() / 1000) - 60; // whole seconds: set back exactly
    await utimes(path, old, old);
    const before = await stat(path);
    const auth = new UsersFileAuthenticator(path, { reloadCheckMs: 0 });
    expect(await auth.authenticate(attempt('alice', 'old-password'))).toMatchObject({ name: 'alice' });
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(path, await users('new-password'));
    await utimes(path, old, old);
    expect((await stat(path)).mtimeMs).toBe(before.mtimeMs);
    expect(await auth.authenticate(attempt('alice', 'new-password'))).toMatchObject({ name: 'alice' });
    // The cached success of the old password went with the old file.
    expect(await auth.authenticate(attempt('alice', 'old-password'))).toBeUndefined();
  });

  it('explains a broken file in one sentence', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-auth-'));
    const path = join(dir, 'users.json');
    await expect(loadUsersFile(path)).rejects.toThrow(/does not exist/);
    await writeFile(path, '{ nope');
    await expect(loadUsersFile(path)).rejects.toThrow(/not valid JSON/);
    await writeFile(path, JSON.stringify({ users: [{ name: 'a', password: 'plain' }] }));
    await expect(loadUsersFile(path)).rejects.toThrow(/gorgon passwd/);
  });
});

describe('MemoryAuthenticator and LoginThrottle', () => {
  it('checks plain passwords', async () => {
    const auth = new MemoryAuthenticator([{ name: 'u', password: 'p' }]);
    expect(await auth.authenticate(attempt('u', 'p'))).toMatchObject({ name: 'u' });
    expect(await auth.authenticate(attempt('u', 'q'))).toBeUndefined();
    expect(await auth.authenticate(attempt('x', 'p'))).toBeUndefined();
  });
  it('grows the delay per failure and forgets on success', () => {
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 350 });
    expect([t.failed('a', 0), t.failed('a', 1), t.failed('a', 2)]).toEqual([100, 200, 350]);
    expect(t.failures('a', 3)).toBe(3);
    expect(t.failed('b', 3)).toBe(100);
    t.succeeded('a');
    expect(t.failures('a', 4)).toBe(0);
  });
});
