import { execFile, spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator, memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { createPop3Server, MAILDIR_LOCK_NAME, MaildirStore, type Pop3Server } from '../src/internal.js';

// Only regular files are messages: a FIFO, a symlink, a directory or a device planted in a
// user's Maildir is skipped, can neither hang a session nor the shutdown, and never leaks the
// file a link points at (a pop3d running as root).

let root: string;
let outside: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-maildir-entries-'));
  outside = await mkdtemp(join(tmpdir(), 'gorgon-maildir-secret-'));
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(root, 'alice', sub), { recursive: true });
  await writeFile(join(outside, 'shadow'), 'root:SECRET-HASH:19000:0:99999:7:::\n', { mode: 0o600 });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const BODY = 'Subject: real\n\nthe only real message\n';

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path}: ${r.stderr}`);
}

/** Logs in with Python's poplib, retrieves every message, QUITs; prints one JSON object. */
const POPLIB_ALL = `
import json, poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=4)
p.user('alice')
p.pass_('wonderland')
count, octets = p.stat()
bodies = [b'\\n'.join(p.retr(i)[1]).decode('latin-1') for i in range(1, count + 1)]
p.quit()
print(json.dumps({'stat': [count, octets], 'bodies': bodies}))
`;

function poplib(port: number): Promise<{ stat: [number, number]; bodies: string[] }> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', POPLIB_ALL, String(port)], { timeout: 6000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`poplib: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout) as { stat: [number, number]; bodies: string[] });
    });
  });
}

function start(records: MemoryLogRecord[] = []): { srv: Pop3Server; logger: ReturnType<typeof memoryLogger> } {
  const logger = memoryLogger(records);
  const srv = createPop3Server({
    store: new MaildirStore(root, { logger }),
    auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    logger,
  });
  return { srv, logger };
}

