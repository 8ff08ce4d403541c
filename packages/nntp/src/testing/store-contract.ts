import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import type { ContractCheck } from '@gorgon/core/testing';
import { finishArticle, parseArticle } from '../article.js';
import type { AddResult, NewsStore } from '../store.js';

/** One check's store, and an optional clean-up; `reopen` (a disk store) re-opens the same data. */
export interface NewsStoreSubject {
  store: NewsStore;
  reopen?(): Promise<NewsStore>;
  dispose?(): Promise<void>;
}

/** Makes a fresh, empty store for one check. */
export type NewsStoreFactory = () => NewsStoreSubject | Promise<NewsStoreSubject>;

const text = (id: string, groups: string): string =>
  `From: a@example.org\r\nNewsgroups: ${groups}\r\nSubject: hello\r\nMessage-ID: ${id}\r\nDate: ${new Date().toUTCString()}\r\n\r\nBody line one.\r\n.A line starting with a dot.\r\n`;

/** Adds an article as the server would (Path and Xref rendered once the store numbered it). */
async function put(store: NewsStore, id: string, groups: string, arrived?: number): Promise<AddResult> {
  const f = finishArticle(parseArticle(text(id, groups)), { pathHost: 'here', transit: true, now: Date.now(), newId: () => id });
  return store.add({ messageId: id, groups: groups.split(','), render: f.render, ...(arrived !== undefined ? { arrived } : {}) });
}

/**
 * The NewsStore contract as named checks: what the NNTP server relies on from any store
 * (numbering never reused, byte-exact articles by number and id, overview, history, expiry).
 * The shipped DiskNewsStore and MemoryNewsStore pass it; so should yours.
 * @see RFC 3977 §6.1 (water marks), §6.3.2 (history), §8 (overview)
 */
