import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DiskNewsStore, injectArticle } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gorgon-recover-'));
  dirs.push(d);
  return d;
}
const text = (i: number) => `From: a@b.c\r\nNewsgroups: a.one,b.two\r\nSubject: n${i}\r\nMessage-ID: <k${i}@h>\r\n\r\nbody ${i}\r\n`;

/** Checks every invariant of a reopened spool: articles, overview, history and numbers agree. */
async function checkConsistent(store: DiskNewsStore): Promise<number> {
  let total = 0;
  for (const g of await store.groups()) {
    const nums = await store.numbers(g.name, 0, Number.MAX_SAFE_INTEGER);
    const ov = await store.overview(g.name, 0, Number.MAX_SAFE_INTEGER);
    expect(ov.map((o) => o.number)).toEqual(nums);
    expect(g.count).toBe(nums.length);
    for (const o of ov) {
      const a = (await store.articleByNumber(g.name, o.number))!;
      expect(a.messageId).toBe(o.messageId);
      expect(a.data.length).toBe(o.bytes);
      expect(a.data.toString()).toMatch(/\r\n\r\nbody \d+\r\n$/); // never torn
      expect(await store.history(o.messageId)).toBe('present');
    }
    if (nums.length > 0) expect(g.high).toBeGreaterThanOrEqual(nums.at(-1)!);
    total += nums.length;
  }
  return total;
}

describe('disk spool recovery', () => {
  it('repairs each crash window: leftover temp file, article without overview or history, torn overview line, overview without article', async () => {
    const dir = await tempDir();
    let store = await DiskNewsStore.open(dir);
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    for (let i = 1; i <= 3; i++) await injectArticle(store, text(i), { pathHost: 'h' });
    await store.close();
    // The crash windows, made by hand:
    await writeFile(join(dir, 'tmp', '123.half'), 'From: torn'); // killed while writing
    await writeFile(
      join(dir, 'articles', 'a.one', '4'),
      'From: a@b.c\r\nSubject: n4\r\nMessage-ID: <k4@h>\r\nXref: h a.one:4\r\n\r\nbody 4\r\n',
    ); // renamed, not yet in overview/history
    await appendFile(join(dir, 'overview', 'b.two'), '4\tn9\ta@b.c\t'); // torn line
    await appendFile(join(dir, 'overview', 'a.one'), '9\tghost\ta\td\t<ghost@h>\t\t10\t1\th a.one:9\n'); // no article 9
    store = await DiskNewsStore.open(dir);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await checkConsistent(store)).toBe(7);
    expect(await store.history('<k4@h>')).toBe('present');
    expect(await store.history('<ghost@h>')).toBe('absent');
    expect(await store.group('a.one')).toMatchObject({ high: 4, count: 4 });
    const r = await injectArticle(store, text(5), { pathHost: 'h' });
    expect(r.ok && r.locations).toEqual([
      { group: 'a.one', number: 5 },
      { group: 'b.two', number: 4 },
    ]);
    await store.close();
  });

  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  it.skipIf(!existsSync(dist)).each([
    ['one at a time', 1],
    ['eight per group commit, the journal rotating every few batches', 8],
  ])(
    'kill -9 during acceptance (%s): every acknowledged article is there whole, no number is handed out twice',
    async (_name, concurrent) => {
      const dir = await tempDir();
      const setup = await DiskNewsStore.open(dir);
      await setup.createGroup('a.one');
      await setup.createGroup('b.two');
      await setup.close();
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `
      const { DiskNewsStore, injectArticle } = await import(${JSON.stringify(dist)});
      const store = await DiskNewsStore.open(${JSON.stringify(dir)}, { journalBytes: 3000 });
      const one = async (i) => {
        await injectArticle(store, 'From: a@b.c\\r\\nNewsgroups: a.one,b.two\\r\\nSubject: n' + i + '\\r\\nMessage-ID: <k' + i + '@h>\\r\\n\\r\\nbody ' + i + '\\r\\n', { pathHost: 'h' });
        process.stdout.write('<k' + i + '@h>\\n');
      };
      for (let i = 1; ; i += ${concurrent}) await Promise.all(Array.from({ length: ${concurrent} }, (_, k) => one(i + k)));
    `,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const acked: string[] = [];
      let buf = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          acked.push(...lines);
          if (acked.length >= 80) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
      const store = await DiskNewsStore.open(dir);
      const total = await checkConsistent(store);
      for (const id of acked) expect(await store.history(id)).toBe('present');
      expect(total).toBeGreaterThanOrEqual(acked.length * 2);
      const high = (await store.group('a.one'))!.high;
      const r = await injectArticle(store, text(100_000), { pathHost: 'h' });
      expect(r.ok && r.locations[0]!.number).toBe(high + 1);
      await store.close();
    },
  );

  it('group commit: fifty articles accepted in one pass cost one journal fdatasync, and all are durable', async () => {
    const dir = await tempDir();
    const store = await DiskNewsStore.open(dir);
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = vi.spyOn(proto, 'datasync');
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => injectArticle(store, text(i + 1), { pathHost: 'h' })));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(datasync).toHaveBeenCalledTimes(1);
      // Numbers follow the call order, each once.
      expect(results.map((r) => r.ok && r.locations[0]!.number)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      // The journal holds all fifty until the checkpoint.
      const journal = await readFile(join(dir, 'journal'), 'latin1');
      expect(journal.match(/^J\t/gm)?.length).toBe(50);
      // A copy of the same id in the same batch is a duplicate, not a second article.
      const twice = await Promise.all([
        injectArticle(store, text(77), { pathHost: 'h' }),
        injectArticle(store, text(77), { pathHost: 'h' }),
      ]);
      expect(twice.map((r) => r.ok)).toEqual([true, false]);
    } finally {
      datasync.mockRestore();
    }
    await store.close();
    expect(existsSync(join(dir, 'journal'))).toBe(false); // checkpointed at close
    const again = await DiskNewsStore.open(dir);
    expect(await checkConsistent(again)).toBe(102);
    await again.close();
  });

  it('journal replay: articles whose files, overview and history lines were lost come back whole; a torn record is ignored', async () => {
    const dir = await tempDir();
    const store = await DiskNewsStore.open(dir);
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    await Promise.all(Array.from({ length: 10 }, (_, i) => injectArticle(store, text(i + 1), { pathHost: 'h' })));
    // A crash now (no close): then the power cut loses what was not fsynced — the article
    // files, the overview and history lines. Only the journal was fdatasynced.
    const journal = await readFile(join(dir, 'journal'));
    for (const g of ['a.one', 'b.two']) {
      for (const f of await readdir(join(dir, 'articles', g))) await rm(join(dir, 'articles', g, f));
      await truncate(join(dir, 'overview', g), 0);
    }
    await truncate(join(dir, 'history'), 0);
    await writeFile(join(dir, 'articles', 'a.one', '3'), 'From: a@b.c\r\nSubj'); // a torn file is written again
    // The batch being written when the process died: a torn record, never acknowledged.
    await writeFile(join(dir, 'journal'), Buffer.concat([journal, Buffer.from('J\t500\t<torn@h>\t1\ta.one:11\nFrom: torn')]));
    const reopened = await DiskNewsStore.open(dir);
    expect(await checkConsistent(reopened)).toBe(20);
    for (let i = 1; i <= 10; i++) expect(await reopened.history(`<k${i}@h>`)).toBe('present');
    expect(await reopened.history('<torn@h>')).toBe('absent');
    expect(existsSync(join(dir, 'journal'))).toBe(false);
    expect((await reopened.articleByNumber('a.one', 3))!.data.toString()).toContain('Subject: n3\r\n');
    const r = await injectArticle(reopened, text(11), { pathHost: 'h' });
    expect(r.ok && r.locations[0]).toEqual({ group: 'a.one', number: 11 });
    await reopened.close();
  });

  it('a journal checkpointed while articles keep arriving (rotation) and expiry after it keep the spool consistent', async () => {
    const dir = await tempDir();
    const store = await DiskNewsStore.open(dir, { journalBytes: 2_000 });
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    for (let round = 0; round < 6; round++)
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => injectArticle(store, text(round * 8 + i + 1), { pathHost: 'h', arrived: 1000 })),
      );
    const report = await store.expire([{ pattern: 'b.two', days: 1 }], 1000 + 2 * 86400);
    expect(report.removed).toBe(48);
    await store.close();
    const again = await DiskNewsStore.open(dir);
    expect(await checkConsistent(again)).toBe(48); // expired articles did not come back from a journal
    expect(await again.group('b.two')).toMatchObject({ count: 0, high: 48 });
    await again.close();
  });
});

