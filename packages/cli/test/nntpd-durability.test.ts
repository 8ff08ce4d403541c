/**
 * `gorgon nntpd --no-fsync` and `--network-root` (built CLI): by default an accepted article is
 * in the group-commit journal before its 240; with --no-fsync no journal is written (INN's
 * durability); --network-root (no synchronous reads) serves the same bytes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NntpClient } from '@gorgon/nntp';
import { freePort, SpawnedDaemon } from './spawn-cli.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const kinds = [
  { name: 'default (fsync, local reads)', flags: [] as string[], journal: true },
  { name: '--no-fsync --network-root', flags: ['--no-fsync', '--network-root'], journal: false },
];

describe.each(kinds)('gorgon nntpd $name', ({ flags, journal }) => {
  let dir: string;
  let daemon: SpawnedDaemon;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-nntpd-durability-'));
    port = await freePort();
    const made = spawnSync(process.execPath, [main, 'news', 'newgroup', 'test.one', '--spool', join(dir, 'spool')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`newgroup failed: ${made.stderr}`);
    daemon = new SpawnedDaemon(['nntpd', '--port', String(port), '--spool', join(dir, 'spool'), '--anonymous-post', '*', ...flags], dir);
    await daemon.started('nntpd');
  }, 30_000);
  afterAll(async () => {
    await daemon?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`answers 240, serves the article byte for byte${journal ? ', and journalled it first' : ', with no journal'}`, async () => {
    const body = `hello\r\n..a dotted line\r\n${`${'x'.repeat(70)}\r\n`.repeat(1100)}`; // past the 64 KiB of a synchronous read
    const client = await NntpClient.connect({ port });
    const small = await client.post(
      `From: t@example.org\r\nNewsgroups: test.one\r\nSubject: s\r\nMessage-ID: <s@example.org>\r\n\r\nhi\r\n`,
    );
    expect(small.code).toBe(240);
    const big = await client.post(
      `From: t@example.org\r\nNewsgroups: test.one\r\nSubject: b\r\nMessage-ID: <b@example.org>\r\n\r\n${body}`,
    );
    expect(big.code).toBe(240);
    const journalPath = join(dir, 'spool', 'journal');
    expect(existsSync(journalPath) && statSync(journalPath).size > 70_000).toBe(journal);
    expect((await client.article('<s@example.org>')).article.toString()).toMatch(/\r\n\r\nhi\r\n$/);
    expect((await client.article('<b@example.org>')).article.toString().endsWith(`\r\n\r\n${body}`)).toBe(true);
    await client.group('test.one');
    expect((await client.article(2)).article.length).toBeGreaterThan(70_000);
    await client.quit();
  }, 30_000);
});
