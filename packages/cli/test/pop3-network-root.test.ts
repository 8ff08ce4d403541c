import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '@gorgon/core';
import type { MaildirStore, MaildirStoreOptions } from '@gorgon/pop3';
import { pop3dCommand } from '../src/commands/pop3d.js';
import { pop3Protocol, pop3Section } from '../src/protocols/pop3.js';

// The Maildir stores the pop3 section makes, with the options they were given.
const made = vi.hoisted(() => [] as Array<{ store: MaildirStore; options: MaildirStoreOptions | undefined }>);
vi.mock('@gorgon/pop3', async (importOriginal) => {
  const pop3 = await importOriginal<typeof import('@gorgon/pop3')>();
  class RecordingStore extends pop3.MaildirStore {
    constructor(root: string, options?: MaildirStoreOptions) {
      super(root, options);
      made.push({ store: this, options });
    }
  }
  return { ...pop3, MaildirStore: RecordingStore };
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  made.length = 0;
});

describe('networkRoot (gorgon pop3d --network-root) reaches the Maildir store', () => {
  it.each([
    [undefined, true],
    [false, true],
    [true, false],
  ] as const)('networkRoot %s: small messages read synchronously %s', async (networkRoot, sync) => {
    const data = await mkdtemp(join(tmpdir(), 'gorgon-cli-netroot-'));
    dirs.push(data);
    const demo = await pop3Protocol.demo(data);
    const over = networkRoot === undefined ? {} : { networkRoot };
    await pop3Protocol.build(pop3Section.parse({ ...demo, tlsPort: undefined, ...over }), { logger: silentLogger, baseDir: data });
    expect(made).toHaveLength(1);
    expect(made[0]!.options?.local).toBe(sync ? undefined : false);
    expect(made[0]!.options?.logger).toBe(silentLogger);
    // Through the store: the demo's first message is small; with a network root it is left to
    // the asynchronous read.
    const drop = await made[0]!.store.open('demo');
    try {
      expect(drop.readNow!(0) !== undefined).toBe(sync);
      const producer = await drop.read(0);
      expect(String(await producer.more())).toContain('Welcome to Gorgon POP3');
    } finally {
      await drop.release();
    }
  });

  it('the flag is a boolean, off by default', async () => {
    const build = pop3dCommand.builder as unknown as (y: ReturnType<typeof yargs>) => ReturnType<typeof yargs>;
    const parse = (argv: string[]) => build(yargs(argv)).parseSync() as Record<string, unknown>;
    const base = ['--maildirs', 'm', '--users', 'u.json'];
    expect(parse(base)['network-root']).toBe(false);
    expect(parse([...base, '--network-root'])['network-root']).toBe(true);
  });
});
