import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { deliver, MaildirStore } from '../src/internal.js';

// On a full ext4 disk, moving new/ to cur/ fails with ENOSPC when cur/'s directory needs a new
// block (a tmpfs never does, so the error is injected): the login must still succeed.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (String(from).includes('/new/') && String(to).includes('/cur/') && String(from).includes('/new/nospace.')) {
        throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
      }
      return real.rename(from, to);
    },
  };
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-full-cur-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

it('a new/ message that cannot be moved to cur/ (ENOSPC) waits in new/; the login succeeds with cur/', async () => {
  await deliver(root, 'alice', 'Subject: old\n\nin cur\n');
  await (await new MaildirStore(root).open('alice')).release();
  const d = await deliver(root, 'alice', 'Subject: new\n\nstuck in new\n');
  const { rename } = await import('node:fs/promises');
  const stuck = d.path.replace(/\/new\/(.*)$/, '/new/nospace.$1');
  await rename(d.path, stuck);
  const drop = await new MaildirStore(root).open('alice');
  expect(drop.messages).toHaveLength(1);
  expect(await readdir(join(root, 'alice', 'new'))).toEqual([stuck.split('/').pop()]);
  await drop.release();
});
