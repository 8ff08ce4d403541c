import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the built `gorgon` as a user would and returns its exit status and stderr. */
function gorgon(...argv: string[]): { code: number | null; stderr: string } {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  const r = spawnSync(process.execPath, [main, ...argv], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stderr: r.stderr };
}

/** One sentence naming the mistake, then at most the pointer to --help; no stack trace. */
function expectOneSentence(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines[0]).toMatch(/^gorgon: \S.*[.!?]$/);
  expect(stderr).not.toMatch(/\n\s+at |Error:/);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/--help/);
  return lines[0]!;
}

describe('gorgon usage messages (built binary)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-msg-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it.each([
    ['fingerd', '--port', 'notanumber', '--users', 'x.json'],
    ['finger', '-p', 'notanumber', 'alice@127.0.0.1'],
    ['ftpd', '--root', '.', '--port=notanumber'],
  ])('a port that is not a number is quoted as typed: %s %s %s', (...argv) => {
    const { code, stderr } = gorgon(...argv);
    expect(code).toBe(2);
    const line = expectOneSentence(stderr);
    expect(line).toMatch(/--port/);
    expect(line).toMatch(/"notanumber"/);
    expect(line).not.toMatch(/NaN/);
  });

  it('a number flag of fetch that is not a number is quoted as typed', () => {
    const { code, stderr } = gorgon('fetch', 'ftp://127.0.0.1:1/x', '-j', 'many');
    expect(code).toBe(2);
    const line = expectOneSentence(stderr);
    expect(line).toMatch(/--parallel.*"many"/);
    expect(line).not.toMatch(/NaN/);
  });

  it.each([
    [['deliver', '--maildirs', '.'], '<user>'],
    [['fetch'], '<urls>'],
  ])('a missing positional is named: %j', (argv, name) => {
    const { code, stderr } = gorgon(...argv);
    expect(code).toBe(2);
    const line = expectOneSentence(stderr);
    expect(line).toContain(name);
    expect(line).not.toMatch(/non-option/);
  });

  it('an unknown flag is named once, as typed', () => {
    const { code, stderr } = gorgon('fingerd', '--bogus-flag', '--users', 'x.json');
    expect(code).toBe(2);
    const line = expectOneSentence(stderr);
    expect(line).toContain('--bogus-flag');
    expect(line).not.toMatch(/bogusFlag/);
    expect(line.match(/bogus/g)).toHaveLength(1);
  });

  it('an unknown flag with no command is named', () => {
    const { code, stderr } = gorgon('--bogus');
    expect(code).toBe(2);
    const line = expectOneSentence(stderr);
    expect(line).toContain('--bogus');
  });

  it('a YAML error says where once and ends as a sentence', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'finger:\n  port: 7979\n  users: [unclosed\n');
    const { code, stderr } = gorgon('serve', '--config', bad);
    expect(code).toBe(1);
    const line = expectOneSentence(stderr);
    expect(line).toMatch(/bad\.yaml/);
    expect(line).toMatch(/not valid YAML/);
    expect(line).not.toMatch(/:$/);
    expect(line.match(/line \d+/g)).toHaveLength(1);
  });

  it('serve with a port in use names the config key and --ephemeral-ports, not --port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const users = join(dir, 'users.json');
      await writeFile(users, JSON.stringify({ users: [{ login: 'alice', name: 'Alice' }] }));
      const config = join(dir, 'inuse.yaml');
      await writeFile(config, `finger:\n  port: ${port}\n  host: 127.0.0.1\n  users: users.json\n`);
      // Asynchronous: the blocker must keep accepting while the child tries to listen.
      const child = spawn(process.execPath, [main, 'serve', '--config', config, '--log-level', 'silent'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(1);
      const line = expectOneSentence(stderr);
      expect(line).toContain(`${port} is already in use`);
      expect(line).toContain('finger.port');
      expect(line).toContain('--ephemeral-ports');
      expect(line).not.toMatch(/--port\b/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
