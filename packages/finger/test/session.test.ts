import { describe, expect, it, vi } from 'vitest';
import { Loop } from '@gorgon/core';
import { memoryChannelPair, memoryLogger, transcript } from '@gorgon/core/testing';
import { createFingerServer, MemoryUserDirectory, type FingerUser, type UserDirectory } from '@gorgon/finger';
import { aliceEntry, ask, directory, sessionFor, users } from './fixtures.js';

const script = (lines: readonly string[]): string => lines.map((l) => (l === '' ? 'S:' : `S: ${l}`)).join('\n');

describe('RFC 1288 §2.5.1: {C} lists users', () => {
  it('answers the null query with the user table and closes', async () => {
    await transcript(
      sessionFor(),
      `
      C:
      S: /^Login\\s+Name\\s+Tty\\s+Idle\\s+Login Time\\s+Office$/
      S: /^alice\\s+Alice Liddell\\s+pts\\/1\\s+3m 2024-03-01 12:00 Wonderland, x1865$/
      S: /^bob\\s+Bob Dodgson\\s+-\\s+2023-12-24 08:30$/
      S: /^carol\\s+Carol Liddell\\s+-$/
      S: /^mallory\\s+Mal\\^\\[\\]0;pwned\\^Glory\\s+-$/
      `,
      { expectClose: true },
    );
  });

  it('/W{C} gives every long entry', async () => {
    const { lines } = await ask('/W\r\n');
    expect(lines.slice(0, 8)).toEqual(aliceEntry.map((l) => (l.startsWith('Office:') ? `${l.padEnd(40)}Home Phone: 555-0100` : l)));
    expect(lines).toContain(`${'Login: carol'.padEnd(40)}Name: Carol Liddell`);
    expect(lines.filter((l) => l.startsWith('Login: '))).toHaveLength(4);
  });

  it('§3.2.2: refuses the list when allowList is false, /W too', async () => {
    await transcript(sessionFor({ allowList: false }), 'C:\nS: Finger online user list denied.', { expectClose: true });
    await transcript(sessionFor({ allowList: false }), 'C: /W\nS: Finger online user list denied.', { expectClose: true });
  });

  it('says so when the directory is empty', async () => {
    const empty = new MemoryUserDirectory([]);
    await transcript(sessionFor({ store: empty }), 'C:\nS: No one here.', { expectClose: true });
    await transcript(sessionFor({ store: empty }), 'C: /W\nS: No one here.', { expectClose: true });
  });
});

