import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { parseNewsUrl, parseRules, pullNews, type PullEvent } from '@gorgon/nntp';
import { FakeNntp, startFake } from './fake-server.js';

const ARTICLE = (n: number, from = 'me@x'): string =>
  `From: ${from}\r\nNewsgroups: test.one\r\nSubject: Subject ${n}\r\nMessage-ID: <a${n}@x>\r\n\r\nbody ${n}\r\nFrom the start\r\n`;

describe('news pull (pullNews) over loopback', () => {
  let guard: ReturnType<typeof leakGuard>;
  let dir: string;
  beforeEach(async () => {
    guard = leakGuard();
    FakeNntp.reset();
    for (let n = 1; n <= 40; n++) FakeNntp.add(`<a${n}@x>`, ARTICLE(n, n % 10 === 0 ? 'spammer@bad.example' : 'me@x'));
    dir = await mkdtemp(join(tmpdir(), 'gorgon-pull-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await guard.check();
  });

  it('parses news URLs', () => {
    expect(parseNewsUrl('nntp://news.example')).toMatchObject({ host: 'news.example', port: 119, tls: false });
    expect(parseNewsUrl('nntps://[::1]:1563')).toMatchObject({ host: '::1', port: 1563, tls: true, key: '::1:1563' });
    expect(() => parseNewsUrl('http://x')).toThrow(/not a news server URL/);
  });

  it('into a Maildir over 3 pipelined connections; a second run fetches nothing; new articles only after', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const out = join(dir, 'Maildir');
    const events: PullEvent[] = [];
    const first = await pullNews({
      servers: [`nntp://127.0.0.1:${port}`],
      groups: 'test.*,!*.binaries',
      out,
      format: 'maildir',
      connections: 3,
      onEvent: (e) => events.push(e),
    });
    expect(first).toMatchObject({ fetched: 40, missing: 0, failures: [] });
    const files = await readdir(join(out, 'new'));
    expect(files).toHaveLength(40);
    const bodies = await Promise.all(files.map((f) => readFile(join(out, 'new', f), 'latin1')));
    expect(bodies.sort()).toEqual(
      Array.from({ length: 40 }, (_, i) =>
        ARTICLE(i + 1, (i + 1) % 10 === 0 ? 'spammer@bad.example' : 'me@x').replace(/\r\n/g, '\n'),
      ).sort(),
    );
    expect(events.filter((e) => e.type === 'group').map((e) => (e as { group: string }).group)).toEqual(['test.empty', 'test.one']);
    // Three connections, each with its own GROUP: the ARTICLE requests were spread over them.
    expect(FakeNntp.commands.filter((c) => c === 'GROUP test.one')).toHaveLength(3);

    FakeNntp.commands = [];
    const second = await pullNews({
      servers: [`nntp://127.0.0.1:${port}`],
      groups: 'test.*,!*.binaries',
      out,
      format: 'maildir',
      connections: 3,
    });
    expect(second.fetched).toBe(0);
    expect(FakeNntp.commands.some((c) => c.startsWith('ARTICLE'))).toBe(false);

    FakeNntp.add('<a41@x>', ARTICLE(41));
    const third = await pullNews({ servers: [`nntp://127.0.0.1:${port}`], groups: 'test.*', out, format: 'maildir' });
    expect(third.fetched).toBe(1);
    expect(await readdir(join(out, 'new'))).toHaveLength(41);
    const state = JSON.parse(await readFile(join(out, '.gorgon-pull.json'), 'utf8')) as Record<string, Record<string, number>>;
    expect(state[`127.0.0.1:${port}`]).toEqual({ 'test.one': 41 });
  });

  it('two servers in one run into an mbox, a live filter kills by rule; cross-posted ids stored once', async () => {
    const a = await startFake();
    const b = await startFake();
    await using _a = a.listener;
    await using _b = b.listener;
    const out = join(dir, 'news.mbox');
    const rules = parseRules('kill From: *@bad.example\n');
    const result = await pullNews({
      servers: [`nntp://127.0.0.1:${a.port}`, `nntp://127.0.0.1:${b.port}`],
      groups: 'test.one',
      out,
      format: 'mbox',
      rules,
    });
    // Both fake servers carry the same 40 articles: each is stored once; 4 are killed.
    expect(result.fetched + result.killed + result.duplicates).toBe(80);
    expect(result.fetched).toBe(36);
    const mbox = await readFile(out, 'latin1');
    expect(mbox.match(/^From gorgon-news /gm)).toHaveLength(36);
    expect(mbox).toContain('\n>From the start\n');
    expect(mbox).not.toContain('bad.example');
  });

  it('an unreachable server is a failure of that server; the others are pulled', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const result = await pullNews({
      servers: ['nntp://127.0.0.1:1', `nntp://127.0.0.1:${port}`],
      groups: 'test.one',
      out: join(dir, 'M'),
      format: 'maildir',
    });
    expect(result.fetched).toBe(40);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatch(/127\.0\.0\.1:1/);
  });
});
