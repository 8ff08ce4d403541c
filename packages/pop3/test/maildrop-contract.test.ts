import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { deliver, MaildirStore, MemoryMaildropStore } from '@gorgon/pop3';
import { maildropContract, type MaildropFactory } from '@gorgon/pop3/testing';

// The suite an embedder runs on their own store (@gorgon/pop3/testing), on the shipped stores.
const implementations: Array<[string, MaildropFactory]> = [
  [
    'memory',
    () => {
      const store = new MemoryMaildropStore();
      return { store, deliver: async (u, m) => void store.deliver(u, m) };
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

describe.each(implementations)('Maildrop contract: %s', (_name, make) => {
  for (const check of maildropContract(make)) it(check.name, check.run);
});
