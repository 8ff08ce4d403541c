import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { deliver, MAILDIR_LOCK_NAME, MaildirStore } from '../src/internal.js';

// A process killed (kill -9) at the wrong moment leaves files at the top of a Maildir that no
// one else would ever remove: the chaos soak (bench/soak) found them piling up, one per kill.
// - a lock moved aside to be broken (breakLock renames it, then unlinks it);
// - the temporary file of the size cache or the listing index (written, then renamed).
// The first open of the Maildir by a later process removes them, and only them.

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-maildir-sweep-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('MaildirStore: leftovers of a killed process', () => {
  it('the first open removes locks moved aside by dead breakers and stale cache temporary files, and logs it', async () => {
    await deliver(root, 'alice', 'Subject: x\r\n\r\nx\r\n');
    const dir = join(root, 'alice');
    const dead = await deadPid();
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const other = tag === '00000000' ? '11111111' : '00000000';
    const leftovers = [
      `${MAILDIR_LOCK_NAME}.stale-${tag}-${dead}-0123456789ab`,
      `.gorgon-pop3.sizes.${dead}.0123abcd`,
      `.gorgon-pop3.index.${dead}.89abcdef`,
    ];
    const kept = [
      // Being broken by a live process (ours), by another host, or by an earlier version that
      // did not name itself: left until a minute after the rename (their ctime).
      `${MAILDIR_LOCK_NAME}.stale-${tag}-${process.pid}-0123456789ab`,
      `${MAILDIR_LOCK_NAME}.stale-${other}-${dead}-0123456789ab`,
      `${MAILDIR_LOCK_NAME}.stale-0123456789ab`,
      // Ours: this process writes it under the lock.
      `.gorgon-pop3.sizes.${process.pid}.0123abcd`,
      // Not ours to judge.
      'notes.txt',
    ];
    for (const name of [...leftovers, ...kept]) await writeFile(join(dir, name), '{}');
    const records: MemoryLogRecord[] = [];
    const store = new MaildirStore(root, { logger: memoryLogger(records) });
    const drop = await store.open('alice');
    expect(drop.messages).toHaveLength(1);
    await drop.release();
    const names = await readdir(dir);
    for (const name of leftovers) expect(names).not.toContain(name);
    for (const name of kept) expect(names).toContain(name);
    const swept = records.filter((r) => r.event === 'maildir-sweep');
    expect(swept).toHaveLength(1);
    expect([...(swept[0]!.removed as string[])].sort()).toEqual([...leftovers].sort());
    // Once per Maildir and process: the next open reads no directory for it.
    await writeFile(join(dir, `.gorgon-pop3.index.${dead}.00000000`), '{}');
    await (await store.open('alice')).release();
    expect(await readdir(dir)).toContain(`.gorgon-pop3.index.${dead}.00000000`);
    await store.close();
  });
});
