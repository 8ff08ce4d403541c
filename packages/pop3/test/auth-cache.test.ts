import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, UsersFileAuthenticator, type UsersFileOptions } from '@gorgon/core';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { createPop3Server, deliver, MaildirStore } from '../src/internal.js';

// The users-file authenticator's cache of successful logins (as Dovecot's auth_cache), seen
// through a POP3 server on a loopback socket: what is cached, and when a change is honoured.
const fast = { N: 1024, r: 8, p: 1, keyLength: 32 };

let dir: string;
let guard: ReturnType<typeof leakGuard>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-pop3-authcache-'));
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
  await rm(dir, { recursive: true, force: true });
});

async function writeUsers(users: Record<string, string>): Promise<void> {
  const list = await Promise.all(Object.entries(users).map(async ([name, pw]) => ({ name, password: await hashPassword(pw, fast) })));
  await writeFile(join(dir, 'users.json'), JSON.stringify({ users: list }));
}

async function start(options: UsersFileOptions) {
  await deliver(join(dir, 'mail'), 'alice', 'Subject: hi\r\n\r\nhello\r\n');
  const server = createPop3Server({
    store: new MaildirStore(join(dir, 'mail')),
    auth: new UsersFileAuthenticator(join(dir, 'users.json'), options),
    mechanisms: ['user'],
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    limits: { maxAuthFailures: 10 },
  });
  const { port } = await server.listen(0);
  return { server, port };
}

/** One connection: USER/PASS, the PASS reply, then QUIT after a success. */
async function login(port: number, user: string, password: string): Promise<string> {
  const client = new MemoryClient(connect(port, '127.0.0.1'));
  await client.line(5000);
  client.sendLine(`USER ${user}`);
  await client.line(5000);
  client.sendLine(`PASS ${password}`);
  const reply = await client.line(5000);
  client.sendLine('QUIT');
  await client.line(5000);
  await client.closed(5000);
  return reply;
}

const ok = /^\+OK maildrop has 1 message/;
const refused = '-ERR [AUTH] authentication failed';

describe('auth cache of the users file, through a POP3 server', () => {
  it('never caches a wrong password as a success, nor one user’s password for another', async () => {
    await writeUsers({ alice: 'wonderland', bob: 'builder' });
    await using s = (await start({ cacheTtlMs: 60_000 })).server;
    const { port } = s.address()!;
    expect(await login(port, 'alice', 'wrong')).toBe(refused);
    expect(await login(port, 'alice', 'wonderland')).toMatch(ok);
    // alice's success is cached now: wrong passwords and other users still get a real check.
    expect(await login(port, 'alice', 'wrong')).toBe(refused);
    expect(await login(port, 'alice', 'wonderland ')).toBe(refused);
    expect(await login(port, 'bob', 'wonderland')).toBe(refused);
    expect(await login(port, 'alice', 'wonderland')).toMatch(ok);
  });

  it('honours a changed password, and a removed user, as soon as the file is reloaded, within the cache lifetime', async () => {
    await writeUsers({ alice: 'wonderland', bob: 'builder' });
    await using s = (await start({ cacheTtlMs: 60_000, reloadCheckMs: 50 })).server;
    const { port } = s.address()!;
    expect(await login(port, 'alice', 'wonderland')).toMatch(ok);
    expect(await login(port, 'alice', 'wonderland')).toMatch(ok); // from the cache
    await new Promise((resolve) => setTimeout(resolve, 20)); // a later mtime
    await writeUsers({ alice: 'looking-glass' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // past reloadCheckMs
    expect(await login(port, 'alice', 'wonderland')).toBe(refused);
    expect(await login(port, 'alice', 'looking-glass')).toMatch(ok);
    expect(await login(port, 'bob', 'builder')).toBe(refused);
  });

  it('with the cache off (cacheTtlMs 0), every login is checked against the file', async () => {
    await writeUsers({ alice: 'wonderland' });
    await using s = (await start({ cacheTtlMs: 0, reloadCheckMs: 0 })).server;
    const { port } = s.address()!;
    expect(await login(port, 'alice', 'wonderland')).toMatch(ok);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeUsers({ alice: 'looking-glass' });
    expect(await login(port, 'alice', 'wonderland')).toBe(refused);
    expect(await login(port, 'alice', 'looking-glass')).toMatch(ok);
  });
});
