import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';

// gorgon check-config (issue 13): validates without binding; every problem at its line.

const main = process.env.GORGON_CLI_MAIN ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));
let dir: string;

function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...argv], { cwd: dir }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-check-config-'));
  await mkdir(join(dir, 'mail'));
  await mkdir(join(dir, 'files'));
  await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [{ name: 'ann', password: await hashPassword('x') }] }));
  const [a, b] = await Promise.all([createDemoCertificate(), createDemoCertificate()]);
  await writeFile(join(dir, 'cert.pem'), a.cert);
  await writeFile(join(dir, 'key.pem'), a.key);
  await writeFile(join(dir, 'other-key.pem'), b.key);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('gorgon check-config', () => {
  it('a valid config: exit 0 and the sections, without binding (its port may be taken)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await writeFile(
        join(dir, 'gorgon.yaml'),
        [
          'pop3:',
          `  port: ${port}`,
          '  maildirs: mail',
          '  users: users.json',
          '  cert: cert.pem',
          '  key: key.pem',
          'ftp:',
          '  port: 0',
          '  root: files',
          '  anonymous: true',
          'http:',
          '  enabled: false',
          '  root: nowhere',
          'shutdown:',
          '  timeoutMs: 30000',
          '',
        ].join('\n'),
      );
      const { code, stdout, stderr } = await run('check-config');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toBe('config gorgon.yaml is valid: pop3, ftp, http (disabled)\n');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('settings that do not validate: each at its line and column', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      ['pop3:', '  port: 99999', '  users: users.json', 'ftp:', '  root: files', '  anonymous: yes please', '  colour: blue', ''].join(
        '\n',
      ),
    );
    const { code, stdout, stderr } = await run('check-config', '--config', 'bad.yaml');
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^bad\.yaml:2:9: pop3\.port: Too big/));
    // A missing key is placed at its section.
    expect(lines).toContainEqual(expect.stringMatching(/^bad\.yaml:2:3: pop3\.maildirs: .*expected string/));
    expect(lines).toContainEqual(expect.stringMatching(/^bad\.yaml:6:14: ftp\.anonymous: .*expected boolean/));
    expect(lines).toContainEqual(expect.stringMatching(/^bad\.yaml:7:3: ftp: Unrecognized key: "colour"$/));
    expect(lines).toHaveLength(4);
    expect(stderr).toBe('gorgon: config bad.yaml is not valid: 4 problems.\n');
  });

  it('YAML that does not parse: its line', async () => {
    await writeFile(join(dir, 'broken.yaml'), 'finger:\n  port: 7979\n  users: [unclosed\n');
    const { code, stdout } = await run('check-config', '-c', 'broken.yaml');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^broken\.yaml:\d+:\d+: not valid YAML: .+\n$/);
  });

  it('the files a valid config names: missing, broken, mismatched; listeners claimed twice', async () => {
    await writeFile(join(dir, 'broken-users.json'), '{ "users": [ ');
    await writeFile(
      join(dir, 'files.yaml'),
      [
        'log:',
        '  file: no-such-dir/gorgon.log',
        'pop3:',
        '  port: 1110',
        '  maildirs: no-such-dir',
        '  users: broken-users.json',
        '  cert: cert.pem',
        '  key: other-key.pem',
        'ftp:',
        '  port: 1110',
        '  root: files',
        '  users: missing-users.json',
        'finger:',
        '  port: 0',
        '  users: missing-finger.json',
        '',
      ].join('\n'),
    );
    const { code, stdout } = await run('check-config', '--config', 'files.yaml');
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^files\.yaml:5:3: pop3\.maildirs: the Maildir root .*no-such-dir does not exist$/));
    expect(lines).toContainEqual(expect.stringMatching(/^files\.yaml:6:3: pop3\.users: .*broken-users\.json.*not valid JSON/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^files\.yaml:7:3: pop3\.cert: the certificate .* cannot be used together: .*key values mismatch/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^files\.yaml:12:3: ftp\.users: .*missing-users\.json/));
    expect(lines).toContainEqual(expect.stringMatching(/^files\.yaml:10:3: ftp\.port: 127\.0\.0\.1:1110 is also pop3\.port$/));
    expect(lines).toContainEqual(expect.stringMatching(/^files\.yaml:15:3: finger\.users: .*missing-finger\.json/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^files\.yaml:2:3: log\.file: the log file .*no-such-dir\/gorgon\.log cannot be written: .*no-such-dir does not exist$/,
      ),
    );
    expect(lines).toHaveLength(7);
  });

  it('without --config and without ./gorgon.yaml: a usage error', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gorgon-check-config-empty-'));
    try {
      const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, [main, 'check-config'], { cwd: empty }, (err, _out, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
      expect(result).toEqual({ code: 2, stderr: 'gorgon: check-config: no config: give --config FILE or put a gorgon.yaml here.\n' });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
