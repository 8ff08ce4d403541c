import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskStore, MemoryStore, type HttpStore } from '@gorgon/http';
import { tempDir } from './helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => dirs.forEach((d) => d.remove()));

/** The same tree in each store: /a.txt, /sub/b.bin, /sub/deep/ (empty). */
const stores: Array<[string, () => HttpStore]> = [
  [
    'MemoryStore',
    () => {
      const m = new MemoryStore();
      m.put('/a.txt', 'alpha');
      m.put('/sub/b.bin', Buffer.from([1, 2, 3]));
      m.mkdir('/sub/deep');
      return m;
    },
  ],
  ...([true, false] as const).map((local): [string, () => HttpStore] => [
    `DiskStore (local: ${local})`,
    () => {
      const t = tempDir();
      const out = tempDir();
      dirs.push(t, out);
      writeFileSync(join(t.dir, 'a.txt'), 'alpha');
      mkdirSync(join(t.dir, 'sub', 'deep'), { recursive: true });
      writeFileSync(join(t.dir, 'sub', 'b.bin'), Buffer.from([1, 2, 3]));
      writeFileSync(join(out.dir, 'x'), 'outside');
      symlinkSync(join(out.dir, 'x'), join(t.dir, 'sub', 'out-link'));
      return new DiskStore(t.dir, { local });
    },
  ]),
];

describe.each(stores)('HttpStore contract: %s', (_name, make) => {
  const store = make();

  it('opens a file: size, mtime, a quoted strong ETag, reads at a position', async () => {
    const f = await store.open('/a.txt');
    expect(f?.kind).toBe('file');
    if (f?.kind !== 'file') return;
    expect(f.size).toBe(5);
    expect(f.etag).toMatch(/^"[^"]+"$/);
    const buf = Buffer.alloc(3);
    expect(await f.read(buf, 0, 3, 2)).toBe(3);
    expect(buf.toString()).toBe('pha');
    await f.close();
    await f.close();
  });

  it('opens a directory; missing paths are undefined', async () => {
    expect((await store.open('/sub'))?.kind).toBe('directory');
    expect((await store.open('/'))?.kind).toBe('directory');
    expect(await store.open('/nope')).toBeUndefined();
    expect(await store.open('/a.txt/x')).toBeUndefined();
  });

  it('lists a directory sorted, with kinds and sizes; only what is servable', async () => {
    const list = await store.list('/sub');
    expect(list?.map((e) => [e.name, e.kind])).toEqual([
      ['b.bin', 'file'],
      ['deep', 'directory'],
    ]);
    expect(list?.[0]?.size).toBe(3);
    expect(await store.list('/a.txt')).toBeUndefined();
  });

  it('a symlink out of the root is not there', async () => {
    expect(await store.open('/sub/out-link')).toBeUndefined();
    if (store.openNow) expect(store.openNow('/sub/out-link')).toBeUndefined();
  });

  it('openNow, where offered, agrees with open', async () => {
    if (!store.openNow) return;
    const f = store.openNow('/a.txt');
    const g = await store.open('/a.txt');
    expect(f?.kind === 'file' && g?.kind === 'file' && f.etag === g.etag && f.size === g.size).toBe(true);
    if (f?.kind === 'file') {
      const buf = Buffer.alloc(2);
      expect(f.readNow?.(buf, 0, 2, 0)).toBe(2);
      await f.close();
    }
    if (g?.kind === 'file') await g.close();
    expect(store.openNow('/sub')?.kind).toBe('directory');
    expect(store.openNow('/nope')).toBeUndefined();
  });

  it('the ETag changes when the content does', async () => {
    const f1 = await store.open('/a.txt');
    if (store instanceof MemoryStore) store.put('/a.txt', 'alpha2');
    else writeFileSync(join((store as DiskStore).root, 'a.txt'), 'alpha22');
    const f2 = await store.open('/a.txt');
    expect(f1?.kind === 'file' && f2?.kind === 'file' && f1.etag !== f2.etag).toBe(true);
    if (f1?.kind === 'file') await f1.close();
    if (f2?.kind === 'file') await f2.close();
  });
});

describe('DiskStore: the resolved-path memo never serves a swapped path', () => {
  it('a directory swapped for a symlink out of the root within the second: not served', async () => {
    const t = tempDir();
    const out = tempDir();
    dirs.push(t, out);
    mkdirSync(join(t.dir, 'd'));
    writeFileSync(join(t.dir, 'd', 'f.txt'), 'inside');
    writeFileSync(join(out.dir, 'f.txt'), 'OUTSIDE');
    const store = new DiskStore(t.dir);
    const first = store.openNow!('/d/f.txt');
    expect(first?.kind).toBe('file');
    if (first?.kind === 'file') await first.close();
    writeFileSync(join(t.dir, 'd', 'f.txt'), 'inside, changed'); // same inode, new content
    const again = store.openNow!('/d/f.txt');
    expect(again?.kind === 'file' && again.size).toBe(15);
    if (again?.kind === 'file') await again.close();
    renameSync(join(t.dir, 'd'), join(t.dir, 'd-old'));
    symlinkSync(out.dir, join(t.dir, 'd'));
    expect(store.openNow!('/d/f.txt')).toBeUndefined();
  });
});
