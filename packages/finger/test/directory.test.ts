import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryLogger } from '@gorgon/core/testing';
import { contractUsers, userDirectoryContract, type UserDirectoryFactory } from '@gorgon/finger/testing';
import {
  createFingerServer,
  finger,
  JsonUserDirectory,
  loadJsonUsers,
  MemoryUserDirectory,
  SystemUserDirectory,
  type FingerUser,
} from '@gorgon/finger';
import { parseGecos, parsePasswd } from '../src/directory-system.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-finger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const uid = process.getuid?.() ?? 0;

const cast = contractUsers;

/** The same three users in a passwd file with real home directories. */
async function systemCast(users: readonly FingerUser[] = cast): Promise<SystemUserDirectory> {
  const lines = [`daemon:x:${uid + 5}:1:System:/:/usr/sbin/nologin`, '# a comment', 'broken line'];
  for (const user of users) {
    const home = join(dir, user.login);
    await mkdir(home);
    if (user.plan) await writeFile(join(home, '.plan'), user.plan);
    lines.push(`${user.login}:x:${uid}:${uid}:${user.name},${user.office ?? ''},${user.officePhone ?? ''}:${home}:${user.shell}`);
  }
  await writeFile(join(dir, 'passwd'), `${lines.join('\n')}\n`);
  return new SystemUserDirectory({ passwd: join(dir, 'passwd'), minUid: uid, maxUid: uid });
}

const kinds: Array<[string, UserDirectoryFactory]> = [
  ['MemoryUserDirectory', (users) => new MemoryUserDirectory([...users])],
  [
    'JsonUserDirectory',
    async (users) => {
      await writeFile(join(dir, 'users.json'), JSON.stringify({ users }));
      return new JsonUserDirectory(join(dir, 'users.json'));
    },
  ],
  ['SystemUserDirectory', systemCast],
];

describe.each(kinds)('%s: the UserDirectory contract (@gorgon/finger/testing)', (_name, make) => {
  for (const check of userDirectoryContract(make)) it(check.name, check.run);
});

describe('MemoryUserDirectory', () => {
  it('validates its users and can be changed', async () => {
    expect(() => new MemoryUserDirectory([{ login: 'a b' }])).toThrow(/entry 1: "login" must be a string/);
    const d = new MemoryUserDirectory([{ login: 'alice' }]);
    d.upsert({ login: 'alice', loggedIn: true, tty: 'pts/0' });
    d.upsert({ login: 'bob' });
    expect(await d.find('alice')).toEqual({ login: 'alice', loggedIn: true, tty: 'pts/0' });
    expect(d.remove('bob')).toBe(true);
    expect((await d.list()).map((u) => u.login)).toEqual(['alice']);
  });
});

