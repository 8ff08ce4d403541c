import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { mountSmallDisk, type SmallDisk } from '@gorgon/core/testing';
import { DiskNewsStore, injectArticle } from '../src/index.js';
import { readMultiline, startServer, wire } from './helpers.js';

// A full disk under the spool: POST, IHAVE and TAKETHIS get their "try again later" answers
// (nothing is acknowledged that is not stored), the session goes on, and once space is freed
// articles are accepted again, numbered after every number handed out, with nothing torn after
// a reopen. The disk is a small tmpfs mounted for the test; where mounting is not allowed the
// tests are skipped, saying why.

let disk: SmallDisk;
beforeEach(async () => {
  disk = await mountSmallDisk('1m');
});
afterEach(() => disk.dispose());

const article = (id: string, body = 'body line') =>
  `From: a@example.org\r\nNewsgroups: full.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\nPath: feeder\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}\r\n${'filler text '.repeat(60)}\r\n`;

describe.each([true, false])('a full disk under the spool (fsync %s)', (fsync) => {
  it('POST, IHAVE and TAKETHIS are refused for later, the session goes on, and posting works again once space is freed', async (t) => {
    if (!disk.mounted) return t.skip(disk.whyNot);
    const dir = join(disk.path, 'spool');
    let store = await DiskNewsStore.open(dir, { fsync });
    await store.createGroup('full.test');
    for (let i = 1; i <= 3; i++) await injectArticle(store, article(`before${i}`), { pathHost: 'h' });
    const records: MemoryLogRecord[] = [];
    const { server, connect } = await startServer({
      store,
      anonymous: { read: '*', post: '*' },
      feeders: () => true,
      logger: memoryLogger(records),
    });
    const client = await connect();
    try {
      expect(await client.line()).toMatch(/^200 /);
      await disk.fill(join(disk.path, 'ballast'));

      client.sendLine('POST');
      expect(await client.line()).toMatch(/^340 /);
      client.send(wire(article('post-full')));
      expect(await client.line()).toBe('441 posting failed: no space left on the spool');
      // One error line naming the article and the cause, for the operator.
      expect(records.find((r) => r['event'] === 'store-error')?.msg).toMatch(/^cannot store <post-full@example\.org>: .*ENOSPC/);

      client.sendLine('IHAVE <ihave-full@example.org>');
      expect(await client.line()).toMatch(/^335 /);
      client.send(wire(article('ihave-full')));
      expect(await client.line()).toMatch(/^436 /); // try again later: the feeder keeps it

      client.sendLine('MODE STREAM');
      expect(await client.line()).toMatch(/^203 /);
      client.send(`TAKETHIS <take-full@example.org>\r\n${wire(article('take-full'))}`);
      const take = await client.line();
      // TAKETHIS has only 239/439; a store that cannot write answers 400 and closes, so the
      // feeder offers the article again later instead of dropping it (as INN does when throttled).
      expect(take).toBe('400 cannot store articles now (no space left on the spool); try again later');
      expect((await client.readToEnd()).length).toBe(0); // and the connection is closed
      const again = await connect();
      expect(await again.line()).toMatch(/^200 /);
      again.sendLine('DATE');
      expect(await again.line()).toMatch(/^111 \d{14}$/);

      for (const id of ['post-full', 'ihave-full', 'take-full']) expect(await store.history(`<${id}@example.org>`)).toBe('absent');

      // Space again: accepted, numbered after everything handed out before.
      await unlink(join(disk.path, 'ballast'));
      again.sendLine('POST');
      expect(await again.line()).toMatch(/^340 /);
      again.send(wire(article('post-after')));
      expect(await again.line()).toMatch(/^240 /);
      again.sendLine('GROUP full.test');
      const [, count, low, high] = (await again.line()).split(' ').map(Number);
      expect(count).toBe(4);
      expect(low).toBe(1);
      expect(high).toBeGreaterThanOrEqual(4);
      again.sendLine(`ARTICLE ${high}`);
      expect(await again.line()).toMatch(/^220 /);
      expect((await readMultiline(again)).join('\n')).toContain('Subject: post-after');
      again.sendLine('QUIT');
      await again.line();
    } finally {
      client.socket.destroy();
      await server.close();
    }
    // Reopened: the same four articles, whole.
    store = await DiskNewsStore.open(dir, { fsync });
    const nums = await store.numbers('full.test', 0, Number.MAX_SAFE_INTEGER);
    expect(nums).toHaveLength(4);
    for (const n of nums) expect((await store.articleByNumber('full.test', n))!.data.toString()).toMatch(/filler text \r\n$/);
    await store.close();
  });
});
