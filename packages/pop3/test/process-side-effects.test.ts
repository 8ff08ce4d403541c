import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator } from '@gorgon/core';
import { MemoryClient } from '@gorgon/core/testing';
import { acquireMaildirLock, createPop3Server, deliver, MAILDIR_LOCK_NAME, MaildirStore } from '../src/internal.js';
import { play } from './helpers.js';

// No process-wide side effects (issue 10): the Maildir lock templates belong to the store that
// wrote them and go when the server closes it; nothing is registered on the process; the
// descriptor a small read leaves to close is its maildrop's, not the process's.

const TEMPLATE = /^\.gorgon-pop3-lock-/;
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-pop3-effects-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every process event with its listener count. */
function processListeners(): Record<string, number> {
  return Object.fromEntries(process.eventNames().map((e) => [String(e), process.listenerCount(e)]));
}

const templates = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => TEMPLATE.test(n) && n.includes(`-${process.pid}-`));

describe('Maildir lock templates are the store’s', () => {
  it('a server over a MaildirStore: the template is written at the first login and removed by close(); no exit hook', async () => {
    const listeners = processListeners();
    await deliver(root, 'alice', 'Subject: hi\r\n\r\nbye\r\n');
    const server = createPop3Server({ store: new MaildirStore(root), auth: new MemoryAuthenticator([{ name: 'alice', password: 'pw' }]) });
    const { port } = await server.listen(0);
    const socket = netConnect(port, '127.0.0.1');
    const client = new MemoryClient(socket);
    await play(client, `
      S: /^\\+OK/
      C: USER alice
      S: /^\\+OK/
      C: PASS pw
      S: /^\\+OK maildrop has 1 messages/
    `);
    expect(await templates(root)).toHaveLength(1);
    client.sendLine('QUIT');
    expect(await client.line()).toMatch(/^\+OK/);
    await new Promise((resolve) => socket.once('close', resolve));
    await server.close();
    expect(await templates(root)).toEqual([]);
    expect(processListeners()).toEqual(listeners);
  });

  it('two stores of one process over one root: each its own template, and each sees the other’s lock as live', async () => {
    await mkdir(join(root, 'alice'), { recursive: true });
    const a = new MaildirStore(root);
    const b = new MaildirStore(root);
    const drop = await a.open('alice');
    await expect(b.open('alice')).rejects.toMatchObject({ code: 'in-use' });
    const bob = await b.open('bob');
    expect(await templates(root)).toHaveLength(2);
    await a.close();
    expect(await templates(root)).toHaveLength(1);
    // The lock outlives its store's template, and is still respected.
    await expect(b.open('alice')).rejects.toMatchObject({ code: 'in-use' });
    await drop.release();
    await bob.release();
    await b[Symbol.asyncDispose]();
    expect(await templates(root)).toEqual([]);
  });

  it('acquireMaildirLock on its own leaves no template behind', async () => {
    await mkdir(join(root, 'alice'), { recursive: true });
    const before = await templates(tmpdir());
    const lock = await acquireMaildirLock(join(root, 'alice', MAILDIR_LOCK_NAME), { templateDir: root });
    expect(lock).toBeDefined();
    expect(await templates(root)).toEqual([]);
    expect(await acquireMaildirLock(join(root, 'alice', MAILDIR_LOCK_NAME))).toBeUndefined();
    expect(await templates(tmpdir())).toEqual(before);
    await lock!.release();
    expect(await readdir(join(root, 'alice'))).toEqual([]);
  });
});

describe('the deferred close of a small read is per maildrop', () => {
  it("one session's read does not close another's descriptor; each is closed once the caller has run on", async () => {
    for (const user of ['alice', 'bob']) for (let i = 0; i < 3; i++) await deliver(root, user, `Subject: ${user} ${i}\r\n\r\nbody\r\n`);
    const store = new MaildirStore(root);
    const [alice, bob] = [await store.open('alice'), await store.open('bob')];
    const open = () => readdirSync('/proc/self/fd').length;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the opens' background work is done
    const before = open();
    // One synchronous stretch: each maildrop keeps its own last descriptor, closed by its own next read.
    expect(String(alice.readNow!(0))).toContain('alice 0');
    expect(String(bob.readNow!(0))).toContain('bob 0');
    expect(open()).toBe(before + 2);
    expect(String(alice.readNow!(1))).toContain('alice 1');
    expect(String(bob.readNow!(1))).toContain('bob 1');
    expect(open()).toBe(before + 2);
    await Promise.resolve(); // the deferred closes run in a microtask
    expect(open()).toBe(before);
    await alice.release();
    await bob.release();
    await store.close();
  });
});
