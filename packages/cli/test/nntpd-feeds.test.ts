/**
 * `gorgon nntpd --feeds FILE`, two daemons from the built CLI feeding each other on loopback:
 * a post to either reaches the other once, and nothing comes back.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NntpClient } from '@gorgon/nntp';
import { fileURLToPath } from 'node:url';
import { freePort, SpawnedDaemon } from './spawn-cli.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

async function waitForArticle(port: number, id: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = await NntpClient.connect({ port });
    try {
      return (await client.article(id)).article.toString();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    } finally {
      await client.quit();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('gorgon nntpd --feeds (built CLI)', () => {
  let dir: string;
  let a: SpawnedDaemon;
  let b: SpawnedDaemon;
  let portA: number;
  let portB: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-nntpd-feeds-'));
    portA = await freePort();
    portB = await freePort();
    await writeFile(join(dir, 'feeds-a'), `peer b 127.0.0.1:${portB} mode=stream path=b.test\naccept 127.0.0.1\n`);
    await writeFile(join(dir, 'feeds-b'), `peer a 127.0.0.1:${portA} mode=ihave path=a.test\naccept 127.0.0.1\n`);
    for (const spool of ['a', 'b']) {
      const made = spawnSync(process.execPath, [main, 'news', 'newgroup', 'test.one', '--spool', join(dir, spool)], { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`newgroup failed: ${made.stderr}`);
    }
    const common = ['--anonymous-post', '*'];
    a = new SpawnedDaemon(
      ['nntpd', '--port', String(portA), '--spool', join(dir, 'a'), '--feeds', join(dir, 'feeds-a'), '--path-host', 'a.test', ...common],
      dir,
    );
    b = new SpawnedDaemon(
      ['nntpd', '--port', String(portB), '--spool', join(dir, 'b'), '--feeds', join(dir, 'feeds-b'), '--path-host', 'b.test', ...common],
      dir,
    );
    await a.started('nntpd');
    await b.started('nntpd');
  }, 30_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('posts on either side reach the other once; Path shows the route', async () => {
    const post = async (port: number, id: string): Promise<void> => {
      const client = await NntpClient.connect({ port });
      await client.post(`From: t@example.org\r\nNewsgroups: test.one\r\nSubject: ${id}\r\nMessage-ID: ${id}\r\n\r\nhello\r\n`);
      await client.quit();
    };
    await post(portA, '<from-a@example.org>');
    await post(portB, '<from-b@example.org>');
    expect(await waitForArticle(portB, '<from-a@example.org>')).toMatch(/^Path: b\.test!a\.test/m);
    expect(await waitForArticle(portA, '<from-b@example.org>')).toMatch(/^Path: a\.test!b\.test/m);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const port of [portA, portB]) {
      const client = await NntpClient.connect({ port });
      const group = await client.group('test.one');
      const over = await client.over(`${group.low}-${group.high}`);
      const ids = over.map((o) => o.messageId).filter((id) => id.endsWith('@example.org>'));
      expect(ids.sort()).toEqual(['<from-a@example.org>', '<from-b@example.org>']);
      await client.quit();
    }
  }, 40_000);
});
