import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { finishArticle, parseArticle } from '../src/article.js';
import { DiskNewsStore, MemoryNewsStore, type NewsStore } from '../src/index.js';
import { article } from './helpers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gorgon-spool-'));
  dirs.push(d);
  return d;
}

/** Adds an article as the server would (Path, Xref rendered by the store's numbers). */
export async function put(store: NewsStore, id: string, groups: string, arrived?: number, subject = 'hello') {
  const parsed = parseArticle(article({ id, groups, subject }));
  const f = finishArticle(parsed, { pathHost: 'here', transit: true, now: Date.now(), newId: () => id });
  return store.add({ messageId: id, groups: groups.split(','), render: f.render, ...(arrived !== undefined ? { arrived } : {}) });
}

const kinds: [string, () => Promise<{ store: NewsStore; reopen?: () => Promise<NewsStore> }>][] = [
  ['memory', async () => ({ store: new MemoryNewsStore() })],
  [
    'disk',
    async () => {
      const dir = await tempDir();
      return { store: await DiskNewsStore.open(dir), reopen: () => DiskNewsStore.open(dir) };
    },
  ],
];

describe.each(kinds)('NewsStore contract: %s', (_name, make) => {
  it('creates, lists and refuses duplicate or invalid groups', async () => {
    const { store } = await make();
    await store.createGroup('misc.test', { description: 'd', created: 100 });
    await store.createGroup('alt.2600');
    await expect(store.createGroup('misc.test')).rejects.toMatchObject({ code: 'exists' });
    await expect(store.createGroup('bad name')).rejects.toMatchObject({ code: 'bad-name' });
    await expect(store.createGroup('../etc')).rejects.toMatchObject({ code: 'bad-name' });
    const gs = await store.groups();
    expect(gs.map((g) => g.name)).toEqual(['alt.2600', 'misc.test']);
    expect(gs[1]).toMatchObject({ low: 1, high: 0, count: 0, status: 'y', created: 100, description: 'd' });
  });

  it('numbers articles per group, reads them by number and id byte-exact, with overview and Xref', async () => {
    const { store } = await make();
    await store.createGroup('a.one');
    await store.createGroup('a.two');
    const r1 = await put(store, '<x1@h>', 'a.one');
    const r2 = await put(store, '<x2@h>', 'a.two,a.one,no.such');
    expect(r1).toEqual({ ok: true, locations: [{ group: 'a.one', number: 1 }] });
    expect(r2).toEqual({ ok: true, locations: [{ group: 'a.two', number: 1 }, { group: 'a.one', number: 2 }] });
    const byNum = (await store.articleByNumber('a.one', 2))!;
    const byId = (await store.articleById('<x2@h>'))!;
    expect(byNum.data.equals(byId.data)).toBe(true);
    expect(byNum.data.toString('latin1')).toContain('Xref: here a.two:1 a.one:2\r\n');
    expect(byNum.data.subarray(byNum.bodyOffset).toString()).toBe('Body line one.\r\n.A line starting with a dot.\r\n');
    const ov = await store.overview('a.one', 1, 10);
    expect(ov.map((o) => [o.number, o.messageId, o.lines])).toEqual([[1, '<x1@h>', 2], [2, '<x2@h>', 2]]);
    expect(ov[1]!.bytes).toBe(byNum.data.length);
    expect(await store.numbers('a.one', 2, 5)).toEqual([2]);
    expect(await store.group('a.one')).toMatchObject({ low: 1, high: 2, count: 2 });
  });

  it('suppresses duplicates through the history, refuses articles for no existing group', async () => {
    const { store } = await make();
    await store.createGroup('a.one');
    expect((await put(store, '<d@h>', 'a.one')).ok).toBe(true);
    expect(await put(store, '<d@h>', 'a.one')).toEqual({ ok: false, reason: 'duplicate' });
    expect(await put(store, '<e@h>', 'no.where')).toEqual({ ok: false, reason: 'no-group' });
    expect(await store.history('<d@h>')).toBe('present');
    expect(await store.history('<e@h>')).toBe('absent');
  });

  it('concurrent adds never share a number', async () => {
    const { store } = await make();
    await store.createGroup('a.one');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => put(store, `<c${i}@h>`, 'a.one')));
    const nums = results.map((r) => (r.ok ? r.locations[0]!.number : -1)).sort((a, b) => a - b);
    expect(nums).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('expires by age per pattern, keeps history as expired, never reuses numbers (also after rmgroup + newgroup)', async () => {
    const { store, reopen } = await make();
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    await put(store, '<old@h>', 'a.one', 1000);
    await put(store, '<new@h>', 'a.one', 10 * 86400);
    await put(store, '<oldb@h>', 'b.two', 1000);
    const report = await store.expire([{ pattern: 'a.*', days: 5 }], 10 * 86400 + 1, 100 * 86400);
    expect(report.removed).toBe(1);
    expect(await store.articleById('<old@h>')).toBeUndefined();
    expect(await store.history('<old@h>')).toBe('expired');
    expect(await put(store, '<old@h>', 'a.one')).toEqual({ ok: false, reason: 'duplicate' });
    expect(await store.articleById('<oldb@h>')).toBeDefined();
    expect(await store.group('a.one')).toMatchObject({ low: 2, high: 2, count: 1 });
    const n = await put(store, '<n3@h>', 'a.one');
    expect(n.ok && n.locations[0]!.number).toBe(3);
    expect(await store.removeGroup('b.two')).toBe(true);
    await store.createGroup('b.two');
    expect(await store.group('b.two')).toMatchObject({ high: 1, count: 0 });
    const again = await put(store, '<b2@h>', 'b.two');
    expect(again.ok && again.locations[0]!.number).toBe(2);
    // History forgotten after rememberFor: the id may come again.
    await store.expire([{ pattern: '*', days: 0 }], 30 * 86400, 86400);
    expect(await store.history('<old@h>')).toBe('absent');
    if (reopen) {
      await store.close();
      const s2 = await reopen();
      expect(await s2.group('a.one')).toMatchObject({ high: 3 });
      expect(await s2.group('b.two')).toMatchObject({ high: 2 });
      await s2.close();
    }
  });

  it('NEWNEWS data: message-ids arrived since a time in matching groups', async () => {
    const { store } = await make();
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    await put(store, '<t1@h>', 'a.one', 100);
    await put(store, '<t2@h>', 'b.two', 200);
    await put(store, '<t3@h>', 'a.one', 300);
    expect(await store.newSince(150, (g) => g.startsWith('a.'))).toEqual(['<t3@h>']);
  });
});