describe.each([
  ['local (small articles read synchronously)', true],
  ['network root (every read on the thread pool)', false],
])('disk spool reads, %s', (_name, local) => {
  it('a symlink, a FIFO, a directory or a Unix socket planted where an article should be is not served (and does not block)', async () => {
    const dir = await tempDir();
    const store = await DiskNewsStore.open(dir, { local });
    await store.createGroup('a.one');
    await store.createGroup('b.two');
    for (let i = 1; i <= 4; i++) await injectArticle(store, text(i), { pathHost: 'h' });
    await rm(join(dir, 'articles', 'a.one', '4'));
    const { createServer } = await import('node:net');
    const unix = createServer();
    await new Promise<void>((ok) => unix.listen(join(dir, 'articles', 'a.one', '4'), ok));
    expect(await store.articleByNumber('a.one', 4)).toBeUndefined();
    await new Promise((ok) => unix.close(ok));
    const { execFileSync } = await import('node:child_process');
    const { symlink, mkdir: mkd } = await import('node:fs/promises');
    await rm(join(dir, 'articles', 'a.one', '1'));
    await symlink('/etc/passwd', join(dir, 'articles', 'a.one', '1'));
    await rm(join(dir, 'articles', 'a.one', '2'));
    execFileSync('mkfifo', [join(dir, 'articles', 'a.one', '2')]);
    await rm(join(dir, 'articles', 'a.one', '3'));
    await mkd(join(dir, 'articles', 'a.one', '3'));
    for (const n of [1, 2, 3]) expect(await store.articleByNumber('a.one', n)).toBeUndefined();
    expect((await store.articleByNumber('b.two', 2))!.data.toString()).toContain('body 2');
    expect(await store.articleById('<k1@h>')).toBeUndefined(); // its first location is the symlink
    await rm(join(dir, 'articles', 'a.one', '3'), { recursive: true });
    await rm(join(dir, 'articles', 'a.one', '2'));
    await store.close();
  });
});