describe('RFC 1288 §2.5.2–§2.5.4: {U} queries', () => {
  it('{U}{C} gives the user entry', async () => {
    await transcript(sessionFor(), `C: alice\n${script(aliceEntry)}`, { expectClose: true });
  });

  it('/W {U} adds the home phone; /W is case-insensitive, with or without the space', async () => {
    for (const query of ['/W alice', '/w alice', '/Walice', '  /W   alice  ']) {
      const { lines } = await ask(`${query}\r\n`);
      expect(lines[2], query).toBe(`${'Office: Wonderland, x1865'.padEnd(40)}Home Phone: 555-0100`);
    }
    const { lines } = await ask('alice\r\n');
    expect(lines.join('\n')).not.toContain('555-0100');
  });

  it('accepts a bare LF line end', async () => {
    const { lines } = await ask('alice\n');
    expect(lines).toEqual(aliceEntry);
  });

  it('unknown user: one line', async () => {
    await transcript(sessionFor(), 'C: zed\nS: finger: zed: no such user.', { expectClose: true });
  });

  it('§2.5.3: matches real names, case-insensitively, and lists every match', async () => {
    const { lines } = await ask('liddell\r\n');
    expect(lines.filter((l) => l.startsWith('Login: ')).map((l) => l.split(/\s+/)[1])).toEqual(['alice', 'carol']);
    const full = await ask('Bob Dodgson\r\n');
    expect(full.lines[0]).toMatch(/^Login: bob\s/);
    expect(full.lines.filter((l) => l.startsWith('Login: '))).toHaveLength(1);
  });

  it('several names: entries, then a line per unknown name', async () => {
    const { lines } = await ask('bob nobody alice\r\n');
    expect(lines.filter((l) => l.startsWith('Login: ')).map((l) => l.split(/\s+/)[1])).toEqual(['bob', 'alice']);
    expect(lines.slice(-2)).toEqual(['', 'finger: nobody: no such user.']);
  });

  it('does not search when the directory cannot', async () => {
    const dir = directory();
    const noSearch: UserDirectory = { list: () => dir.list(), find: (l) => dir.find(l) };
    await transcript(sessionFor({ store: noSearch }), 'C: Liddell\nS: finger: Liddell: no such user.', { expectClose: true });
  });

  it("a directory's findNow answers the one-login query; null defers to find, undefined goes on to search", async () => {
    const dir = directory();
    const calls: string[] = [];
    const store: UserDirectory = {
      list: () => dir.list(),
      find: (login) => {
        calls.push(`find ${login}`);
        return dir.find(login);
      },
      search: (name) => {
        calls.push(`search ${name}`);
        return dir.search(name);
      },
      findNow: (login) => {
        calls.push(`findNow ${login}`);
        return login === 'bob' ? null : dir.findNow(login);
      },
    };
    expect((await ask('alice\r\n', { store })).lines).toEqual(aliceEntry);
    expect(calls).toEqual(['findNow alice']);
    calls.length = 0;
    expect((await ask('bob\r\n', { store })).lines[0]).toMatch(/^Login: bob\s/);
    expect(calls).toEqual(['findNow bob', 'find bob']);
    calls.length = 0;
    expect((await ask('Liddell\r\n', { store })).lines.filter((l) => l.startsWith('Login: '))).toHaveLength(2);
    expect(calls).toEqual(['findNow Liddell', 'search Liddell']);
    calls.length = 0;
    expect((await ask('zed\r\n', { store })).lines).toEqual(['finger: zed: no such user.']);
    expect(calls).toEqual(['findNow zed', 'search zed']);
    // The same user handed out twice (a frozen entry) gives the same reply, and a changed one the change.
    expect((await ask('alice\r\n', { store })).lines).toEqual(aliceEntry);
    dir.upsert({ ...users[0]!, plan: 'Eat me.' });
    expect((await ask('alice\r\n', { store })).lines.slice(-2)).toEqual(['Plan:', 'Eat me.']);
  });

  it('answers one query per connection: pipelined lines after it are ignored', async () => {
    const { lines } = await ask('zed\r\nalice\r\n');
    expect(lines).toEqual(['finger: zed: no such user.']);
  });
});

describe('RFC 1288 §3.3: user data is escaped to printable ASCII', () => {
  it('escapes control characters and non-ASCII from the directory', async () => {
    const { lines, raw } = await ask('mallory\r\n');
    expect(lines[0]).toBe(`${'Login: mallory'.padEnd(40)}Name: Mal^[]0;pwned^Glory`);
    expect(lines.slice(-3)).toEqual(['Plan:', 'evil ^[[2J clear', 'cafe    tab\\u009b']);
    for (const byte of raw) expect(byte === 0x0d || byte === 0x0a || (byte >= 0x20 && byte < 0x7f)).toBe(true);
    expect(raw.toString('latin1')).not.toMatch(/[^\r]\n/);
  });

  it('escapes the echoed name of an unknown user and cuts it', async () => {
    const { lines } = await ask(`Ünïcödé${'x'.repeat(100)}\r\n`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^finger: \\xdcn\\xefc\\xf6d\\xe9x+\.\.\.: no such user\.$/);
  });
});

