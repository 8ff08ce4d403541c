/**
 * suck, rpost and tin (Debian packages suck, tin) against the Gorgon NNTP server on loopback:
 * suck pulls a group into local files (and a second run pulls nothing new), rpost posts an
 * article back with AUTHINFO, tin reads the group in batch mode.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { available, CI, need, run } from './pop3-fixtures.js';
import { FIXTURE_ARTICLES, PASSWORD, startNntp, USER, type NntpFixture } from './nntp-fixtures.js';

const SUCK = '/usr/bin/suck';
const RPOST = '/usr/bin/rpost';
const TIN = '/usr/bin/tin';

let fixture: NntpFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function suck(dir: string): Promise<string[]> {
  const r = await run(
    SUCK,
    [
      '127.0.0.1',
      '-N',
      String(fixture!.port),
      '-dd',
      join(dir, 'data'),
      '-dt',
      join(dir, 'tmp'),
      '-dm',
      join(dir, 'msgs'),
      '-m',
      '-c',
      '-q',
    ],
    { cwd: dir },
  );
  // suck exits 1 when there was nothing new to fetch.
  if (r.code !== 0 && !(r.code === 1 && r.stdout.toString().includes('No articles')))
    throw new Error(`suck exited ${r.code}: ${r.stderr} ${r.stdout}`);
  return (await readdir(join(dir, 'msgs'))).sort();
}

describe.skipIf(!CI && !available(SUCK))('suck and rpost against gorgon nntpd', () => {
  it('suck pulls a group into a local spool, a second run pulls nothing; rpost posts back', async () => {
    need(SUCK, 'suck');
    fixture = await startNntp();
    const dir = join(fixture.dir, 'suck');
    for (const d of ['data', 'tmp', 'msgs']) await mkdir(join(dir, d), { recursive: true });
    await writeFile(join(dir, 'data', 'sucknewsrc'), 'gorgon.test 0\n');
    const files = await suck(dir);
    expect(files).toHaveLength(3);
    const bodies = await Promise.all(files.map((f) => readFile(join(dir, 'msgs', f), 'latin1')));
    expect(bodies.some((b) => b.includes('\n.a line with a dot\n') || b.includes('\r\n.a line with a dot\r\n'))).toBe(true);
    expect(await readFile(join(dir, 'data', 'sucknewsrc'), 'utf8')).toMatch(/^gorgon\.test 3/);
    for (const f of files) await import('node:fs/promises').then((fs) => fs.rm(join(dir, 'msgs', f)));
    expect(await suck(dir)).toHaveLength(0);

    need(RPOST, 'suck');
    const art =
      'From: rpost@example.org\nNewsgroups: gorgon.test\nSubject: via rpost\nMessage-ID: <rpost@example.org>\n\nposted by rpost\n.dot line\n';
    const r = await run(RPOST, ['127.0.0.1', '-N', String(fixture.port), '-U', USER, '-P', PASSWORD, '-i'], { input: art });
    expect(r.code, r.stderr.toString()).toBe(0);
    const stored = (await fixture.store.articleById('<rpost@example.org>'))!;
    expect(stored.data.subarray(stored.bodyOffset).toString()).toBe('posted by rpost\r\n.dot line\r\n');
    expect(FIXTURE_ARTICLES).toHaveLength(3);
  });
});

describe.skipIf(!CI && !available(TIN))('tin in batch mode against gorgon nntpd', () => {
  it('tin -r -Z reports new news in the subscribed group', async () => {
    need(TIN, 'tin');
    fixture = await startNntp();
    const home = join(fixture.dir, 'home');
    await mkdir(join(home, '.tin'), { recursive: true });
    await writeFile(join(home, '.newsrc'), 'gorgon.test:\n');
    const env = {
      HOME: home,
      NNTPSERVER: '127.0.0.1',
      NNTPPORT: String(fixture.port),
      TERM: 'dumb',
      PATH: process.env['PATH'] ?? '/usr/bin',
    };
    // -Z: exit 2 when there is new news, 0 when none; -r: read over NNTP; -p: port.
    const r = await run(TIN, ['-r', '-p', String(fixture.port), '-g', '127.0.0.1', '-Z', '-v', '-q'], {
      env,
      cwd: home,
      timeoutMs: 30_000,
    });
    expect(r.code, `${r.stdout} ${r.stderr}`).toBe(2);
    expect(r.stdout.toString()).toMatch(/3\s+gorgon\.test|gorgon\.test\s+3/);
  });
});