export function newsStoreContract(make: NewsStoreFactory): ContractCheck[] {
  const check = (name: string, body: (s: NewsStoreSubject) => Promise<void>): ContractCheck => ({
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
    check('creates and lists groups; refuses a duplicate or an invalid name', async ({ store }) => {
      await store.createGroup('misc.test', { description: 'd', created: 100 });
      await store.createGroup('alt.2600');
      await rejects(store.createGroup('misc.test'), { code: 'exists' });
      await rejects(store.createGroup('bad name'), { code: 'bad-name' });
      await rejects(store.createGroup('../etc'), { code: 'bad-name' });
      const gs = await store.groups();
      deepEqual(
        gs.map((g) => g.name),
        ['alt.2600', 'misc.test'],
      );
      const g = gs[1]!;
      deepEqual([g.low, g.high, g.count, g.status, g.created, g.description], [1, 0, 0, 'y', 100, 'd']);
    }),
    check('numbers per group; reads by number and id byte-exact, with overview and Xref', async ({ store }) => {
      await store.createGroup('a.one');
      await store.createGroup('a.two');
      deepEqual(await put(store, '<x1@h>', 'a.one'), { ok: true, locations: [{ group: 'a.one', number: 1 }] });
      deepEqual(await put(store, '<x2@h>', 'a.two,a.one,no.such'), {
        ok: true,
        locations: [
          { group: 'a.two', number: 1 },
          { group: 'a.one', number: 2 },
        ],
      });
      const byNum = (await store.articleByNumber('a.one', 2))!;
      const byId = (await store.articleById('<x2@h>'))!;
      ok(byNum.data.equals(byId.data));
      ok(byNum.data.toString('latin1').includes('Xref: here a.two:1 a.one:2\r\n'));
      equal(byNum.data.subarray(byNum.bodyOffset).toString(), 'Body line one.\r\n.A line starting with a dot.\r\n');
      const ov = await store.overview('a.one', 1, 10);
      deepEqual(
        ov.map((o) => [o.number, o.messageId, o.lines]),
        [
          [1, '<x1@h>', 2],
          [2, '<x2@h>', 2],
        ],
      );
      equal(ov[1]!.bytes, byNum.data.length);
      deepEqual(await store.numbers('a.one', 2, 5), [2]);
      const g = (await store.group('a.one'))!;
      deepEqual([g.low, g.high, g.count], [1, 2, 2]);
    }),
    check('suppresses duplicates through the history; refuses articles for no existing group', async ({ store }) => {
      await store.createGroup('a.one');
      ok((await put(store, '<d@h>', 'a.one')).ok);
      deepEqual(await put(store, '<d@h>', 'a.one'), { ok: false, reason: 'duplicate' });
      deepEqual(await put(store, '<e@h>', 'no.where'), { ok: false, reason: 'no-group' });
      equal(await store.history('<d@h>'), 'present');
      equal(await store.history('<e@h>'), 'absent');
    }),
    check('concurrent adds never share a number', async ({ store }) => {
      await store.createGroup('a.one');
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put(store, `<c${i}@h>`, 'a.one')));
      const nums = results.map((r) => (r.ok ? r.locations[0]!.number : -1)).sort((a, b) => a - b);
      deepEqual(
        nums,
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    }),
    check(
      'expires by age per pattern, keeps the history, never reuses numbers (also after rmgroup + newgroup)',
      async ({ store, reopen }) => {
        await store.createGroup('a.one');
        await store.createGroup('b.two');
        await put(store, '<old@h>', 'a.one', 1000);
        await put(store, '<new@h>', 'a.one', 10 * 86400);
        await put(store, '<oldb@h>', 'b.two', 1000);
        equal((await store.expire([{ pattern: 'a.*', days: 5 }], 10 * 86400 + 1, 100 * 86400)).removed, 1);
        equal(await store.articleById('<old@h>'), undefined);
        equal(await store.history('<old@h>'), 'expired');
        deepEqual(await put(store, '<old@h>', 'a.one'), { ok: false, reason: 'duplicate' });
        ok(await store.articleById('<oldb@h>'));
        const a = (await store.group('a.one'))!;
        deepEqual([a.low, a.high, a.count], [2, 2, 1]);
        const n = await put(store, '<n3@h>', 'a.one');
        equal(n.ok && n.locations[0]!.number, 3);
        equal(await store.removeGroup('b.two'), true);
        await store.createGroup('b.two');
        const b = (await store.group('b.two'))!;
        deepEqual([b.high, b.count], [1, 0]);
        const again = await put(store, '<b2@h>', 'b.two');
        equal(again.ok && again.locations[0]!.number, 2);
        // days 0 takes everything, also what arrived in the very second of the run (times are whole seconds)
        await store.createGroup('c.same');
        await put(store, '<same@h>', 'c.same', 20 * 86400);
        equal((await store.expire([{ pattern: 'c.*', days: 0 }], 20 * 86400, 100 * 86400)).removed, 1);
        await store.expire([{ pattern: '*', days: 0 }], 30 * 86400, 86400);
        equal(await store.history('<old@h>'), 'absent');
        if (reopen) {
          await store.close();
          const s2 = await reopen();
          equal((await s2.group('a.one'))!.high, 3);
          equal((await s2.group('b.two'))!.high, 2);
          await s2.close();
        }
      },
    ),
    check(
      'expires by age per pattern, keeps the history, never reuses numbers (also after rmgroup + newgroup)',
      async ({ store, reopen }) => {
        await store.createGroup('a.one');
        await store.createGroup('b.two');
        await put(store, '<old@h>', 'a.one', 1000);
        await put(store, '<new@h>', 'a.one', 10 * 86400);
        await put(store, '<oldb@h>', 'b.two', 1000);
        equal((await store.expire([{ pattern: 'a.*', days: 5 }], 10 * 86400 + 1, 100 * 86400)).removed, 1);
        equal(await store.articleById('<old@h>'), undefined);
        equal(await store.history('<old@h>'), 'expired');
        deepEqual(await put(store, '<old@h>', 'a.one'), { ok: false, reason: 'duplicate' });
        ok(await store.articleById('<oldb@h>'));
        const a = (await store.group('a.one'))!;
        deepEqual([a.low, a.high, a.count], [2, 2, 1]);
        const n = await put(store, '<n3@h>', 'a.one');
        equal(n.ok && n.locations[0]!.number, 3);
        equal(await store.removeGroup('b.two'), true);
        await store.createGroup('b.two');
        const b = (await store.group('b.two'))!;
        deepEqual([b.high, b.count], [1, 0]);
        const again = await put(store, '<b2@h>', 'b.two');
        equal(again.ok && again.locations[0]!.number, 2);
        await store.expire([{ pattern: '*', days: 0 }], 30 * 86400, 86400);
        equal(await store.history('<old@h>'), 'absent');
        if (reopen) {
          await store.close();
          const s2 = await reopen();
          equal((await s2.group('a.one'))!.high, 3);
          equal((await s2.group('b.two'))!.high, 2);
          await s2.close();
        }
      },
    ),
    check('NEWNEWS data: message-ids arrived since a time in matching groups', async ({ store }) => {
      await store.createGroup('a.one');
      await store.createGroup('b.two');
      await put(store, '<t1@h>', 'a.one', 100);
      await put(store, '<t2@h>', 'b.two', 200);
      await put(store, '<t3@h>', 'a.one', 300);
      deepEqual(await store.newSince(150, (g) => g.startsWith('a.')), ['<t3@h>']);
    }),
  ];
}
