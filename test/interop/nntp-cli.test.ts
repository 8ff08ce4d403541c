/**
 * The `gorgon` news spool tools and `gorgon nntpd` as an operator runs them (built CLI in
 * child processes): newgroup, nntpd serving the spool (a post with AUTHINFO, read back), expire
 * and rmgroup after it stopped, and `gorgon serve --demo` serving the demo groups.
 * Needs the build (`pnpm build`); `pnpm test` builds first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { MemoryClient } from '@gorgon/core/testing';
import { CI, run } from './pop3-fixtures.js';

const MAIN = new URL('../../packages/cli/dist/main.js', import.meta.url).pathname;
const built = existsSync(MAIN);

let dir: string;
let daemon: ChildProcess | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-nntp-cli-'));
});
afterEach(async () => {
  if (daemon?.pid !== undefined && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon!.once('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
  daemon = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const gorgon = (args: string[], input?: string) => run(process.execPath, [MAIN, ...args], { input: input ?? '', cwd: dir });

/** Starts a daemon and resolves with the port of the listener named `name`. */
function start(args: string[], name: string): Promise<number> {
  daemon = spawn(process.execPath, [MAIN, ...args, '--log-format', 'json'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise<number>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${log}`)), 20_000);
    daemon!.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = new RegExp(`"daemon":"${name}","address":"127\\.0\\.0\\.1:(\\d+)"`).exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    daemon!.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${log}`)));
  });
}

async function dial(port: number): Promise<MemoryClient> {
  const client = new MemoryClient(connect(port, '127.0.0.1'));
  await client.line(5000);
  return client;
}

describe('gorgon news newgroup/expire/rmgroup and nntpd', () => {
  it.skipIf(!CI && !built)('creates groups, serves and accepts a post, expires and removes', async () => {
    if (!built) throw new Error(`${MAIN} is missing: run pnpm build first`);
    for (const g of ['local.test', 'local.other']) {
      const r = await gorgon(['news', 'newgroup', g, '--spool', 'spool', '--description', `the ${g} group`]);
      expect(r.code, r.stderr.toString()).toBe(0);
    }
    const dup = await gorgon(['news', 'newgroup', 'local.test', '--spool', 'spool']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr.toString()).toMatch(/already exists/);
    const passwd = await gorgon(['passwd', '--user', 'poster'], 'secret\n');
    await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [JSON.parse(passwd.stdout.toString())] }));

    await writeFile(join(dir, 'distrib.pats'), '# weight:wildmat:distribution\n10:local.*:local\n');
    await writeFile(join(dir, 'bad.pats'), '10:local.*\n');
    const bad = await gorgon(['nntpd', '--port', '0', '--spool', 'spool', '--distrib-pats', 'bad.pats']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.toString()).toMatch(/distrib\.pats file .*line 1: expected weight:wildmat:distribution/);
    const port = await start(
      ['nntpd', '--port', '0', '--spool', 'spool', '--users', 'users.json', '--path-host', 'clitest', '--distrib-pats', 'distrib.pats'],
      'nntpd',
    );
    const c = await dial(port);
    c.sendLine('LIST DISTRIB.PATS');
    expect(await c.lines(3)).toEqual(['215 information follows', '10:local.*:local', '.']);
    c.sendLine('AUTHINFO USER poster');
    expect(await c.line()).toBe('381 password required');
    c.sendLine('AUTHINFO PASS secret');
    expect(await c.line(5000)).toBe('281 authentication accepted');
    c.send('POST\r\n');
    expect(await c.line()).toMatch(/^340 /);
    c.send('From: p@example.org\r\nNewsgroups: local.test\r\nSubject: hi\r\n\r\n..dotted\r\n.\r\n');
    expect(await c.line(5000)).toBe('240 article received OK');
    c.sendLine('GROUP local.test');
    expect(await c.line()).toBe('211 1 1 1 local.test');
    c.sendLine('BODY 1');
    const body = await c.lines(3);
    expect(body[0]).toMatch(/^222 1 </);
    expect(body.slice(1)).toEqual(['..dotted', '.']);
    c.sendLine('QUIT');
    expect(await c.line()).toBe('205 closing connection');
    daemon!.kill('SIGTERM');
    await new Promise((r) => daemon!.once('exit', r));
    // A clean stop checkpoints the spool: no group-commit journal left to replay.
    expect(existsSync(join(dir, 'spool', 'journal'))).toBe(false);

    const exp = await gorgon(['news', 'expire', '--spool', 'spool', '--rule', 'local.*:0']);
    expect(exp.code, exp.stderr.toString()).toBe(0);
    expect(exp.stdout.toString()).toMatch(/^expired 1 articles/);
    const rm1 = await gorgon(['news', 'rmgroup', 'local.other', '--spool', 'spool']);
    expect(rm1.code).toBe(0);
    const rm2 = await gorgon(['news', 'rmgroup', 'local.other', '--spool', 'spool']);
    expect(rm2.code).not.toBe(0);
  });

  it.skipIf(!CI && !built)('gorgon serve --demo serves the demo groups', async () => {
    const port = await start(['serve', '--demo', '--data', 'demo', '--ephemeral-ports'], 'nntpd');
    const c = await dial(port);
    c.sendLine('LIST');
    expect(await c.line()).toBe('215 information follows');
    const lines = await c.lines(4);
    expect(lines).toEqual(['comp.lang.typescript 1 1 y', 'gorgon.announce 1 1 y', 'gorgon.test 2 1 y', '.']);
    c.sendLine('QUIT');
    await c.line();
  });
});
