import { deepEqual, equal, match, ok, rejects } from 'node:assert/strict';
import { isEmptyChunk, type Producer } from '@gorgon/core';
import type { ContractCheck } from '@gorgon/core/testing';
import { MaildropError, type MaildropStore } from '../maildrop.js';
import { wireSize } from '../wire-size.js';

/**
 * One check's store: the store under test, how to put a message into a user's maildrop (as
 * your MTA or `deliver()` would), and an optional clean-up run when the check ends.
 */
export interface MaildropSubject {
  store: MaildropStore;
  deliver(user: string, message: string | Buffer): Promise<void>;
  dispose?(): Promise<void>;
}

/** Makes a fresh, empty store for one check (a new temporary directory, a new database schema…). */
export type MaildropFactory = () => MaildropSubject | Promise<MaildropSubject>;

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

/**
 * The MaildropStore contract as named checks: what the POP3 server relies on from any store
 * (wire sizes, stable UIDs, the exclusive lock, deletes only on commit, a snapshot at open).
 * The shipped MaildirStore and MemoryMaildropStore pass it; so should yours.
 * @see RFC 1939 §8 (the maildrop lock, UPDATE state), §7 (UIDL)
 */
export function maildropContract(make: MaildropFactory): ContractCheck[] {
  const check = (name: string, body: (s: MaildropSubject) => Promise<void>): ContractCheck => ({
    name,
    run: async () => {
      const subject = await make();
      try {
        await body(subject);
      } finally {
        await subject.dispose?.();
      }
    },
  });
  return [
    check('opens an empty maildrop for a user with no mail', async ({ store }) => {
      const drop = await store.open('nobody');
      deepEqual(drop.messages, []);
      deepEqual(await drop.commit(new Set()), { failed: 0 });
    }),

    check('lists messages in delivery order with their wire sizes, and reads them byte for byte', async (s) => {
      for (const b of bodies) await s.deliver('alice', b);
      const drop = await s.store.open('alice');
      deepEqual(
        drop.messages.map((m) => m.size),
        bodies.map((b) => wireSize(Buffer.from(b))),
      );
      for (let i = 0; i < bodies.length; i++) equal((await readAll(await drop.read(i))).toString(), bodies[i]);
      await rejects(drop.read(bodies.length), { code: 'gone' });
      await drop.release();
    }),

    check('gives unique, printable uids that stay the same across sessions and deletions', async (s) => {
      for (const b of bodies) await s.deliver('alice', b);
      const first = await s.store.open('alice');
      const uids = first.messages.map((m) => m.uid);
      equal(new Set(uids).size, 3);
      for (const uid of uids) match(uid, /^[\x21-\x7e]{1,70}$/);
      await first.release();
      const second = await s.store.open('alice');
      deepEqual(
        second.messages.map((m) => m.uid),
        uids,
      );
      await second.commit(new Set([0]));
      const third = await s.store.open('alice');
      deepEqual(
        third.messages.map((m) => m.uid),
        uids.slice(1),
      );
      await third.release();
    }),

    check('holds an exclusive lock until release or commit', async ({ store }) => {
      const drop = await store.open('alice');
      const refused = await store.open('alice').catch((err: unknown) => err);
      ok(refused instanceof MaildropError, 'a second open of a locked maildrop must reject with a MaildropError');
      equal(refused.code, 'in-use');
      const other = await store.open('bob');
      await other.release();
      await drop.release();
      await drop.release(); // idempotent
      const again = await store.open('alice');
      await again.commit(new Set());
      const third = await store.open('alice');
      await third.release();
    }),

    check('commit removes exactly the marked messages; release removes nothing', async (s) => {
      for (const b of bodies) await s.deliver('alice', b);
      const a = await s.store.open('alice');
      await a.release();
      const b = await s.store.open('alice');
      equal(b.messages.length, 3);
      deepEqual(await b.commit(new Set([0, 2])), { failed: 0 });
      const c = await s.store.open('alice');
      equal(c.messages.length, 1);
      equal((await readAll(await c.read(0))).toString(), bodies[1]);
      await c.release();
    }),

    check('takes a snapshot at open: mail delivered meanwhile shows up at the next open', async (s) => {
      await s.deliver('alice', bodies[0]!);
      const drop = await s.store.open('alice');
      await s.deliver('alice', bodies[1]!);
      equal(drop.messages.length, 1);
      await drop.commit(new Set([0]));
      const next = await s.store.open('alice');
      equal(next.messages.length, 1);
      equal((await readAll(await next.read(0))).toString(), bodies[1]);
      await next.release();
    }),

    check('keeps many messages in order', async (s) => {
      for (let i = 0; i < 60; i++) await s.deliver('alice', `Subject: ${i}\r\n\r\n${'x'.repeat(i)}\r\n`);
      const drop = await s.store.open('alice');
      equal(drop.messages.length, 60);
      const subjects = await Promise.all([0, 30, 59].map(async (i) => (await readAll(await drop.read(i))).toString().split('\r\n')[0]));
      deepEqual(subjects, ['Subject: 0', 'Subject: 30', 'Subject: 59']);
      await drop.release();
    }),
  ];
}
