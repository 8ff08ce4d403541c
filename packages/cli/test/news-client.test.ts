/**
 * `gorgon news pull / filter / post` as a person runs them: the built binary against a scripted
 * NNTP peer on loopback.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Listener } from '@gorgon/core';
import { FakeNntp, startFake } from '../../nntp/test/fake-server.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function gorgon(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  const child = spawn(process.execPath, [main, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const ARTICLE = (n: number): string =>
  `From: ${n % 5 === 0 ? 'spam@bad.example' : 'me@x'}\r\nNewsgroups: test.one\r\nSubject: Subject ${n}\r\nMessage-ID: <a${n}@x>\r\n\r\nbody ${n}\r\n`;

describe('gorgon news (built CLI)', () => {
  let server: { listener: Listener; port: number };
  let dir: string;
  beforeAll(async () => {
    server = await startFake();
    dir = await mkdtemp(join(tmpdir(), 'gorgon-news-cli-'));
  });
  afterAll(async () => {
    await server.listener.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    FakeNntp.reset();
    for (let n = 1; n <= 20; n++) FakeNntp.add(`<a${n}@x>`, ARTICLE(n));
  });

  it('pull: lines when not a terminal; a second run fetches nothing new', async () => {
    const out = join(dir, 'Maildir');
    const url = `nntp://127.0.0.1:${server.port}`;
    const first = await gorgon('news', 'pull', url, '--groups', 'test.*,!*.binaries', '--out', out, '-j', '3');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`group  127.0.0.1:${server.port} test.one: 20 new (1-20)`);
    expect(first.stdout).toMatch(/pulled 20 articles in [\d.]+ s\.\n$/);
    expect(await readdir(join(out, 'new'))).toHaveLength(20);
    const second = await gorgon('news', 'pull', url, '--groups', 'test.*,!*.binaries', '--out', out);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('test.one: nothing new');
    expect(second.stdout).toMatch(/pulled 0 articles/);
  });

  it('filter --explain names the deciding rule; --apply moves killed messages aside', async () => {
    const out = join(dir, 'M2');
    expect((await gorgon('news', 'pull', `nntp://127.0.0.1:${server.port}`, '--groups', 'test.one', '--out', out)).code).toBe(0);
    const rules = join(dir, 'rules');
    await writeFile(rules, 'kill From: *@bad.example\nscore +1 Subject: /subject/i\n');
    const dry = await gorgon('news', 'filter', '--rules', rules, out, '--explain');
    expect(dry.code).toBe(0);
    expect(dry.stdout.match(/^kill .*: killed by line 1: kill From: \*@bad\.example$/gm)).toHaveLength(4);
    expect(dry.stdout.match(/^keep .*: kept: score 1 >= threshold 0 \(line 2 \(\+1\)\)$/gm)).toHaveLength(16);
    expect(dry.stdout).toContain('16 kept, 4 killed (nothing changed; --apply to act).');
    const applied = await gorgon('news', 'filter', '--rules', rules, out, '--apply');
    expect(applied.code).toBe(0);
    expect(await readdir(join(out, 'new'))).toHaveLength(16);
    expect(await readdir(join(out, '.Killed', 'cur'))).toHaveLength(4);
  });

  it('pull --rules with an mbox, and a bad rules file is one sentence with its line', async () => {
    const rules = join(dir, 'rules2');
    await writeFile(rules, 'kill From: *@bad.example\n');
    const mbox = join(dir, 'news.mbox');
    const run = await gorgon(
      'news',
      'pull',
      `nntp://127.0.0.1:${server.port}`,
      '--groups',
      'test.one',
      '--out',
      mbox,
      '--format',
      'mbox',
      '--rules',
      rules,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pulled 16 articles .*, 4 killed by rules\./);
    expect((await readFile(mbox, 'latin1')).match(/^From gorgon-news /gm)).toHaveLength(16);
    await writeFile(rules, 'kill From: *@bad.example\nbogus line\n');
    const bad = await gorgon('news', 'filter', '--rules', rules, mbox);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/rules line 2: expected/);
  });

  it('pull --progress bars uses the cli-progress view even when not a terminal', async () => {
    const run = await gorgon(
      'news',
      'pull',
      `nntp://127.0.0.1:${server.port}`,
      '--groups',
      'test.one',
      '--out',
      join(dir, 'M3'),
      '--progress',
      'bars',
    );
    expect(run.code).toBe(0);
    // The bar view logs finished groups above the bars (the line view adds the high-water mark).
    expect(run.stdout).toContain(`done   127.0.0.1:${server.port} test.one: 20 stored\n`);
    expect(run.stdout).not.toContain('high-water');
    expect(run.stdout).toMatch(/pulled 20 articles/);
  });

  it('post sends the file and prints the server reply', async () => {
    const file = join(dir, 'article.txt');
    await writeFile(file, 'From: me@x\nNewsgroups: test.one\nSubject: posted\n\n.hello\n');
    const run = await gorgon('news', 'post', file, '--server', `nntp://127.0.0.1:${server.port}`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('240 posted\n');
    expect(FakeNntp.received[0]!.toString()).toBe('From: me@x\r\nNewsgroups: test.one\r\nSubject: posted\r\n\r\n.hello\r\n');
    const refused = await gorgon('news', 'post', file, '--server', 'nntp://127.0.0.1:1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/news post 127\.0\.0\.1:1: /);
  });
});
