import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskStore, MemoryStore } from '@gorgon/http';
import { httpStoreContract, runContract, type HttpStoreFactory } from '@gorgon/http/testing';
import { tempDir } from './helpers.js';

const dirs: Array<{ remove(): void }> = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

/** The contract's tree in each store (see httpStoreContract). */
const factories: Array<[string, HttpStoreFactory]> = [
  [
    'MemoryStore',
    () => {
      const m = new MemoryStore();
      m.put('/a.txt', 'alpha');
      m.put('/sub/b.bin', Buffer.from([1, 2, 3]));
      m.mkdir('/sub/deep');
      return { store: m, change: () => m.put('/a.txt', 'alpha2') };
    },
  ],
  ...([true, false] as const).map((local): [string, HttpStoreFactory] => [
    `DiskStore (local: ${local})`,
    () => {
      const t = tempDir();
      writeFileSync(join(t.dir, 'a.txt'), 'alpha');
      mkdirSync(join(t.dir, 'sub', 'deep'), { recursive: true });
      writeFileSync(join(t.dir, 'sub', 'b.bin'), Buffer.from([1, 2, 3]));
      return {
        store: new DiskStore(t.dir, { local }),
        change: () => writeFileSync(join(t.dir, 'a.txt'), 'alpha22'),
        dispose: () => t.remove(),
      };
    },
  ]),
];

describe.each(factories)('HttpStore contract (@gorgon/http/testing): %s', (_name, make) => {
  for (const check of httpStoreContract(make)) it(check.name, check.run);
});

it('runContract reports every check of the memory store as passed (no test framework needed)', async () => {
  const report = await runContract(httpStoreContract(factories[0]![1]));
  expect(report.failed).toEqual([]);
  expect(report.passed).toHaveLength(5);
});

describe('DiskStore confinement', () => {
  it('a symlink out of the root is not there (open and openNow)', async () => {
    const t = tempDir();
    const out = tempDir();
    dirs.push(t, out);
    mkdirSync(join(t.dir, 'sub'));
    writeFileSync(join(out.dir, 'x'), 'outside');
    symlinkSync(join(out.dir, 'x'), join(t.dir, 'sub', 'out-link'));
    const store = new DiskStore(t.dir);
    expect(await store.open('/sub/out-link')).toBeUndefined();
    expect(store.openNow!('/sub/out-link')).toBeUndefined();
    expect(await store.list('/sub')).toEqual([]);
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
