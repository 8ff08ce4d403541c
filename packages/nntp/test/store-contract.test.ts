import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { DiskNewsStore, MemoryNewsStore } from '../src/index.js';
import { newsStoreContract, type NewsStoreFactory } from '../src/testing/index.js';

/** One contract (src/testing/store-contract.ts, exported as @gorgon/nntp/testing) run against both stores. */
const kinds: [string, NewsStoreFactory][] = [
  ['memory', () => ({ store: new MemoryNewsStore() })],
  [
    'disk',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gorgon-spool-'));
      return {
        store: await DiskNewsStore.open(dir),
        reopen: () => DiskNewsStore.open(dir),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'disk, network root',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gorgon-spool-'));
      return {
        store: await DiskNewsStore.open(dir, { local: false }),
        reopen: () => DiskNewsStore.open(dir, { local: false }),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  ],
];

describe.each(kinds)('NewsStore contract: %s', (_name, make) => {
  for (const check of newsStoreContract(make)) it(check.name, () => check.run());
});
