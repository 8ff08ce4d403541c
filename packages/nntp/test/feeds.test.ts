import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { FeedQueue, Feeds, FeedsConfigError, parseFeedsConfig, pathNames, type ArticleSource } from '@gorgon/nntp';
import { FakeNntp, startFake } from './fake-server.js';

const ARTICLE = (id: string, path = 'origin!not-for-mail'): Buffer =>
  Buffer.from(`Path: ${path}\r\nFrom: a@b\r\nNewsgroups: test.one\r\nSubject: s\r\nMessage-ID: ${id}\r\n\r\nbody\r\n`);

/** A spool of articles by id. */
function source(ids: string[]): ArticleSource & { map: Map<string, Buffer> } {
  const map = new Map(ids.map((id) => [id, ARTICLE(id)]));
  return { map, articleById: async (id) => (map.has(id) ? { data: map.get(id)! } : undefined) };
}

describe('feeds config', () => {
  it('parses peers and accept lines, with defaults', () => {
    const config = parseFeedsConfig(
      '# x\npeer inn 127.0.0.1:11119 mode=ihave groups=test.*,!test.bin path=inn.example batch=8\npeer b [::1]:1120\naccept 127.0.0.1 ::1\n',
    );
    expect(config.peers).toEqual([
      { name: 'inn', host: '127.0.0.1', port: 11119, mode: 'ihave', groups: 'test.*,!test.bin', pathName: 'inn.example', batch: 8 },
      { name: 'b', host: '::1', port: 1120, mode: 'stream', groups: '*', pathName: 'b', batch: 64 },
    ]);
    expect(config.acceptFrom).toEqual(['127.0.0.1', '::1']);
  });
  it('names the line of a mistake', () => {
    expect(() => parseFeedsConfig('peer a 1.2.3.4\n')).toThrow(FeedsConfigError);
    expect(() => parseFeedsConfig('\npeer a h:1 mode=fast\n')).toThrow(/feeds line 2: bad option/);
    expect(() => parseFeedsConfig('accept example.org\n')).toThrow(/not an IP address/);
    expect(() => parseFeedsConfig('peer a h:1\npeer a h:2\n')).toThrow(/defined twice/);
  });
  it('Path names: entries and their .POSTED / .MISMATCH forms', () => {
    expect(pathNames('a.example!b.example.POSTED!not-for-mail', 'b.example')).toBe(true);
    expect(pathNames('a.example!b.example!not-for-mail', 'B.EXAMPLE')).toBe(true);
    expect(pathNames('a.example!bb.example', 'b.example')).toBe(false);
  });
});

describe('feed queue journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-queue-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('survives a restart; a torn last line is ignored; done entries are compacted away on open', async () => {
    const file = join(dir, 'peer.journal');
    const q = await FeedQueue.open(file);
    await q.add(['<1@x>', '<2@x>', '<3@x>', 'not-an-id']);
    await q.done(['<2@x>']);
    await q.close();
    await writeFile(file, `${await readFile(file, 'utf8')}+<4@x`); // a crash mid-append
    const again = await FeedQueue.open(file);
    expect(again.due(Date.now(), 10).map((e) => e.messageId)).toEqual(['<1@x>', '<3@x>']);
    expect(await readFile(file, 'utf8')).toBe('+<1@x>\n+<3@x>\n');
    const entry = again.due(Date.now(), 1)[0]!;
    again.retry(entry, { baseMs: 1000, maxMs: 5000 });
    expect(entry.notBefore).toBeGreaterThan(Date.now() + 700);
    expect(again.due(Date.now(), 10).map((e) => e.messageId)).toEqual(['<3@x>']);
    await again.close();
  });
});

