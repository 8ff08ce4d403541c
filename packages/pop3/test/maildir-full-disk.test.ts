import { execFile } from 'node:child_process';
import { readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator, memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { mountSmallDisk, type SmallDisk } from '@gorgon/core/testing';
import { acquireMaildirLock, createPop3Server, deliver, MAILDIR_LOCK_NAME, MaildirStore } from '../src/internal.js';

// A full disk must still let users log in to read and delete mail (which frees space): the
// maildrop lock may need no new data blocks. The disk is a small tmpfs mounted for the test,
// filled to the last block; where mounting is not allowed (not root, no CAP_SYS_ADMIN) the
// tests are skipped, saying why.

let disk: SmallDisk;
beforeEach(async () => {
  disk = await mountSmallDisk('512k');
});
afterEach(() => disk.dispose());

/** Fills the disk to its last block: even one byte more is refused. */
async function fill(path: string): Promise<void> {
  await disk.fill(path);
  await expect(writeFile(join(disk.path, 'probe'), 'x')).rejects.toMatchObject({ code: 'ENOSPC' });
}

/** USER/PASS, STAT, RETR 1, DELE 1 and 2, QUIT with Python's poplib; prints JSON. */
const POPLIB_DELETE = `
import json, poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=4)
p.user('alice')
p.pass_('wonderland')
count, octets = p.stat()
first = b'\\n'.join(p.retr(1)[1]).decode()
p.dele(1)
p.dele(2)
bye = p.quit().decode()
print(json.dumps({'count': count, 'first': first, 'quit': bye}))
`;

function poplib(port: number): Promise<{ count: number; first: string; quit: string }> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', POPLIB_DELETE, String(port)], { timeout: 6000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`poplib: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout) as { count: number; first: string; quit: string });
    });
  });
}

describe('POP3 on a full disk (a filled tmpfs)', () => {
  it('a login, RETR, DELE and QUIT work and free space; the lock is released', async (ctx) => {
    if (!disk.mounted) ctx.skip(disk.whyNot);
    const root = join(disk.path, 'maildirs');
    // Foreign deliveries and ours; three messages, then not one block left.
    for (let i = 1; i <= 3; i++) await deliver(root, 'alice', `Subject: m${i}\n\nbody ${i}\n`);
    await fill(join(disk.path, 'filler'));
    const records: MemoryLogRecord[] = [];
    const logger = memoryLogger(records);
    await using srv = createPop3Server({
      store: new MaildirStore(root, { logger }),
      auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
      throttle: { baseDelayMs: 0, maxDelayMs: 0 },
      logger,
    });
    const { port } = await srv.listen(0);
    const got = await poplib(port);
    expect(got.count).toBe(3);
    expect(got.first).toContain('body 1');
    expect(got.quit).toMatch(/^\+OK/);
    const left = (await readdir(join(root, 'alice', 'cur'))).filter((n) => !n.startsWith('.'));
    expect(left).toHaveLength(1);
    expect(await readdir(join(root, 'alice'))).not.toContain(MAILDIR_LOCK_NAME);
    // The lock is free again, still on a full disk: the next opener gets the last message.
    const drop = await new MaildirStore(root).open('alice');
    expect(drop.messages).toHaveLength(1);
    await drop.release();
  });

  it('the lock stays exclusive on a full disk: a second opener is refused while it is held', async (ctx) => {
    if (!disk.mounted) ctx.skip(disk.whyNot);
    const root = join(disk.path, 'maildirs');
    await deliver(root, 'bob', 'Subject: x\n\nx\n');
    await fill(join(disk.path, 'filler'));
    const lockPath = join(root, 'bob', MAILDIR_LOCK_NAME);
    const lock = await acquireMaildirLock(lockPath, { templateDir: root });
    expect(lock).toBeDefined();
    // No data block for pid and token: the lock is an empty file, exclusive all the same.
    expect((await stat(lockPath)).size).toBe(0);
    await expect(new MaildirStore(root).open('bob')).rejects.toMatchObject({ code: 'in-use' });
    await lock!.release();
    const drop = await new MaildirStore(root).open('bob');
    expect(drop.messages).toHaveLength(1);
    await drop.release();
    // An empty lock left by a holder that died (its holder touches it every 3 s) is broken
    // once it is 10 s old, and not before.
    await writeFile(lockPath, '');
    const aged = (s: number): Promise<void> => utimes(lockPath, new Date(Date.now() - s * 1000), new Date(Date.now() - s * 1000));
    await aged(5);
    await expect(new MaildirStore(root).open('bob')).rejects.toMatchObject({ code: 'in-use' });
    await aged(11);
    await (await new MaildirStore(root).open('bob')).release();
  });
});
