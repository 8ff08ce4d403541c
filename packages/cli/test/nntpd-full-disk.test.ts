/**
 * `gorgon nntpd` whose spool's disk is full when it is told to stop (SIGTERM): the spool's
 * closing writes fail, and the daemon still ends, with one log line and one sentence on stderr
 * (no stack trace) and exit status 1; started again once there is room, it serves what it had
 * acknowledged. The disk is a small tmpfs mounted for the test (skipped, saying why, where
 * mounting is not allowed).
 */
import { spawnSync } from 'node:child_process';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountSmallDisk, type SmallDisk } from '@gorgon/core/testing';
import { NntpClient } from '@gorgon/nntp';
import { freePort, SpawnedDaemon } from './spawn-cli.js';

let disk: SmallDisk;
let daemon: SpawnedDaemon | undefined;
beforeEach(async () => {
  disk = await mountSmallDisk('1m');
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await disk.dispose();
});

describe('gorgon nntpd stopped with its spool on a full disk', () => {
  it('ends with one sentence and exit status 1, and serves the acknowledged article after a restart', async (t) => {
    if (!disk.mounted) return t.skip(disk.whyNot);
    const spool = join(disk.path, 'spool');
    const start = async (): Promise<number> => {
      const port = await freePort();
      // --no-fsync: no journal, whose removal at the closing checkpoint would free room again.
      daemon = new SpawnedDaemon(['nntpd', '--port', String(port), '--spool', spool, '--anonymous-post', '*', '--no-fsync'], disk.path);
      await daemon.started('nntpd');
      return port;
    };
    const made = spawnSync(process.execPath, [join(__dirname, '../dist/main.js'), 'news', 'newgroup', 'test.full', '--spool', spool], {
      encoding: 'utf8',
    });
    expect(made.status, made.stderr).toBe(0);
    let port = await start();
    let client = await NntpClient.connect({ port });
    const posted = await client.post(
      'From: t@example.org\r\nNewsgroups: test.full\r\nSubject: kept\r\nMessage-ID: <kept@example.org>\r\n\r\nacknowledged before the disk filled\r\n',
    );
    expect(posted.code).toBe(240);
    await client.quit();
    await disk.fill(join(disk.path, 'ballast'));
    daemon!.child.kill('SIGTERM');
    const code = await daemon!.exited();
    expect(code, daemon!.stderr).toBe(1);
    const lastWords = daemon!.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    expect(lastWords).toHaveLength(1);
    expect(lastWords[0]).toMatch(/^gorgon: shutdown did not complete cleanly: .*ENOSPC/);
    expect(daemon!.records.some((r) => r.event === 'shutdown-failed')).toBe(true);
    daemon = undefined;

    await unlink(join(disk.path, 'ballast'));
    port = await start();
    client = await NntpClient.connect({ port });
    expect((await client.article('<kept@example.org>')).article.toString()).toMatch(/acknowledged before the disk filled\r\n$/);
    await client.quit();
    expect(await daemon!.stop()).toBe(0);
    daemon = undefined;
  }, 30_000);
});
