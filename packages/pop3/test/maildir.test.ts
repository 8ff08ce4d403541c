import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryAuthenticator, outputBuffers } from '@gorgon/core';
import { removeDeadTemplates } from '../src/maildir-lock.js';
import { MessageFileProducer } from '../src/message-file-producer.js';
import {
  acquireMaildirLock,
  createPop3Context,
  deliver,
  MAILDIR_LOCK_NAME,
  MaildirStore,
  parseMaildirName,
  wireSize,
} from '../src/internal.js';
import { loginAlice, play, startSession } from './helpers.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-maildir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const lockPath = (user: string): string => join(root, user, MAILDIR_LOCK_NAME);

async function writeLock(user: string, info: object | string, ageMs = 0): Promise<void> {
  await mkdir(join(root, user), { recursive: true });
  await writeFile(lockPath(user), typeof info === 'string' ? info : JSON.stringify(info));
  if (ageMs > 0) {
    const then = new Date(Date.now() - ageMs);
    await utimes(lockPath(user), then, then);
  }
}

describe('deliver (Maildir tmp/ then new/)', () => {
  it('writes into new/ with S= and W= sizes and leaves tmp/ empty', async () => {
    const message = 'Subject: x\n\nbare\n';
    const d = await deliver(root, 'alice', message);
    expect(await readdir(join(root, 'alice', 'tmp'))).toEqual([]);
    const [name] = await readdir(join(root, 'alice', 'new'));
    expect(name).toBe(d.path.split('/').pop());
    expect(parseMaildirName(name!)).toMatchObject({ rawSize: message.length, wireSize: wireSize(Buffer.from(message)) });
    expect(await readFile(d.path, 'utf8')).toBe(message);
    expect((await stat(d.path)).mode & 0o777).toBe(0o600);
  });

  it('streams from an async iterable and leaves nothing behind when the source fails', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: half\r\n');
      throw new Error('source died');
    }
    await expect(deliver(root, 'alice', broken())).rejects.toThrow('source died');
    expect(await readdir(join(root, 'alice', 'tmp'))).toEqual([]);
    expect(await readdir(join(root, 'alice', 'new'))).toEqual([]);
  });

  it('refuses user names that could escape the root', async () => {
    for (const bad of ['../x', 'a/b', '..', '', 'a\0b', '.hidden']) {
      await expect(deliver(root, bad, 'x')).rejects.toMatchObject({ code: 'invalid-user' });
    }
    const store = new MaildirStore(root);
    await expect(store.open('../etc')).rejects.toMatchObject({ code: 'invalid-user' });
  });
});

