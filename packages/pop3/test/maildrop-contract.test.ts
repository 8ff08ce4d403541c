import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEmptyChunk, type Producer } from '@gorgon/core';
import { deliver, MaildirStore, MaildropError, MemoryMaildropStore, wireSize, type MaildropStore } from '../src/index.js';

interface Subject {
  store: MaildropStore;
  deliver(user: string, message: string | Buffer): Promise<void>;
  dispose(): Promise<void>;
}

const implementations: Array<[string, () => Promise<Subject>]> = [
  [
    'memory',
    async () => {
      const store = new MemoryMaildropStore();
      return { store, deliver: async (u, m) => void store.deliver(u, m), dispose: async () => undefined };
    },
  ],
  [
    'maildir',
    async () => {
      const root = await mkdtemp(join(tmpdir(), 'gorgon-maildir-'));
      return {
        store: new MaildirStore(root),
        deliver: async (u, m) => void (await deliver(root, u, m)),
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  ],
];

async function readAll(producer: Producer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < 100_000; i++) {
    const chunk = await producer.more();
    if (isEmptyChunk(chunk)) break;
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

const bodies = ['Subject: a\r\n\r\none\r\n', 'Subject: b\n\n.dot line\nbare LF\n', 'Subject: c\r\n\r\nno final newline'];

describe.each(implementations)('Maildrop contract: %s', (_name, make) => {
  let subject: Subject;
  beforeEach(async () => {
    subject = await make();
  });
  afterEach(async () => {
    await subject.dispose();
  });

  it('opens an empty maildrop for a user with no mail', async () => {
    const drop = await subject.store.open('nobody');
    expect(drop.messages).toEqual([]);
    expect(await drop.commit(new Set())).toEqual({ failed: 0 });
  });

  it('lists messages in delivery order with their wire sizes, and reads them byte for byte', async () => {
    for (const b of bodies) await subject.deliver('alice', b);
    const drop = await subject.store.open('alice');
    expect(drop.messages.map((m) => m.size)).toEqual(bodies.map((b) => wireSize(Buffer.from(b))));
    for (let i = 0; i < bodies.length; i++) expect((await readAll(await drop.read(i))).toString()).toBe(bodies[i]);
    await expect(drop.read(bodies.length)).rejects.toMatchObject({ code: 'gone' });
    await drop.release();
  });

  it('gives unique, printable uids that stay the same across sessions and deletions', async () => {
    for (const b of bodies) await subject.deliver('alice', b);
    const first = await subject.store.open('alice');
    const uids = first.messages.map((m) => m.uid);
    expect(new Set(uids).size).toBe(3);
    for (const uid of uids) expect(uid).toMatch(/^[\x21-\x7e]{1,70}$/);
    await first.release();
    const second = await subject.store.open('alice');
    expect(second.messages.map((m) => m.uid)).toEqual(uids);
    await second.commit(new Set([0]));
    const third = await subject.store.open('alice');
    expect(third.messages.map((m) => m.uid)).toEqual(uids.slice(1));
    await third.release();
  });

  it('holds an exclusive lock until release or commit', async () => {
    const drop = await subject.store.open('alice');
    const refused = await subject.store.open('alice').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(MaildropError);
    expect((refused as MaildropError).code).toBe('in-use');
    const other = await subject.store.open('bob');
    await other.release();
    await drop.release();
    await drop.release(); // idempotent
    const again = await subject.store.open('alice');
    await again.commit(new Set());
    const third = await subject.store.open('alice');
    await third.release();
  });

  it('commit removes exactly the marked messages; release removes nothing', async () => {
    for (const b of bodies) await subject.deliver('alice', b);
    const a = await subject.store.open('alice');
    await a.release();
    const b = await subject.store.open('alice');
    expect(b.messages).toHaveLength(3);
    expect(await b.commit(new Set([0, 2]))).toEqual({ failed: 0 });
    const c = await subject.store.open('alice');
    expect(c.messages).toHaveLength(1);
    expect((await readAll(await c.read(0))).toString()).toBe(bodies[1]);
    await c.release();
  });

  it('takes a snapshot at open: mail delivered meanwhile shows up at the next open', async () => {
    await subject.deliver('alice', bodies[0]!);
    const drop = await subject.store.open('alice');
    await subject.deliver('alice', bodies[1]!);
    expect(drop.messages).toHaveLength(1);
    await drop.commit(new Set([0]));
    const next = await subject.store.open('alice');
    expect(next.messages).toHaveLength(1);
    expect((await readAll(await next.read(0))).toString()).toBe(bodies[1]);
    await next.release();
  });

  it('keeps many messages in order', async () => {
    for (let i = 0; i < 60; i++) await subject.deliver('alice', `Subject: ${i}\r\n\r\n${'x'.repeat(i)}\r\n`);
    const drop = await subject.store.open('alice');
    expect(drop.messages).toHaveLength(60);
    const subjects = await Promise.all([0, 30, 59].map(async (i) => (await readAll(await drop.read(i))).toString().split('\r\n')[0]));
    expect(subjects).toEqual(['Subject: 0', 'Subject: 30', 'Subject: 59']);
    await drop.release();
  });
});
