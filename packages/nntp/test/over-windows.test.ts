import { describe, expect, it } from 'vitest';
import { DiskNewsStore, MemoryNewsStore, injectArticle, type NewsStore } from '../src/index.js';
import { readMultiline, startSession, testContext } from './helpers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// OVER of a range sends whole windows of 256 article numbers from a cache of their rendered
// bytes (commands/overview.ts). These checks compare every reply with the lines the store's
// entries make, across window edges, after new articles, after expiry and after a group is
// removed and made again: a stale window would show as a wrong or missing line.

const text = (i: number, group = 'big.group') =>
  `From: a@example.org\nNewsgroups: ${group}\nSubject: article ${i}\nMessage-ID: <w${i}.${group}@example.org>\n\nbody ${i}\n`;

async function fill(store: NewsStore, from: number, to: number, arrived: number, group = 'big.group'): Promise<void> {
  for (let i = from; i <= to; i++) await injectArticle(store, text(i, group), { pathHost: 'h', arrived });
}

/** The OVER lines the store's overview makes for [lo, hi]. */
async function expected(store: NewsStore, lo: number, hi: number): Promise<string[]> {
  return (await store.overview('big.group', lo, hi)).map(
    (o) => `${o.number}\t${o.subject}\t${o.from}\t${o.date}\t${o.messageId}\t${o.references}\t${o.bytes}\t${o.lines}\tXref: ${o.xref}`,
  );
}

const stores: [string, () => Promise<{ store: NewsStore; dispose: () => Promise<void> }>][] = [
  ['memory', async () => ({ store: new MemoryNewsStore(), dispose: async () => {} })],
  [
    'disk',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gorgon-over-'));
      const store = await DiskNewsStore.open(dir, { fsync: false });
      return { store, dispose: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
];

describe.each(stores)('OVER windows (%s store)', (_name, make) => {
  it('ranges across window edges, then after new articles, expiry and a remade group, match the overview', async () => {
    const { store, dispose } = await make();
    try {
      await store.createGroup('big.group');
      // 300-400 arrived earlier: expiry takes them out of the middle of a cached window.
      await fill(store, 1, 299, 1_000);
      await fill(store, 300, 400, 500);
      await fill(store, 401, 600, 1_000);
      const { ctx } = await testContext({ store });
      const { client } = startSession(ctx);
      await client.line();
      client.sendLine('GROUP big.group');
      expect(await client.line()).toBe('211 600 1 600 big.group');
      const over = async (range: string, lo: number, hi: number) => {
        client.sendLine(`OVER ${range}`);
        expect(await client.line()).toBe('224 overview information follows');
        expect(await readMultiline(client)).toEqual(await expected(store, lo, hi));
      };
      for (const [lo, hi] of [
        [1, 600],
        [1, 600], // from the cache now
        [256, 511], // exactly one window
        [255, 512], // both edges cut
        [300, 600],
        [0, 255],
      ] as const)
        await over(`${lo}-${hi}`, lo, hi);
      await over('1-', 1, 600);
      // New articles land in the last window and the one after it.
      await fill(store, 601, 800, 2_000);
      await over('1-800', 1, 800);
      await over('512-767', 512, 767);
      // Expiry of 300-400 leaves the first entry of the cached window 256-511 in place.
      expect((await store.expire([{ pattern: '*', days: 1 }], 500 + 86_400 + 1)).removed).toBe(101);
      await over('256-511', 256, 511);
      await over('1-800', 1, 800);
      // Then of the rest of 1-600 (arrived at 1,000): the windows they filled must not come back.
      const report = await store.expire([{ pattern: '*', days: 1 }], 1_000 + 86_400 + 1);
      expect(report.removed).toBe(499);
      client.sendLine('GROUP big.group');
      expect(await client.line()).toBe('211 200 601 800 big.group');
      await over('1-800', 1, 800);
      await over('512-767', 512, 767);
      client.sendLine('OVER 1-511');
      expect(await client.line()).toBe('423 no articles in that range');
      // Removed and made again: its numbers go on from the old high water mark, never reused.
      await store.removeGroup('big.group');
      await store.createGroup('big.group');
      await fill(store, 801, 900, 3_000);
      client.sendLine('GROUP big.group');
      expect(await client.line()).toMatch(/^211 100 \d+ \d+ big\.group$/);
      await over('1-100000', 1, 100_000);
    } finally {
      await store.close();
      await dispose();
    }
  });
});
