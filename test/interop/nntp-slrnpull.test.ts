/**
 * slrnpull (Debian package slrnpull) against the Gorgon NNTP server on loopback: it pulls a
 * group into its own spool (one file per article, byte-exact bodies, its overview), a second
 * run pulls nothing new, and an article queued in its out.going directory is posted (with
 * AUTHINFO from its `authinfo` file) and then pulled back. slrnpull exits 0 even when something
 * failed, so every outcome is checked in the spool and in Gorgon's store.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { available, CI, need, run } from './pop3-fixtures.js';
import { PASSWORD, startNntp, USER, type NntpFixture } from './nntp-fixtures.js';

const SLRNPULL = '/usr/bin/slrnpull';

let fixture: NntpFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** The article files of a group in slrnpull's spool (news/a/b/c/N), by number. */
async function pulled(root: string, group: string): Promise<Map<number, string>> {
  const dir = join(root, 'news', ...group.split('.'));
  const out = new Map<number, string>();
  for (const f of await readdir(dir).catch(() => [] as string[]))
    if (/^\d+$/.test(f)) out.set(Number(f), await readFile(join(dir, f), 'latin1'));
  return out;
}

/** Runs slrnpull once; returns the commands it sent (its --debug dialogue, lines starting '>'). */
async function slrnpull(root: string, port: number, ...extra: string[]): Promise<string[]> {
  await rm(join(root, 'dialogue'), { force: true }); // slrnpull appends to it
  const r = await run(SLRNPULL, ['-d', root, '-h', `127.0.0.1:${port}`, '--debug', join(root, 'dialogue'), ...extra], {
    env: { ...process.env, HOME: root },
    timeoutMs: 30_000,
  });
  expect(r.code, r.stderr).toBe(0);
  const dialogue = await readFile(join(root, 'dialogue'), 'latin1');
  return dialogue
    .split('\n')
    .filter((l) => l.startsWith('>') && l.trim() !== '>')
    .map((l) => l.slice(1).trim());
}

describe.skipIf(!CI && !available(SLRNPULL))('slrnpull against gorgon nntpd', () => {
  it('pulls a group into its spool, pulls nothing the second time, posts from out.going and pulls the post back', async () => {
    need(SLRNPULL, 'slrnpull');
    fixture = await startNntp();
    const root = join(fixture.dir, 'slrnpull');
    for (const d of ['data', 'news', 'out.going/rejects']) await mkdir(join(root, d), { recursive: true });
    // group, articles per run, days before expiry, headers only (0: whole articles).
    await writeFile(join(root, 'slrnpull.conf'), 'default 100 14 0\ngorgon.test\n');
    await writeFile(join(root, 'authinfo'), `${USER}\n${PASSWORD}\n`);

    const first = await slrnpull(root, fixture.port);
    // It finds new articles by XHDR Message-ID, then fetches them by HEAD and BODY (pipelined:
    // its --debug dialogue shows only the first pair).
    expect(first).toEqual(expect.arrayContaining(['GROUP gorgon.test', 'XHDR Message-ID 1-', 'head 1', 'body 1']));
    let arts = await pulled(root, 'gorgon.test');
    expect([...arts.keys()].sort()).toEqual([1, 2, 3]);
    for (const n of [1, 2, 3]) {
      const stored = (await fixture.store.articleByNumber('gorgon.test', n))!;
      const body = stored.data.subarray(stored.bodyOffset).toString('latin1').replace(/\r\n/g, '\n');
      expect(arts.get(n)!.endsWith(`\n\n${body}`), `article ${n}`).toBe(true); // dot lines unstuffed
      expect(arts.get(n)).toContain(`Message-ID: ${stored.messageId}`);
    }
    expect(arts.get(1)).toContain('\n.a line with a dot\n..two dots\n');
    expect(await readFile(join(root, 'news', 'gorgon', 'test', '.overview'), 'latin1')).toContain('<first@example.org>');

    // Nothing new: the second run fetches no article.
    const second = await slrnpull(root, fixture.port);
    expect(second).toContain('GROUP gorgon.test');
    expect(second.filter((c) => /^(head|body|article)\b/i.test(c))).toEqual([]);
    expect((await pulled(root, 'gorgon.test')).size).toBe(3);

    // Posting: slrnpull posts the files in out.going whose names start with X. (slrnpull 1.0.3
    // sends the file as it is, without dot-stuffing — seen in its --debug dialogue — so a body
    // line starting with a dot would lose it, as RFC 3977 §3.1.1 says; none here.)
    await writeFile(
      join(root, 'out.going', 'X0001'),
      'From: slrn@example.org\nNewsgroups: gorgon.test\nSubject: via slrnpull\nMessage-ID: <slrnpull@example.org>\n\nposted offline\nsecond line\n',
    );
    await slrnpull(root, fixture.port);
    const stored = (await fixture.store.articleById('<slrnpull@example.org>'))!;
    expect(stored, 'the queued article reached the server').toBeDefined();
    expect(stored.data.subarray(stored.bodyOffset).toString()).toBe('posted offline\r\nsecond line\r\n');
    expect(await fixture.store.history('<slrnpull@example.org>')).toBe('present');
    expect(await readdir(join(root, 'out.going'))).toEqual(['rejects']); // posted, not rejected
    arts = await pulled(root, 'gorgon.test');
    expect(arts.get(4)).toContain('Subject: via slrnpull');
  });
});
