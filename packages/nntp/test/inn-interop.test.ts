/**
 * Peering with INN 2.7 on loopback: a private innd per test (INTEROP.md). Skipped, with the
 * reason, only where inn2 cannot run (not installed, not root).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Feeds, MemoryNewsStore, NntpClient, createNntpServer, parseFeedsConfig, type ArticleSource } from '@gorgon/nntp';
import { innUnavailable, startInn, type InnPeer } from './inn-peer.js';

const skip = innUnavailable();
if (skip) console.warn(`INN interop skipped: ${skip}`);

const article = (id: string, subject: string): Buffer =>
  Buffer.from(
    `Path: gorgon.test!not-for-mail\r\nFrom: Tester <tester@gorgon.test>\r\nNewsgroups: test.one\r\nSubject: ${subject}\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMessage-ID: ${id}\r\n\r\nHello INN.\r\n.a dot line\r\n`,
  );

describe.skipIf(skip !== undefined)('INN as a feed peer', () => {
  let inn: InnPeer;
  let dir: string;
  const port = 21000 + (process.pid % 500);
  beforeAll(async () => {
    inn = await startInn({ port, groups: ['test.one'] });
    dir = await mkdtemp(join(tmpdir(), 'gorgon-inn-feeds-'));
  }, 30_000);
  afterAll(async () => {
    await inn?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['stream', 'ihave'] as const) {
    it(`Gorgon feeds INN (${mode}); a second offer is refused by INN's history; the client reads it back byte-exact`, async () => {
      const id = `<${mode}-${Date.now()}@gorgon.test>`;
      const data = article(id, `fed by ${mode}`);
      const store: ArticleSource = { articleById: async (m) => (m === id ? { data } : undefined) };
      const feeds = await Feeds.open({
        config: parseFeedsConfig(`peer inn 127.0.0.1:${port} mode=${mode} path=inn.test\n`),
        store,
        queueDir: join(dir, mode),
        pathHost: 'gorgon.test',
      });
      await feeds.articleAccepted({ messageId: id, groups: ['test.one'], path: 'gorgon.test!not-for-mail' });
      await feeds.drained(15_000);
      // Offered again (a lost journal "done" line): INN refuses it, nothing duplicated.
      await feeds.articleAccepted({ messageId: `${id}`, groups: ['test.one'], path: 'gorgon.test!not-for-mail' });
      await feeds.drained(15_000);
      await feeds.close();

      const client = await NntpClient.connect({ port });
      if (mode === 'ihave') {
        expect(await client.ihave(id, data)).toBe('duplicate');
      } else {
        expect(await client.modeStream()).toBe(true);
        expect([...(await client.check([id]))]).toEqual([[id, 'duplicate']]);
      }
      await client.quit();
      const reader = await NntpClient.connect({ port });
      await reader.modeReader();
      const got = await reader.article(id);
      const text = got.article.toString();
      expect(text).toMatch(/^Path: inn\.test!gorgon\.test!not-for-mail\r\n/);
      expect(text.slice(text.indexOf('\r\n\r\n'))).toBe('\r\n\r\nHello INN.\r\n.a dot line\r\n');
      const group = await reader.group('test.one');
      const over = await reader.over(`${group.low}-${group.high}`);
      expect(over.map((o) => o.messageId)).toContain(id);
      await reader.quit();
    }, 40_000);
  }

  it('the client posts to INN and reads it back through GROUP, OVER and pipelined ARTICLE', async () => {
    const reader = await NntpClient.connect({ port });
    await reader.modeReader();
    expect(reader.postingAllowed).toBe(true);
    const id = `<post-${Date.now()}@gorgon.test>`;
    await reader.post(
      `From: Tester <tester@gorgon.test>\nNewsgroups: test.one\nSubject: posted by the client\nMessage-ID: ${id}\n\nbody\n`,
    );
    const group = await reader.group('test.one');
    const over = await reader.over(`${group.low}-${group.high}`);
    const numbers = over.map((o) => o.number);
    const got = [];
    for await (const result of reader.articles(numbers, 8)) got.push(result.ok ? result.messageId : `!${result.code}`);
    expect(got).toContain(id);
    expect(got.every((g) => !g.startsWith('!'))).toBe(true);
    await reader.quit();
  }, 30_000);
});

describe.skipIf(skip !== undefined)('INN feeds Gorgon (innfeed)', () => {
  for (const streaming of [true, false]) {
    it(`an article posted to INN reaches Gorgon (${streaming ? 'streaming' : 'IHAVE'}) with INN in its Path`, async () => {
      const store = new MemoryNewsStore();
      await store.createGroup('test.one');
      await using server = createNntpServer({
        store,
        pathHost: 'gorgon.test',
        feeders: ({ remoteAddress }) => remoteAddress === '127.0.0.1',
      });
      const verbs = new Set<string>();
      server.on('command', (e) => verbs.add(e.verb));
      const gorgonPort = (await server.listen(0, '127.0.0.1')).port;
      const port = 21600 + (process.pid % 300) + (streaming ? 0 : 1);
      const inn = await startInn({
        port,
        groups: ['test.one'],
        newsfeeds: `gorgon/gorgon.test:test.*:Tm:innfeed!\ninnfeed!:!*:Tc,Wnm*:/usr/lib/news/bin/innfeed`,
        innfeed: `peer gorgon {\n  ip-name: 127.0.0.1\n  port-number: ${gorgonPort}\n  streaming: ${streaming}\n  initial-reconnect-time: 1\n}\n`,
      });
      try {
        const id = `<inn-${streaming ? 's' : 'i'}-${Date.now()}@inn.test>`;
        const reader = await NntpClient.connect({ port });
        await reader.modeReader();
        await reader.post(`From: Tester <tester@inn.test>\nNewsgroups: test.one\nSubject: from INN\nMessage-ID: ${id}\n\nposted to INN\n`);
        await reader.quit();
        const deadline = Date.now() + 25_000;
        while (!(await store.articleById(id))) {
          if (Date.now() > deadline) throw new Error(`INN did not feed ${id} to Gorgon within 25 s`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const got = (await store.articleById(id))!.data.toString();
        expect(got).toMatch(/^Path: gorgon\.test!inn\.test/m);
        expect(got.slice(got.indexOf('\r\n\r\n'))).toBe('\r\n\r\nposted to INN\r\n');
        expect((await store.group('test.one'))!.count).toBe(1);
        expect(verbs.has(streaming ? 'TAKETHIS' : 'IHAVE')).toBe(true);
      } finally {
        await inn.stop();
      }
    }, 60_000);
  }
});