describe('loadJsonUsers: one clear sentence per problem', () => {
  async function load(content: string): Promise<string> {
    const path = join(dir, 'users.json');
    await writeFile(path, content);
    return loadJsonUsers(path).then(
      () => 'loaded',
      (err: Error) => err.message.replace(path, 'FILE'),
    );
  }

  it('reads an array or { users: [...] }, with a BOM', async () => {
    await writeFile(join(dir, 'a.json'), '\ufeff[{"login":"alice","loggedIn":true,"idleSeconds":5,"lastLogin":"2024-03-01T12:00:00Z"}]');
    expect(await loadJsonUsers(join(dir, 'a.json'))).toEqual([
      { login: 'alice', loggedIn: true, idleSeconds: 5, lastLogin: '2024-03-01T12:00:00Z' },
    ]);
    expect(await load('{"users":[{"login":"bob"}]}')).toBe('loaded');
  });

  it.each([
    ['not JSON', '{"users": [', /^Users file FILE is not valid JSON \(.+\)\.$/],
    ['wrong top level', '{"people": []}', /^Users file FILE must hold an array of users or an object with a "users" array\.$/],
    ['users not an array', '{"users": 3}', /^Users file FILE: expected an array of users/],
    ['entry not an object', '["alice"]', /^Users file FILE: entry 1 must be an object with at least a "login"\.$/],
    ['missing login', '[{"name":"x"}]', /^Users file FILE: entry 1: "login" must be a string/],
    ['login with @', '[{"login":"a@b"}]', /"login" must be a string of 1 to 64 characters without spaces, "@"/],
    ['duplicate', '[{"login":"a"},{"login":"a"}]', /^Users file FILE: entry 2 \("a"\): the login "a" appears twice\.$/],
    [
      'bad date',
      '[{"login":"a"},{"login":"bob","lastLogin":"last tuesday"}]',
      /^Users file FILE: entry 2 \("bob"\): "lastLogin" must be an ISO 8601 date such as "2024-03-01T12:00:00Z"\.$/,
    ],
    ['impossible date', '[{"login":"bob","lastLogin":"2024-13-45"}]', /"lastLogin" must be an ISO 8601 date/],
    ['bad boolean', '[{"login":"a","loggedIn":"yes"}]', /"loggedIn" must be true or false\.$/],
    ['negative idle', '[{"login":"a","idleSeconds":-1}]', /"idleSeconds" must be a number of seconds, 0 or more\.$/],
    ['number as name', '[{"login":"a","name":42}]', /"name" must be a string of at most 1024 characters\.$/],
    [
      'unknown field',
      '[{"login":"a","fullName":"A"}]',
      /^Users file FILE: entry 1 \("a"\): unknown field "fullName" \(known fields: login, name,/,
    ],
  ])('%s', async (_name, content, message) => {
    expect(await load(content)).toMatch(message);
  });

  it('a missing file, a directory', async () => {
    await expect(loadJsonUsers(join(dir, 'nope.json'))).rejects.toThrow(`Users file ${join(dir, 'nope.json')} does not exist.`);
    await expect(loadJsonUsers(dir)).rejects.toThrow(`Users file ${dir} is a directory, not a file.`);
  });
});

describe('JsonUserDirectory reloads when the file changes', () => {
  const path = (): string => join(dir, 'users.json');
  const write = async (users: FingerUser[], mtime: number): Promise<void> => {
    await writeFile(path(), JSON.stringify(users));
    await utimes(path(), mtime, mtime);
  };

  it('sees an edit in place and an atomic rename', async () => {
    await write([{ login: 'alice', name: 'Alice' }], 1_700_000_000);
    const d = new JsonUserDirectory(path(), { recheckMs: 0 });
    expect((await d.find('alice'))?.name).toBe('Alice');
    await write([{ login: 'alice', name: 'Alice Liddell' }], 1_700_000_100);
    expect((await d.find('alice'))?.name).toBe('Alice Liddell');
    await writeFile(join(dir, 'next.json'), JSON.stringify([{ login: 'bob' }]));
    await rename(join(dir, 'next.json'), path());
    expect((await d.list()).map((u) => u.login)).toEqual(['bob']);
  });

  it('does not read the file again while it is unchanged', async () => {
    await write([{ login: 'alice' }], 1_700_000_000);
    const d = new JsonUserDirectory(path(), { recheckMs: 0 });
    await d.list();
    // Same size, same inode, same mtime: the cache must not notice, so no read happened.
    await write([{ login: 'zzzzz' }], 1_700_000_000);
    expect((await d.list()).map((u) => u.login)).toEqual(['alice']);
  });

  it('refresh() (SIGHUP) reads the file at once, even an edit that keeps size, inode and mtime', async () => {
    await write([{ login: 'alice' }], 1_700_000_000);
    const d = new JsonUserDirectory(path(), { recheckMs: 60_000 });
    await d.list();
    await write([{ login: 'zzzzz' }], 1_700_000_000);
    expect((await d.list()).map((u) => u.login)).toEqual(['alice']); // within recheckMs: cached
    expect(await d.refresh()).toBe(1);
    expect((await d.list()).map((u) => u.login)).toEqual(['zzzzz']);
    await writeFile(path(), '[{"login":');
    await expect(d.refresh()).rejects.toThrow(/is not valid JSON/);
  });

  it('fails with the sentence while the file is broken, then recovers', async () => {
    await write([{ login: 'alice' }], 1_700_000_000);
    const d = new JsonUserDirectory(path(), { recheckMs: 0 });
    await d.list();
    await writeFile(path(), '[{"login":');
    await utimes(path(), 1_700_000_100, 1_700_000_100);
    await expect(d.find('alice')).rejects.toThrow(/is not valid JSON/);
    await write([{ login: 'alice', name: 'Back' }], 1_700_000_200);
    expect((await d.find('alice'))?.name).toBe('Back');
  });

  it('checks the file at most once per recheckMs (1 s by default): no stat per query', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await write([{ login: 'alice', name: 'Alice' }], 1_700_000_000);
      const d = new JsonUserDirectory(path());
      expect((await d.find('alice'))?.name).toBe('Alice');
      await write([{ login: 'alice', name: 'Alice Liddell' }], 1_700_000_100);
      vi.advanceTimersByTime(900);
      expect((await d.find('alice'))?.name).toBe('Alice');
      vi.advanceTimersByTime(100);
      expect((await d.find('alice'))?.name).toBe('Alice Liddell');
      // A clock stepped back is not trusted: the file is checked.
      await write([{ login: 'alice', name: 'Back' }], 1_700_000_200);
      vi.setSystemTime(Date.now() - 60_000);
      expect((await d.find('alice'))?.name).toBe('Back');
      expect(() => new JsonUserDirectory(path(), { recheckMs: -1 })).toThrow(/recheckMs must be an integer, 0 or more/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('findNow answers from memory while the last check is under recheckMs old; null before the first load and after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await write([{ login: 'alice', name: 'Alice' }], 1_700_000_000);
      const d = new JsonUserDirectory(path());
      expect(d.findNow('alice')).toBeNull(); // not loaded yet: only find can tell
      expect((await d.find('alice'))?.name).toBe('Alice');
      expect(d.findNow('alice')?.name).toBe('Alice');
      expect(d.findNow('zed')).toBeUndefined();
      expect(Object.isFrozen(d.findNow('alice'))).toBe(true);
      vi.advanceTimersByTime(1000);
      expect(d.findNow('alice')).toBeNull(); // due for a check: find stats the file
      expect(new JsonUserDirectory(path(), { recheckMs: 0 }).findNow('alice')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('through the server: a broken file gives "temporarily unavailable" and logs the sentence', async () => {
    await writeFile(path(), '{"users": [{"login": "alice", "lastLogin": "soon"}]}');
    const logger = memoryLogger();
    await using server = createFingerServer({ store: new JsonUserDirectory(path()), logger });
    const { port } = await server.listen(0);
    expect(await finger('alice', { host: '127.0.0.1', port })).toBe('Finger service temporarily unavailable.\n');
    const error = logger.records.find((r) => r.level === 'error');
    expect(error?.msg).toMatch(/"lastLogin" must be an ISO 8601 date/);
    expect(error?.['conn']).toBe('finger-1');
  });
});

describe('SystemUserDirectory', () => {
  it('parses passwd and GECOS the BSD way', () => {
    expect(parsePasswd('a:x:1000:1000:&rthur Dent,Room 1,x42,555:/home/a:/bin/sh\n#c\nbad\nb:x:x:1::/:/\n')).toEqual([
      { login: 'a', uid: 1000, gecos: '&rthur Dent,Room 1,x42,555', home: '/home/a', shell: '/bin/sh' },
    ]);
    expect(parseGecos('& Dent,Room 1,x42,555', 'arthur')).toEqual({
      name: 'Arthur Dent',
      office: 'Room 1',
      officePhone: 'x42',
      homePhone: '555',
    });
    expect(parseGecos('', 'x')).toEqual({});
  });

  it('shows only uids from minUid to maxUid', async () => {
    await writeFile(join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\nsys:x:999:1::/:/\nu1:x:1000:1::/:/\nnobody:x:65534:1::/:/\n');
    const d = new SystemUserDirectory({ passwd: join(dir, 'passwd') });
    expect((await d.list()).map((u) => u.login)).toEqual(['u1']);
    expect(await d.find('root')).toBeUndefined();
  });

  it('reads .plan and .project from the home directory', async () => {
    const d = await systemCast();
    await writeFile(join(dir, 'bob', '.project'), 'Snarks\n');
    expect(await d.find('bob')).toMatchObject({ project: 'Snarks\n', directory: join(dir, 'bob') });
    expect((await d.find('bob'))?.plan).toBeUndefined();
  });

  it('never follows a .plan symlink (RFC 1288 §3.2.4)', async () => {
    const d = await systemCast();
    await writeFile(join(dir, 'secret'), 'root password');
    await symlink(join(dir, 'secret'), join(dir, 'bob', '.plan'));
    expect((await d.find('bob'))?.plan).toBeUndefined();
  });

  it('ignores a .plan the user does not own', async () => {
    await mkdir(join(dir, 'eve'));
    await writeFile(join(dir, 'eve', '.plan'), 'not mine');
    await writeFile(join(dir, 'passwd'), `eve:x:${uid + 1}:1:Eve:${join(dir, 'eve')}:/bin/sh\n`);
    const d = new SystemUserDirectory({ passwd: join(dir, 'passwd'), minUid: 0 });
    expect(await d.find('eve')).toMatchObject({ name: 'Eve' });
    expect((await d.find('eve'))?.plan).toBeUndefined();
  });

  it('does not hang on a FIFO .plan', async () => {
    const d = await systemCast();
    execFileSync('mkfifo', [join(dir, 'bob', '.plan')]);
    expect((await d.find('bob'))?.plan).toBeUndefined();
  });

  it('reads at most maxFileBytes of a plan', async () => {
    await systemCast();
    await writeFile(join(dir, 'bob', '.plan'), 'p'.repeat(10_000));
    const d = new SystemUserDirectory({ passwd: join(dir, 'passwd'), minUid: uid, maxUid: uid, maxFileBytes: 100 });
    expect((await d.find('bob'))?.plan).toBe('p'.repeat(100));
  });

  it('reads .plan and .project again at most once per recheckMs (1 s by default)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const d = await systemCast();
      expect((await d.find('alice'))?.plan).toBe('Follow the white rabbit.\n');
      await writeFile(join(dir, 'alice', '.plan'), 'Gone to tea.\n');
      vi.advanceTimersByTime(900);
      expect((await d.find('alice'))?.plan).toBe('Follow the white rabbit.\n');
      vi.advanceTimersByTime(100);
      expect((await d.find('alice'))?.plan).toBe('Gone to tea.\n');
      const every = new SystemUserDirectory({ passwd: join(dir, 'passwd'), minUid: uid, maxUid: uid, recheckMs: 0 });
      expect((await every.find('alice'))?.plan).toBe('Gone to tea.\n');
      await writeFile(join(dir, 'alice', '.plan'), 'Back.\n');
      expect((await every.find('alice'))?.plan).toBe('Back.\n');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a missing passwd file is one clear sentence; bad options too', async () => {
    const d = new SystemUserDirectory({ passwd: join(dir, 'nope') });
    await expect(d.list()).rejects.toThrow(`Passwd file ${join(dir, 'nope')} cannot be read (ENOENT).`);
    expect(() => new SystemUserDirectory({ minUid: -1 })).toThrow(/minUid must be an integer, 0 or more/);
  });

  it('serves plans through the finger server', async () => {
    await using server = createFingerServer({ store: await systemCast() });
    const { port } = await server.listen(0);
    const reply = await finger('liddell', { host: '127.0.0.1', port });
    expect(reply).toContain('Plan:\nFollow the white rabbit.\n');
    expect(reply).toMatch(/^Login: carol\s+Name: Carol Liddell$/m);
  });
});