describe('RFC 1288 §2.4, §3.2.1: {Q2} forwarding', () => {
  it('is refused by default', async () => {
    await transcript(sessionFor(), 'C: alice@example.org\nS: Finger forwarding service denied.', { expectClose: true });
    await transcript(sessionFor(), 'C: /W @example.org\nS: Finger forwarding service denied.', { expectClose: true });
  });

  it('when enabled, forwards to the next host and relays its reply', async () => {
    await using remote = createFingerServer({ store: directory() });
    const { port } = await remote.listen(0, '127.0.0.1');
    const forwarding = { enabled: true, port };
    await transcript(sessionFor({ forwarding }), `C: alice@127.0.0.1\nS: [127.0.0.1]\n${script(aliceEntry)}`, { expectClose: true });
    const verbose = await ask('/W alice@127.0.0.1\r\n', { forwarding });
    expect(verbose.lines).toContain(`${'Office: Wonderland, x1865'.padEnd(40)}Home Phone: 555-0100`);
    const list = await ask('@127.0.0.1\r\n', { forwarding });
    expect(list.lines[1]).toMatch(/^Login\s+Name/);
    expect(list.records.some((r) => r['event'] === 'forwarded' && r['conn'] === 'finger-t1')).toBe(true);
  });

  it('refuses more @hosts than maxHops', async () => {
    const forwarding = { enabled: true, port: 7 };
    await transcript(sessionFor({ forwarding }), 'C: a@b@c\nS: Finger forwarding denied: more than 1 hop.', { expectClose: true });
    await transcript(
      sessionFor({ forwarding: { ...forwarding, maxHops: 2 } }),
      'C: a@b@c@d\nS: Finger forwarding denied: more than 2 hops.',
      { expectClose: true },
    );
  });

  it('follows a chain within maxHops: each server forwards one hop', async () => {
    await using last = createFingerServer({ store: directory() });
    const lastPort = (await last.listen(0)).port;
    await using middle = createFingerServer({ store: new MemoryUserDirectory([]), forwarding: { enabled: true, port: lastPort } });
    const middlePort = (await middle.listen(0)).port;
    const { lines } = await ask('bob@127.0.0.1@127.0.0.1\r\n', { forwarding: { enabled: true, maxHops: 2, port: middlePort } });
    expect(lines.slice(0, 3)).toEqual(['[127.0.0.1]', '[127.0.0.1]', `${'Login: bob'.padEnd(40)}Name: Bob Dodgson`]);
  });

  it('refuses a port other than the forwarding port', async () => {
    await transcript(
      sessionFor({ forwarding: { enabled: true, port: 7979 } }),
      'C: alice@127.0.0.1:22\nS: Finger forwarding denied: only the finger port can be reached.',
      { expectClose: true },
    );
  });

  it('reports a failed forward in one line and logs why', async () => {
    const closed = createFingerServer({ store: directory() });
    const { port } = await closed.listen(0);
    await closed.close();
    const { lines, records } = await ask('alice@127.0.0.1\r\n', { forwarding: { enabled: true, port } });
    expect(lines).toEqual(['Finger forwarding to 127.0.0.1 failed.']);
    expect(records.find((r) => r['event'] === 'forward-failed')).toMatchObject({ level: 'warn', conn: 'finger-t1' });
  });

  it('relays a hostile remote reply escaped and bounded by forwarding.maxBytes', async () => {
    const forward = async (): Promise<string> => `remote\x1b[31m red\r\n${'y'.repeat(50)}\r\n`;
    await transcript(
      sessionFor({ forwarding: { enabled: true } }, forward),
      `C: x@evil.example\nS: [evil.example]\nS: remote^[[31m red\nS: ${'y'.repeat(50)}`,
      { expectClose: true },
    );
    const { lines } = await ask('x@127.0.0.1\r\n', { forwarding: { enabled: true, maxBytes: 10 } });
    expect(lines[0]).toBe('Finger forwarding to 127.0.0.1 failed.');
  });
});

describe('bad queries: one line, a log line, and the connection closes', () => {
  it.each([
    ['over-long', `${'x'.repeat(600)}alice\r\n`, 'Finger query too long.', 'too-long'],
    ['NUL byte', 'ali\x00ce\r\n', 'Finger query contains invalid characters.', 'binary'],
    ['escape sequence', '\x1b[2J\r\n', 'Finger query contains invalid characters.', 'binary'],
    ['invalid UTF-8', Buffer.from([0x61, 0xff, 0xfe, 0x0d, 0x0a]), 'Finger query contains invalid characters.', 'binary'],
    ['bad grammar', 'alice@\r\n', 'Finger query not understood.', 'syntax'],
    ['too many names', 'a b c d e f g h i\r\n', 'Finger query names more than 8 users.', 'too-many-names'],
  ])('%s', async (_name, query, reply, problem) => {
    const { lines, records, client } = await ask(query);
    expect(lines).toEqual([reply]);
    expect(client.ended).toBe(true);
    expect(records.find((r) => r['event'] === 'bad-query')).toMatchObject({ level: 'warn', conn: 'finger-t1', problem });
  });

  it('an over-long line is refused as soon as the limit is passed, its tail never run', async () => {
    const logger = memoryLogger();
    const { channel, client } = memoryChannelPair({ logger });
    sessionFor({ limits: { maxLineLength: 16 } })(channel);
    client.send('x'.repeat(40));
    expect(await client.line()).toBe('Finger query too long.');
    client.send('\r\nalice\r\n');
    await client.closed();
    expect(client.buffered.toString()).toBe('');
  });
});

