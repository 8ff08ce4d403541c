/**
 * Two Gorgon servers feeding each other over loopback (streaming one way, IHAVE the other):
 * every article reaches the other side once, nothing comes back (Path), and an article offered
 * twice is stored once (history).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { Feeds, MemoryNewsStore, NntpClient, createNntpServer, parseFeedsConfig, type NntpServer } from '@gorgon/nntp';

interface Node {
  server: NntpServer;
  store: MemoryNewsStore;
  feeds: Feeds | undefined;
  port: number;
}

async function node(name: string): Promise<Node> {
  const store = new MemoryNewsStore();
  await store.createGroup('test.one');
  const holder: Node = { server: undefined as never, store, feeds: undefined, port: 0 };
  holder.server = createNntpServer({
    store,
    pathHost: name,
    anonymous: { read: '*', post: '*' },
    feeders: ({ remoteAddress }) => holder.feeds?.acceptsFeedFrom(remoteAddress) ?? false,
    onAccepted: (article) => holder.feeds?.articleAccepted(article),
  });
  holder.port = (await holder.server.listen(0, '127.0.0.1')).port;
  return holder;
}

const post = async (port: number, id: string, subject: string): Promise<void> => {
  const client = await NntpClient.connect({ port });
  await client.post(
    `From: t@example.org\r\nNewsgroups: test.one\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\n\r\nbody of ${subject}\r\n`,
  );
  await client.quit();
};

describe('Gorgon <-> Gorgon feeds', () => {
  let guard: ReturnType<typeof leakGuard>;
  let dir: string;
  beforeEach(async () => {
    guard = leakGuard();
    dir = await mkdtemp(join(tmpdir(), 'gorgon-g2g-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await guard.check();
  });

  it('never loop, never duplicate', async () => {
    const a = await node('a.test');
    const b = await node('b.test');
    try {
      a.feeds = await Feeds.open({
        config: parseFeedsConfig(`peer b 127.0.0.1:${b.port} mode=stream path=b.test\naccept 127.0.0.1\n`),
        store: a.store,
        queueDir: join(dir, 'a'),
        pathHost: 'a.test',
      });
      b.feeds = await Feeds.open({
        config: parseFeedsConfig(`peer a 127.0.0.1:${a.port} mode=ihave path=a.test\naccept 127.0.0.1\n`),
        store: b.store,
        queueDir: join(dir, 'b'),
        pathHost: 'b.test',
      });
      await post(a.port, '<one@a.test>', 'from a');
      await post(b.port, '<two@b.test>', 'from b');
      // The same article posted to both: each stores it once, and neither feeds it twice.
      await post(a.port, '<both@x.test>', 'to both');
      await post(b.port, '<both@x.test>', 'to both').catch(() => {}); // 441 if it arrived first
      for (let i = 0; i < 3; i++) {
        await a.feeds.drained();
        await b.feeds.drained();
      }
      for (const n of [a, b]) {
        const info = (await n.store.group('test.one'))!;
        expect(info.count).toBe(3);
        for (const id of ['<one@a.test>', '<two@b.test>', '<both@x.test>']) expect(await n.store.articleById(id)).toBeDefined();
      }
      const one = (await b.store.articleById('<one@a.test>'))!.data.toString();
      expect(one).toMatch(/^Path: b\.test!a\.test/m);
      const two = (await a.store.articleById('<two@b.test>'))!.data.toString();
      expect(two).toMatch(/^Path: a\.test!b\.test/m);
      // Nothing waits, and nothing was offered back to where it came from.
      expect(a.feeds.queued()).toEqual({ b: 0 });
      expect(b.feeds.queued()).toEqual({ a: 0 });
    } finally {
      await a.feeds?.close();
      await b.feeds?.close();
      await a.server.close();
      await b.server.close();
    }
  });

  it('Feeds.fromFile names the file and line of a mistake; serverOptions wires a server', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = join(dir, 'feeds');
    await writeFile(file, 'accept 127.0.0.1\npeer x nowhere\n');
    await expect(Feeds.fromFile(file, { store: new MemoryNewsStore(), queueDir: dir, pathHost: 'a.test' })).rejects.toThrow(
      `feeds line 2: ${file}: peer x needs host:port`,
    );
    await writeFile(file, 'accept 127.0.0.1\n');
    const feeds = await Feeds.fromFile(file, { store: new MemoryNewsStore(), queueDir: dir, pathHost: 'a.test' });
    const options = feeds.serverOptions();
    expect(options.feeders({ remoteAddress: '127.0.0.1' })).toBe(true);
    expect(options.feeders({ remoteAddress: '192.0.2.1' })).toBe(false);
    await feeds.close();
  });

  it('a feed from an address not in the accept list is refused', async () => {
    const a = await node('a.test');
    try {
      a.feeds = await Feeds.open({
        config: parseFeedsConfig('accept 10.9.9.9\n'),
        store: a.store,
        queueDir: join(dir, 'a'),
        pathHost: 'a.test',
      });
      const client = await NntpClient.connect({ port: a.port });
      const offer = await client.command('IHAVE <x@y.test>');
      expect([480, 502]).toContain(offer.code);
      await client.quit();
    } finally {
      await a.feeds?.close();
      await a.server.close();
    }
  });
});
