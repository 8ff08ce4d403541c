import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@gorgon/cli';

/** Runs the CLI in-process and captures what it prints on stderr. */
async function run(...argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(argv, { stderr: (t) => (stderr += t) });
  return { code, stderr };
}

/** A person's error: one sentence on stderr, no stack trace. */
function expectOneSentence(stderr: string): void {
  expect(stderr).toMatch(/^gorgon: /);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.split('\n').filter(Boolean).length).toBeLessThanOrEqual(2);
}

describe('gorgon errors for people', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-cli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('a mistyped flag is a usage error (exit 2)', async () => {
    const { code, stderr } = await run('fingerd', '--prot', '7979');
    expect(code).toBe(2);
    expectOneSentence(stderr);
    expect(stderr).toMatch(/prot/);
  });

  it('an unknown command is a usage error', async () => {
    const { code, stderr } = await run('fingerdd');
    expect(code).toBe(2);
    expectOneSentence(stderr);
  });

  it('no command at all says what to do', async () => {
    const { code, stderr } = await run();
    expect(code).toBe(2);
    expect(stderr).toMatch(/serve --demo/);
  });

  it('a port that is not a number is refused', async () => {
    const { code, stderr } = await run('fingerd', '--port', 'abc', '--users', 'x.json');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port needs a number, and "abc" is not one/);
  });

  it('a negative --auth-cache is refused in one sentence', async () => {
    const { code, stderr } = await run('pop3d', '--maildirs', dir, '--users', join(dir, 'u.json'), '--auth-cache', '-5');
    expect(code).not.toBe(0);
    expectOneSentence(stderr);
    expect(stderr).toMatch(/authCacheSeconds|auth-cache/);
  });

  it('a missing users file is named', async () => {
    const { code, stderr } = await run('fingerd', '--port', '0', '--users', join(dir, 'nope.json'));
    expect(code).toBe(1);
    expectOneSentence(stderr);
    expect(stderr).toMatch(/nope\.json/);
  });

  it('a port in use is named', async () => {
    const users = join(dir, 'users.json');
    await writeFile(users, JSON.stringify({ users: [{ login: 'alice', name: 'Alice' }] }));
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await run('fingerd', '--port', String(port), '--users', users, '--log-level', 'silent');
      expect(code).toBe(1);
      expectOneSentence(stderr);
      expect(stderr).toMatch(new RegExp(`${port} is already in use`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('a missing or broken config file is named', async () => {
    let { code, stderr } = await run('serve', '--config', join(dir, 'missing.yaml'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/missing\.yaml does not exist/);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'finger:\n  port: "seventy"\n  colour: blue\n');
    ({ code, stderr } = await run('serve', '--config', bad));
    expect(code).toBe(1);
    expectOneSentence(stderr);
    expect(stderr).toMatch(/finger/);
    await writeFile(bad, 'finger: [unclosed\n');
    ({ code, stderr } = await run('serve', '--config', bad));
    expect(code).toBe(1);
    expect(stderr).toMatch(/not valid YAML/);
  });

  it('a finger query to a closed port fails in one sentence', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const { code, stderr } = await run('finger', `alice@127.0.0.1:${port}`);
    expect(code).toBe(1);
    expectOneSentence(stderr);
  });

  it('--version and --help succeed', async () => {
    expect((await run('--version')).code).toBe(0);
    expect((await run('fingerd', '--help')).code).toBe(0);
  });
});