describe('failures and timeouts', () => {
  it('a directory that throws gives "temporarily unavailable" and an error log', async () => {
    const broken: UserDirectory = {
      list: () => Promise.reject(new Error('database is down')),
      find: () => Promise.reject(new Error('database is down')),
    };
    for (const query of ['alice\r\n', '\r\n']) {
      const { lines, records } = await ask(query, { store: broken });
      expect(lines).toEqual(['Finger service temporarily unavailable.']);
      const error = records.find((r) => r.level === 'error');
      expect(error).toMatchObject({ conn: 'finger-t1', event: 'directory-error' });
      expect(error?.msg).toContain('database is down');
    }
  });

  it('a directory that throws synchronously is handled the same way', async () => {
    const broken: UserDirectory = {
      list: () => {
        throw new Error('boom');
      },
      find: () => {
        throw new Error('boom');
      },
    };
    for (const query of ['alice\r\n', '/W alice\r\n', 'alice bob\r\n']) {
      const { lines, records } = await ask(query, { store: broken });
      expect(lines).toEqual(['Finger service temporarily unavailable.']);
      expect(records.find((r) => r.level === 'error')).toMatchObject({ event: 'directory-error' });
    }
  });

  it('a findNow that throws is "temporarily unavailable" too', async () => {
    const dir = directory();
    const broken: UserDirectory = {
      list: () => dir.list(),
      find: (login) => dir.find(login),
      findNow: () => {
        throw new Error('cache is corrupt');
      },
    };
    const { lines, records } = await ask('alice\r\n', { store: broken });
    expect(lines).toEqual(['Finger service temporarily unavailable.']);
    expect(records.find((r) => r.level === 'error')?.msg).toContain('cache is corrupt');
  });

  it('a search that fails after the login lookup found nobody is "temporarily unavailable" too', async () => {
    const broken: UserDirectory = {
      list: async () => [],
      find: async () => undefined,
      search: () => Promise.reject(new Error('index is down')),
    };
    const { lines, records } = await ask('Liddell\r\n', { store: broken });
    expect(lines).toEqual(['Finger service temporarily unavailable.']);
    expect(records.find((r) => r.level === 'error')?.msg).toContain('index is down');
  });

  it('a client that sends nothing is closed by the idle timeout', async () => {
    const { channel, client } = memoryChannelPair({ idleTimeoutMs: 40 });
    sessionFor()(channel);
    client.send('ali');
    expect(await client.line(5000)).toBe('Finger query timed out.');
    await client.closed(5000);
  });

  it('says goodbye to a waiting client when the server shuts down', async () => {
    const { channel, client } = memoryChannelPair();
    sessionFor()(channel);
    channel.requestShutdown();
    expect(await client.line()).toBe('Finger service shutting down.');
    await client.closed();
  });

  /** A directory whose find() waits for the test, and a loop the test ticks by hand. */
  function slowLookup(): { loop: Loop; dir: UserDirectory; asked: Promise<void>; release: (user: FingerUser | undefined) => void } {
    let release!: (user: FingerUser | undefined) => void;
    let asked!: () => void;
    const askedPromise = new Promise<void>((resolve) => (asked = resolve));
    const dir: UserDirectory = {
      list: async () => users,
      find: () => {
        asked();
        return new Promise((resolve) => (release = resolve));
      },
    };
    return { loop: new Loop({ tickMs: 3_600_000 }), dir, asked: askedPromise, release: (u) => release(u) };
  }

  it('the idle timeout does not cut off a query being answered', async () => {
    const slow = slowLookup();
    const { channel, client } = memoryChannelPair({ idleTimeoutMs: 1000, closeTimeoutMs: 500, loop: slow.loop });
    sessionFor({ store: slow.dir })(channel);
    client.sendLine('alice');
    await slow.asked;
    const t0 = Date.now();
    slow.loop.tick(t0 + 2_000); // idle notice: declined while answering
    slow.loop.tick(t0 + 2_600); // past closeTimeoutMs: a session that ignored it would be destroyed
    expect(channel.isClosed).toBe(false);
    slow.release(users[0]);
    expect((await client.readToEnd()).toString()).toBe(`${aliceEntry.join('\r\n')}\r\n`);
  });

  it('the total timeout ends a query whose lookup hangs', async () => {
    const slow = slowLookup();
    const { channel, client } = memoryChannelPair({ totalTimeoutMs: 60_000, loop: slow.loop });
    sessionFor({ store: slow.dir })(channel);
    client.sendLine('alice');
    await slow.asked;
    slow.loop.tick(Date.now() + 61_000);
    expect(await client.line()).toBe('Finger query timed out.');
    await client.closed();
    slow.release(users[0]); // the late answer goes nowhere
    await vi.waitFor(() => expect(channel.isClosed).toBe(true));
    expect(client.buffered.length).toBe(0);
  });
});
