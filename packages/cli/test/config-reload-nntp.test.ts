import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryClient } from '@gorgon/core/testing';
import { DiskNewsStore } from '@gorgon/nntp';
import { SpawnedDaemon } from './spawn-cli.js';

// A SIGHUP reload that changes the nntp section builds a new server while the old one's
// sessions run to their end. Both must use the one open spool: two stores on one spool would
// each keep their own numbering and hand out the same article number twice.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-reload-nntp-'));
  const store = await DiskNewsStore.open(join(dir, 'spool'));
  await store.createGroup('local.test');
  await store.close();
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function writeConfig(idleTimeoutSeconds: number): Promise<void> {
  const nntp = { port: 0, spool: 'spool', anonymousPost: 'local.*', idleTimeoutSeconds };
  await writeFile(join(dir, 'gorgon.yaml'), JSON.stringify({ nntp }, null, 2));
}

async function session(port: number): Promise<MemoryClient> {
  const c = new MemoryClient(connect(port, '127.0.0.1'));
  expect(await c.line(5000)).toMatch(/^20[01]/);
  return c;
}

async function post(c: MemoryClient, id: string): Promise<void> {
  c.sendLine('POST');
  expect(await c.line(5000)).toMatch(/^340/);
  c.send(`From: a@example.org\r\nNewsgroups: local.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\n\r\nbody\r\n.\r\n`);
  expect(await c.line(10_000)).toMatch(/^240/);
}

/** The article numbers of local.test as a session sees them. */
async function numbers(c: MemoryClient): Promise<string[]> {
  c.sendLine('LISTGROUP local.test');
  expect(await c.line(5000)).toMatch(/^211/);
  const out: string[] = [];
  for (let line = await c.line(5000); line !== '.'; line = await c.line(5000)) out.push(line);
  return out;
}

describe('SIGHUP with a changed nntp section', () => {
  it('the retiring and the new server share the spool: no article number is handed out twice', async () => {
    await writeConfig(600);
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const port = await daemon.started('nntpd');
      const old = await session(port);
      await post(old, 'before');
      await writeConfig(900);
      const mark = daemon.records.length;
      daemon.child.kill('SIGHUP');
      await daemon.waitFor((r) => r.event === 'reload', mark);
      const fresh = await session(port);
      // Posts on both servers, interleaved.
      await post(old, 'old-1');
      await post(fresh, 'new-1');
      await post(old, 'old-2');
      await post(fresh, 'new-2');
      const seen = await numbers(fresh);
      expect(seen).toEqual(['1', '2', '3', '4', '5']);
      expect(await numbers(old)).toEqual(seen);
      old.sendLine('QUIT');
      await old.closed(5000);
      // Once the old server's last session is gone, the spool stays open for the new one.
      await post(fresh, 'after');
      expect(await numbers(fresh)).toEqual(['1', '2', '3', '4', '5', '6']);
      fresh.sendLine('QUIT');
      await fresh.closed(5000);
    } catch (err) {
      console.log(
        daemon.records
          .filter((r) => r.level >= 40)
          .map((r) => JSON.stringify(r))
          .join('\n'),
      );
      throw err;
    } finally {
      await daemon.stop();
    }
    // After a clean stop the spool reopens with every article.
    const store = await DiskNewsStore.open(join(dir, 'spool'));
    try {
      expect(await store.numbers('local.test', 1, 100)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await store.close();
    }
  });
});