describe('MaildirStore', () => {
  it('moves new/ to cur/ on open and keeps flags-changed messages readable under the same uid', async () => {
    await deliver(root, 'alice', 'Subject: 1\r\n\r\nbody\r\n');
    const store = new MaildirStore(root);
    const drop = await store.open('alice');
    expect(await readdir(join(root, 'alice', 'new'))).toEqual([]);
    const [cur] = await readdir(join(root, 'alice', 'cur'));
    expect(cur).toMatch(/:2,$/);
    // An IMAP server marks it seen while we hold the POP3 lock.
    await rename(join(root, 'alice', 'cur', cur!), join(root, 'alice', 'cur', `${cur}S`));
    const producer = await drop.read(0);
    expect(String(await producer.more())).toBe('Subject: 1\r\n\r\nbody\r\n');
    await producer.close?.();
    const uid = drop.messages[0]!.uid;
    expect(await drop.commit(new Set([0]))).toEqual({ failed: 0 });
    expect(await readdir(join(root, 'alice', 'cur'))).toEqual([]);
    expect(uid).not.toContain(':');
  });

  it('reads ahead in order, and still serves the right bytes out of order, after a rename, or a removal', async () => {
    for (let i = 1; i <= 4; i++) await deliver(root, 'alice', `Subject: ${i}\r\n\r\n${i}\r\n`);
    const drop = await new MaildirStore(root).open('alice');
    const text = async (i: number) => {
      const p = await drop.read(i);
      const chunk = await p.more();
      await p.close?.();
      return String(chunk);
    };
    expect(await text(0)).toBe('Subject: 1\r\n\r\n1\r\n'); // message 2 is opened ahead now
    const cur = (await readdir(join(root, 'alice', 'cur'))).sort();
    await rename(join(root, 'alice', 'cur', cur[1]!), join(root, 'alice', 'cur', `${cur[1]}S`));
    expect(await text(1)).toBe('Subject: 2\r\n\r\n2\r\n');
    expect(await text(3)).toBe('Subject: 4\r\n\r\n4\r\n'); // not the one read ahead
    await unlink(join(root, 'alice', 'cur', cur[2]!));
    await expect(drop.read(2)).rejects.toMatchObject({ code: 'gone' });
    await drop.release(); // closes what was opened ahead (the leak guard of the socket tests checks handles)
  });

  it('readNow gives a small message at once, and leaves large or renamed ones to read()', async () => {
    await deliver(root, 'alice', 'Subject: 1\r\n\r\nsmall\r\n');
    await deliver(root, 'alice', `Subject: 2\r\n\r\n${'x'.repeat(70 * 1024)}\r\n`);
    await deliver(root, 'alice', 'Subject: 3\r\n\r\nrenamed\r\n');
    await deliver(root, 'alice', 'Subject: 4\r\n\r\ngrown\r\n');
    const drop = await new MaildirStore(root).open('alice');
    const cur = (await readdir(join(root, 'alice', 'cur'))).sort();
    expect(String(drop.readNow!(0))).toBe('Subject: 1\r\n\r\nsmall\r\n');
    expect(drop.readNow!(1)).toBeUndefined(); // over 64 KiB: streamed
    await rename(join(root, 'alice', 'cur', cur[2]!), join(root, 'alice', 'cur', `${cur[2]}S`));
    expect(drop.readNow!(2)).toBeUndefined(); // found again by read()
    const producer = await drop.read(2);
    expect(String(await producer.more())).toBe('Subject: 3\r\n\r\nrenamed\r\n');
    // A file longer than its S= says (edited in place): the bytes on disk are sent.
    await writeFile(join(root, 'alice', 'cur', cur[3]!), 'Subject: 4\r\n\r\ngrown by hand\r\n');
    expect(String(drop.readNow!(3))).toBe('Subject: 4\r\n\r\ngrown by hand\r\n');
    expect(() => drop.readNow!(9)).toThrow(expect.objectContaining({ code: 'gone' }));
    await drop.release();
  });

  it('readNow reads each small message into the memory of the last (good until the next call), whatever their sizes', async () => {
    const sizes = [5000, 100, 3000, 60_000, 10, 20_000];
    const bodies = sizes.map((n, i) => `Subject: ${i}\r\n\r\n${String.fromCharCode(97 + i).repeat(n)}\r\n`);
    for (const body of bodies) await deliver(root, 'alice', body);
    const drop = await new MaildirStore(root).open('alice');
    const seen: ArrayBufferLike[] = [];
    for (let i = 0; i < bodies.length; i++) {
      const data = drop.readNow!(i)!;
      expect(data.toString(), `message ${i + 1}`).toBe(bodies[i]);
      seen.push(data.buffer);
      // Until this run of code is over, nobody else gets its memory.
      const other = outputBuffers.take(64 * 1024);
      expect(other.buffer).not.toBe(data.buffer);
      outputBuffers.give(other);
      // The next message is read at once, not ahead: the loop's check phase has not run.
    }
    // One buffer for the messages up to 16 KiB, one more once a larger message came.
    expect(new Set(seen).size).toBeLessThanOrEqual(2);
    // Once this run of code is over, the last one is back in the process's recycled buffers:
    // an open maildrop between RETRs holds none.
    const kept = outputBuffers.keptBytes;
    await Promise.resolve();
    expect(outputBuffers.keptBytes).toBeGreaterThan(kept);
    expect(outputBuffers.take(64 * 1024).buffer).toBe(seen.at(-1));
    await drop.release();
  });

  it('local: false (a network file system) reads nothing synchronously: readNow declines, read() streams', async () => {
    await deliver(root, 'alice', 'Subject: 1\r\n\r\nsmall\r\n');
    await deliver(root, 'alice', '');
    for (const local of [true, false]) {
      const drop = await new MaildirStore(root, { local }).open('alice');
      const producer = await drop.read(0);
      expect(producer instanceof MessageFileProducer).toBe(!local);
      expect(String(await producer.more())).toBe('Subject: 1\r\n\r\nsmall\r\n');
      if (local) expect(String(drop.readNow!(0))).toBe('Subject: 1\r\n\r\nsmall\r\n');
      else expect(drop.readNow!(0)).toBeUndefined();
      // An empty message (S=0) too: 0 bytes is not "at most the synchronous limit" when it is off.
      if (!local) expect(drop.readNow!(1)).toBeUndefined();
      await drop.release();
    }
  });

  it('readNow leaves at most one descriptor open, and none once the caller has run on', async () => {
    for (let i = 0; i < 50; i++) await deliver(root, 'alice', `Subject: ${i}\r\n\r\nbody ${i}\r\n`);
    const drop = await new MaildirStore(root).open('alice');
    const open = async () => (await readdir('/proc/self/fd')).length;
    const before = await open();
    // Fifty reads in one synchronous stretch (a pipelined batch): each closes the one before.
    const bodies = Array.from({ length: 50 }, (_, i) => String(drop.readNow!(i)));
    expect(bodies[49]).toBe('Subject: 49\r\n\r\nbody 49\r\n');
    expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before + 1);
    await Promise.resolve(); // the deferred close runs in a microtask
    expect(await open()).toBeLessThanOrEqual(before);
    await drop.release();
  });

  it('measures messages delivered by other programs (no W= in the name)', async () => {
    await mkdir(join(root, 'alice', 'cur'), { recursive: true });
    await mkdir(join(root, 'alice', 'new'), { recursive: true });
    const foreign = 'Subject: postfix\n\nline\n.dot\n';
    await writeFile(join(root, 'alice', 'new', '1700000000.V801I2M3.mx.example.org'), foreign);
    await writeFile(join(root, 'alice', 'cur', '1600000000.V801I1M2.mx.example.org:2,S'), 'old\r\n');
    await writeFile(join(root, 'alice', 'cur', '.hidden'), 'not mail');
    const drop = await new MaildirStore(root).open('alice');
    expect(drop.messages).toEqual([
      { uid: '1600000000.V801I1M2.mx.example.org', size: 5 },
      { uid: '1700000000.V801I2M3.mx.example.org', size: wireSize(Buffer.from(foreign)) },
    ]);
    await drop.release();
  });

  it('reports a message removed by another program as gone, and RETR answers [SYS/TEMP]', async () => {
    await deliver(root, 'alice', 'Subject: 1\r\n\r\n1\r\n');
    await deliver(root, 'alice', 'Subject: 2\r\n\r\n2\r\n');
    const ctx = createPop3Context({
      store: new MaildirStore(root),
      auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
    });
    const { client } = startSession(ctx);
    expect(await loginAlice(client)).toMatch(/^\+OK maildrop has 2/);
    const [first] = (await readdir(join(root, 'alice', 'cur'))).sort();
    await unlink(join(root, 'alice', 'cur', first!));
    await play(
      client,
      `
      C: RETR 1
      S: -ERR [SYS/TEMP] message no longer available
      C: DELE 1
      S: +OK message 1 deleted
      C: RETR 2
      S: /^\\+OK \\d+ octets/
      S: Subject: 2
      S:
      S: 2
      S: .
      C: QUIT
      S: +OK Gorgon POP3 server signing off (1 message left)
    `,
    );
    expect(await readdir(join(root, 'alice', 'cur'))).toHaveLength(1);
  });

  it('opens a big maildrop of foreign messages (no sizes in the names) with correct sizes and order', async () => {
    const count = 2500;
    await mkdir(join(root, 'big', 'new'), { recursive: true });
    await mkdir(join(root, 'big', 'cur'), { recursive: true });
    const bodies = Array.from({ length: count }, (_, i) => `Subject: ${i}\n\n${'.x\n'.repeat(i % 7)}end\n`);
    // Written by "another MTA": Maildir names without ,S= or ,W=, half in new/, half in cur/.
    for (let i = 0; i < count; i += 250) {
      await Promise.all(
        bodies.slice(i, i + 250).map((b, k) => {
          const n = i + k;
          const name = `${1_700_000_000 + n}.V1I${n}M1.mx.example.org`;
          return writeFile(join(root, 'big', n % 2 ? 'new' : 'cur', n % 2 ? name : `${name}:2,`), b);
        }),
      );
    }
    const drop = await new MaildirStore(root, { concurrency: 16 }).open('big');
    expect(drop.messages).toHaveLength(count);
    expect(drop.messages.map((m) => m.size)).toEqual(bodies.map((b) => wireSize(Buffer.from(b))));
    expect(await readdir(join(root, 'big', 'new'))).toEqual([]);
    await drop.release();
  });

  it('sees every message delivered concurrently with opens, and loses none', async () => {
    const store = new MaildirStore(root);
    const deliveries = Array.from({ length: 40 }, (_, i) => deliver(root, 'alice', `Subject: ${i}\r\n\r\n${i}\r\n`));
    const seen = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const drop = await store.open('alice');
      for (const m of drop.messages) seen.add(m.uid);
      await drop.release();
    }
    const delivered = await Promise.all(deliveries);
    const drop = await store.open('alice');
    for (const m of drop.messages) seen.add(m.uid);
    expect(drop.messages).toHaveLength(40);
    expect([...seen].sort()).toEqual(delivered.map((d) => d.uid).sort());
    await drop.release();
  });
});