describe('Maildir entries that are not regular files (poplib over loopback)', () => {
  it('a FIFO in new/ or cur/ is skipped: PASS answers, the lock is released, shutdown ends', async () => {
    // A foreign delivery (no sizes in the name, so the scan measures it) and one whose name
    // claims a small size (so RETR would take the synchronous small-message path).
    mkfifo(join(root, 'alice', 'new', '1700000000.fifo1.host'));
    mkfifo(join(root, 'alice', 'cur', '1700000001.fifo2.host,S=5,W=7:2,'));
    await writeFile(join(root, 'alice', 'new', '1700000002.real.host'), BODY);
    const { srv } = start();
    const { port } = await srv.listen(0);
    const first = await poplib(port);
    expect(first.stat[0]).toBe(1);
    expect(first.bodies[0]).toContain('the only real message');
    // The lock went with the first client: a second login is not [IN-USE].
    expect((await poplib(port)).stat[0]).toBe(1);
    const t0 = Date.now();
    await srv.close({ timeoutMs: 1000 });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('symlinks in new/ and cur/ (to a root-only file, to a directory) are not served, and are logged once', async () => {
    const secret = join(outside, 'shadow');
    await symlink(secret, join(root, 'alice', 'new', '1700000000.link1.host'));
    await symlink(secret, join(root, 'alice', 'cur', '1700000001.link2.host,S=36,W=37:2,'));
    await symlink(outside, join(root, 'alice', 'cur', '1700000003.dirlink.host:2,'));
    await mkdir(join(root, 'alice', 'cur', '1700000004.subdir.host:2,'));
    await writeFile(join(root, 'alice', 'new', '1700000002.real.host'), BODY);
    const records: MemoryLogRecord[] = [];
    const { srv } = start(records);
    const { port } = await srv.listen(0);
    for (let i = 0; i < 2; i++) {
      const got = await poplib(port);
      expect(got.stat[0]).toBe(1);
      expect(got.bodies.join('\n')).not.toContain('SECRET');
    }
    await srv.close({ timeoutMs: 1000 });
    const skipped = records.filter((r) => r.event === 'maildir-skipped');
    // Four entries, each logged once although the maildrop was opened twice.
    expect(skipped.map((r) => r.entry).sort()).toEqual([
      '1700000000.link1.host',
      '1700000001.link2.host,S=36,W=37:2,',
      '1700000003.dirlink.host:2,',
      '1700000004.subdir.host:2,',
    ]);
    expect(skipped.every((r) => r.level === 'warn')).toBe(true);
  });

  it('a cur/ or new/ that is a symlink refuses the maildrop: nothing is listed or deleted through it', async () => {
    // A user points cur/ at a directory only root can read: its files are regular files.
    await writeFile(join(outside, '1700000000.victim.host:2,'), 'Subject: not yours\n\nroot only\n');
    await rm(join(root, 'alice', 'cur'), { recursive: true });
    await symlink(outside, join(root, 'alice', 'cur'));
    const records: MemoryLogRecord[] = [];
    const { srv } = start(records);
    const { port } = await srv.listen(0);
    await expect(poplib(port)).rejects.toThrow(/SYS\/TEMP/);
    await srv.close({ timeoutMs: 1000 });
    expect(await readdir(outside)).toContain('1700000000.victim.host:2,');
    expect(records.filter((r) => r.event === 'maildir-refused').map((r) => [r.entry, r.kind])).toEqual([['cur', 'symlink']]);
    // The same for new/ (messages would be moved out of the directory it points at).
    await rm(join(root, 'alice', 'cur'));
    await mkdir(join(root, 'alice', 'cur'));
    await rm(join(root, 'alice', 'new'), { recursive: true });
    await symlink(outside, join(root, 'alice', 'new'));
    await expect(new MaildirStore(root).open('alice')).rejects.toMatchObject({ code: 'io' });
    expect(await readdir(outside)).toContain('1700000000.victim.host:2,');
  });
});

describe('the lock path holding something else than a lock file', () => {
  it.each(['fifo', 'symlink', 'directory'] as const)('a %s there neither hangs the login nor is followed', async (kind) => {
    await writeFile(join(root, 'alice', 'cur', '1700000000.m.host:2,'), BODY);
    const lockPath = join(root, 'alice', MAILDIR_LOCK_NAME);
    const secret = join(outside, 'shadow');
    if (kind === 'fifo') mkfifo(lockPath);
    else if (kind === 'symlink') await symlink(secret, lockPath);
    else await mkdir(lockPath);
    const before = await stat(secret);
    const drop = await new MaildirStore(root).open('alice');
    expect(drop.messages).toHaveLength(1);
    expect((await lstat(lockPath)).isFile()).toBe(true);
    await drop.release();
    // The file the link pointed at is untouched (not read as a lock, not broken, not touched).
    const after = await stat(secret);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect((await readdir(join(root, 'alice'))).filter((n) => n.startsWith(MAILDIR_LOCK_NAME))).toEqual([]);
  });
});

describe('an entry swapped after the listing (checked on the opened file, not the name)', () => {
  async function swapped(kind: 'symlink' | 'fifo', name: string): Promise<void> {
    await writeFile(join(root, 'alice', 'cur', name), BODY);
    const store = new MaildirStore(root);
    const drop = await store.open('alice');
    expect(drop.messages).toHaveLength(1);
    const path = join(root, 'alice', 'cur', name);
    await unlink(path);
    if (kind === 'symlink') await symlink(join(outside, 'shadow'), path);
    else mkfifo(path);
    // Neither call may block (a FIFO opened without O_NONBLOCK waits for a writer) or leak.
    let now: unknown;
    try {
      now = drop.readNow?.(0);
    } catch (err) {
      now = err;
    }
    expect(now === undefined || (now as { code?: string }).code === 'gone').toBe(true);
    await expect(drop.read(0)).rejects.toMatchObject({ code: 'gone' });
    await drop.release();
  }

  it.each([
    ['symlink', 'small (size in the name)', '1700000000.m.host,S=36,W=37:2,'],
    ['symlink', 'streamed (no size in the name)', '1700000000.m.host:2,'],
    ['fifo', 'small (size in the name)', '1700000000.m.host,S=36,W=37:2,'],
    ['fifo', 'streamed (no size in the name)', '1700000000.m.host:2,'],
  ] as const)('a %s in place of a %s message is refused as gone', async (kind, _what, name) => {
    await swapped(kind, name);
  });

  it('a message moved aside and back (renamed by another program) is still served', async () => {
    await writeFile(join(root, 'alice', 'cur', '1700000000.m.host:2,'), BODY);
    const drop = await new MaildirStore(root).open('alice');
    await rename(join(root, 'alice', 'cur', '1700000000.m.host:2,'), join(root, 'alice', 'cur', '1700000000.m.host:2,S'));
    const producer = await drop.read(0);
    const chunks: Buffer[] = [];
    for (let c = await producer.more(); c; c = await producer.more()) chunks.push(Buffer.from(c));
    expect(Buffer.concat(chunks).toString()).toBe(BODY);
    await drop.release();
  });
});