describe('feed queue group commit', () => {
  it('a thousand concurrent adds all land in the journal, in order, and all resolve', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gorgon-queue-'));
    try {
      const file = join(dir, 'p.journal');
      const q = await FeedQueue.open(file);
      const ids = Array.from({ length: 1000 }, (_, i) => `<g${i}@x>`);
      await Promise.all(ids.map((id) => q.add([id])));
      await q.close();
      expect(await readFile(file, 'utf8')).toBe(ids.map((id) => `+${id}\n`).join(''));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('outgoing feeds to a peer over loopback', () => {
  let guard: ReturnType<typeof leakGuard>;
  let dir: string;
  beforeEach(async () => {
    guard = leakGuard();
    FakeNntp.reset();
    FakeNntp.add('<known@x>', ARTICLE('<known@x>').toString('latin1'));
    dir = await mkdtemp(join(tmpdir(), 'gorgon-feeds-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await guard.check();
  });

  for (const mode of ['stream', 'ihave'] as const) {
    it(`${mode}: delivers matching articles once, skips ones whose Path names the peer, and refused duplicates leave the queue`, async () => {
      const { listener, port } = await startFake();
      await using _ = listener;
      const store = source(['<n1@x>', '<n2@x>', '<known@x>', '<looped@x>', '<other@x>']);
      const feeds = await Feeds.open({
        config: parseFeedsConfig(`peer fake 127.0.0.1:${port} mode=${mode} groups=test.* path=fake.example\n`),
        store,
        queueDir: dir,
        pathHost: 'me.example',
      });
      await feeds.articleAccepted({ messageId: '<n1@x>', groups: ['test.one'], path: 'me.example!origin' });
      await feeds.articleAccepted({ messageId: '<n2@x>', groups: ['misc.x', 'test.two'], path: 'me.example!origin' });
      await feeds.articleAccepted({ messageId: '<known@x>', groups: ['test.one'], path: 'me.example!origin' });
      await feeds.articleAccepted({ messageId: '<looped@x>', groups: ['test.one'], path: 'me.example!fake.example!origin' });
      await feeds.articleAccepted({ messageId: '<other@x>', groups: ['misc.x'], path: 'me.example!origin' });
      await feeds.drained();
      expect(feeds.queued()).toEqual({ fake: 0 });
      expect([...FakeNntp.articles.keys()].sort()).toEqual(['<known@x>', '<n1@x>', '<n2@x>']);
      expect(FakeNntp.articles.get('<n1@x>')!.equals(store.map.get('<n1@x>')!)).toBe(true);
      const verbs = FakeNntp.commands.map((c) => c.split(' ')[0]);
      if (mode === 'stream') {
        expect(verbs).toContain('CHECK');
        expect(verbs.filter((v) => v === 'TAKETHIS')).toHaveLength(2);
      } else expect(verbs.filter((v) => v === 'IHAVE')).toHaveLength(3);
      expect(feeds.isLoop('x!me.example!y')).toBe(true);
      await feeds.close();
    });
  }

  it('a peer that is down: the queue persists across a restart, backs off, and delivers once the peer is up', async () => {
    const { listener, port } = await startFake();
    await listener.close(); // the port is now closed
    const store = source(['<late@x>']);
    const config = parseFeedsConfig(`peer fake 127.0.0.1:${port} mode=stream\naccept 127.0.0.1\n`);
    const first = await Feeds.open({ config, store, queueDir: dir, pathHost: 'me.example', backoff: { baseMs: 50, maxMs: 200 } });
    expect(first.acceptsFeedFrom('127.0.0.1')).toBe(true);
    expect(first.acceptsFeedFrom('::ffff:127.0.0.1')).toBe(true);
    expect(first.acceptsFeedFrom('10.0.0.1')).toBe(false);
    await first.articleAccepted({ messageId: '<late@x>', groups: ['test.one'], path: 'me.example!o' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(first.queued()).toEqual({ fake: 1 });
    await first.close();
    expect(await readFile(join(dir, 'fake.journal'), 'utf8')).toBe('+<late@x>\n');
    // The peer comes back on the same port; a restarted server delivers from the journal.
    const { createListener } = await import('@gorgon/core');
    const back = createListener({ name: 'fake-nntp' }, (ch) => new FakeNntp(ch));
    await back.listen(port);
    await using _ = back;
    const second = await Feeds.open({ config, store, queueDir: dir, pathHost: 'me.example', backoff: { baseMs: 50, maxMs: 200 } });
    await second.drained();
    expect(FakeNntp.articles.has('<late@x>')).toBe(true);
    await second.close();
  });
});