describe('Maildir lock file (O_EXCL, stale recovery)', () => {
  afterAll(async () => {
    // Templates in the temporary directory (the fallback) of stores these tests do not close.
    const mine = (await readdir(tmpdir())).filter((n) => n.startsWith('.gorgon-pop3-lock-') && n.includes(`-${process.pid}-`));
    await Promise.all(mine.map((n) => rm(join(tmpdir(), n), { force: true })));
  });

  it('refuses while a live process on this host holds the lock', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeLock('alice', { pid: child.pid, host: hostname(), token: 'other-process' });
      await expect(new MaildirStore(root).open('alice')).rejects.toMatchObject({ code: 'in-use' });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    }
    // Now that process is dead: its lock is stale and broken.
    const drop = await new MaildirStore(root).open('alice');
    expect(JSON.parse(await readFile(lockPath('alice'), 'utf8'))).toMatchObject({ pid: process.pid });
    await drop.release();
    await expect(stat(lockPath('alice'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('breaks a leftover lock with our own pid that this process does not hold', async () => {
    await writeLock('alice', { pid: process.pid, host: hostname(), token: 'from-an-earlier-life' });
    const drop = await new MaildirStore(root).open('alice');
    await drop.release();
  });

  it('respects a fresh lock from another host, and breaks it once it is older than staleLockMs', async () => {
    await writeLock('alice', { pid: 1, host: 'other-host.example', token: 't' });
    await expect(new MaildirStore(root).open('alice')).rejects.toMatchObject({ code: 'in-use' });
    await writeLock('alice', { pid: 1, host: 'other-host.example', token: 't' }, 60_000);
    const drop = await new MaildirStore(root, { staleLockMs: 30_000 }).open('alice');
    await drop.release();
  });

  it('removes the lock templates of dead processes on this host, and only those', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const other = tag === '00000000' ? '11111111' : '00000000';
    const deadTemplate = join(root, `.gorgon-pop3-lock-${tag}-${child.pid}-0123456789abcdef`);
    const liveTemplate = join(root, `.gorgon-pop3-lock-${tag}-${process.ppid}-0123456789abcdef`);
    const otherHost = join(root, `.gorgon-pop3-lock-${other}-${child.pid}-0123456789abcdef`);
    // An earlier version's name: judged in the temporary directory only (where it kept them).
    const legacyInRoot = join(root, `gorgon-pop3-lock-${child.pid}-0123456789abcdef`);
    const legacyInTmp = join(tmpdir(), `gorgon-pop3-lock-${child.pid}-0123456789abcdef`);
    for (const t of [deadTemplate, liveTemplate, otherHost, legacyInRoot, legacyInTmp]) await writeFile(t, '{}');
    try {
      await removeDeadTemplates(root);
      await expect(stat(deadTemplate)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await stat(liveTemplate)).isFile()).toBe(true);
      expect((await stat(otherHost)).isFile()).toBe(true);
      expect((await stat(legacyInRoot)).isFile()).toBe(true);
      await removeDeadTemplates();
      await expect(stat(legacyInTmp)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(legacyInTmp, { force: true });
    }
  });

  it('takes O_EXCL copies of a template in the temporary directory when the root is not writable', async (ctx) => {
    await deliver(root, 'alice', 'Subject: x\r\n\r\nx\r\n');
    // An immutable root (only its users' Maildirs writable); as root, permissions would not stop us.
    if (spawnSync('chattr', ['+i', root]).status !== 0) return ctx.skip();
    try {
      const drop = await new MaildirStore(root).open('alice');
      const lock = await stat(lockPath('alice'));
      expect(lock.nlink).toBe(1);
      expect(JSON.parse(await readFile(lockPath('alice'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
      await expect(new MaildirStore(root).open('alice')).rejects.toMatchObject({ code: 'in-use' });
      await drop.release();
      await expect(stat(lockPath('alice'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      spawnSync('chattr', ['-i', root]);
    }
  });

  it('takes the lock as a hard link to a template in the root, which outlives the lock', async () => {
    await deliver(root, 'alice', 'Subject: x\r\n\r\nx\r\n');
    const store = new MaildirStore(root);
    const drop = await store.open('alice');
    const template = (await readdir(root)).find((n) => n.startsWith('.gorgon-pop3-lock-'));
    expect(template).toBeDefined();
    const [lock, tpl] = await Promise.all([stat(lockPath('alice')), stat(join(root, template!))]);
    expect(lock.ino).toBe(tpl.ino);
    expect(JSON.parse(await readFile(lockPath('alice'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await expect(new MaildirStore(root).open('alice')).rejects.toMatchObject({ code: 'in-use' });
    await drop.release();
    await expect(stat(lockPath('alice'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(join(root, template!))).nlink).toBe(1);
    // A user whose Maildir does not exist yet: created, locked, and the store's template is still used.
    const bob = await store.open('bob');
    expect((await stat(lockPath('bob'))).ino).toBe(tpl.ino);
    await bob.release();
  });

  it('a linked lock never starts older than a sixth of staleLockMs (the template is touched first)', async () => {
    await deliver(root, 'alice', 'Subject: x\r\n\r\nx\r\n');
    const store = new MaildirStore(root, { staleLockMs: 60_000 });
    await (await store.open('alice')).release();
    const template = join(root, (await readdir(root)).find((n) => n.startsWith('.gorgon-pop3-lock-'))!);
    // The process sat idle for an hour: its template's mtime is an hour old.
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(template, hourAgo, hourAgo);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 });
    try {
      const drop = await store.open('alice');
      const { mtimeMs } = await stat(lockPath('alice'));
      expect(Math.abs(Date.now() - mtimeMs)).toBeLessThan(10_000);
      await drop.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets exactly one of many concurrent openers win', async () => {
    await mkdir(join(root, 'alice'), { recursive: true });
    const results = await Promise.all(Array.from({ length: 8 }, () => acquireMaildirLock(lockPath('alice'))));
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    await winners[0]!.release();
  });
});
