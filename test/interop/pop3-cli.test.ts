/**
 * The `gorgon` POP3 commands as an operator runs them (built CLI in child processes):
 * `gorgon passwd` from a pipe, `gorgon deliver` as an MDA, `gorgon pop3d` serving the Maildir,
 * and the Maildir lock shared with a second, in-process server: the second login to the same
 * maildrop from another process gets `-ERR [IN-USE]`.
 * Needs the build (`pnpm build`); `pnpm test` builds first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsersFileAuthenticator } from '@gorgon/core';
import { MemoryClient } from '@gorgon/core/testing';
import { createPop3Server, MaildirStore } from '@gorgon/pop3';
import { CI, run } from './pop3-fixtures.js';

const MAIN = new URL('../../packages/cli/dist/main.js', import.meta.url).pathname;
const built = existsSync(MAIN);

let dir: string;
let daemon: ChildProcess | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-pop3-cli-'));
});
afterAll(async () => {
  if (daemon?.pid !== undefined && daemon.exitCode === null) {
    const exited = new Promise((resolve) => daemon!.once('exit', resolve));
    daemon.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

const gorgon = (args: string[], input?: string | Buffer) => run(process.execPath, [MAIN, ...args], { input: input ?? '', cwd: dir });

async function login(port: number): Promise<{ client: MemoryClient; reply: string }> {
  const socket = connect(port, '127.0.0.1');
  const client = new MemoryClient(socket);
  await client.line(5000);
  client.sendLine('USER alice');
  await client.line(5000);
  client.sendLine('PASS s3cret pass');
  return { client, reply: await client.line(5000) };
}

describe('gorgon passwd, deliver and pop3d', () => {
  it.skipIf(!CI && !built)('serve what deliver stored, and share the Maildir lock across processes', async () => {
    if (!built) throw new Error(`${MAIN} is missing: run pnpm build first`);
    const passwd = await gorgon(['passwd', '--user', 'alice'], 's3cret pass\n');
    expect(passwd.code, passwd.stderr).toBe(0);
    const entry = JSON.parse(passwd.stdout.toString()) as { name: string; password: string };
    expect(entry.password).toMatch(/^scrypt\$/);
    await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [entry] }));

    const message = 'Subject: via gorgon deliver\r\n\r\n.dot first\r\nbody\r\n';
    const delivered = await gorgon(['deliver', 'alice', '--maildirs', 'mail'], message);
    expect(delivered.code, delivered.stderr).toBe(0);
    expect(await readdir(join(dir, 'mail', 'alice', 'new'))).toHaveLength(1);
    const refused = await gorgon(['deliver', '../escape', '--maildirs', 'mail'], message);
    expect(refused.code).toBe(67);

    daemon = spawn(
      process.execPath,
      [MAIN, 'pop3d', '--port', '0', '--maildirs', 'mail', '--users', 'users.json', '--log-format', 'json'],
      {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const port = await new Promise<number>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`pop3d did not start: ${log}`)), 15_000);
      daemon!.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        const m = /"daemon":"pop3d","address":"127\.0\.0\.1:(\d+)"/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      daemon!.once('exit', (code) => reject(new Error(`pop3d exited ${code}: ${log}`)));
    });

    // This process serves the same Maildir: a login here locks it for the daemon too.
    await using local = createPop3Server({
      store: new MaildirStore(join(dir, 'mail')),
      auth: new UsersFileAuthenticator(join(dir, 'users.json')),
    });
    const localPort = (await local.listen(0)).port;
    const here = await login(localPort);
    expect(here.reply).toMatch(/^\+OK maildrop has 1 messages/);
    const there = await login(port);
    expect(there.reply).toBe('-ERR [IN-USE] maildrop already locked by another session');
    here.client.sendLine('QUIT');
    expect(await here.client.line(5000)).toMatch(/signing off/);
    await here.client.closed(5000);

    there.client.sendLine('USER alice');
    await there.client.line(5000);
    there.client.sendLine('PASS s3cret pass');
    expect(await there.client.line(5000)).toMatch(/^\+OK maildrop has 1 messages/);
    there.client.sendLine('RETR 1');
    expect(await there.client.line(5000)).toBe(`+OK ${Buffer.byteLength(message)} octets`);
    expect(await there.client.lines(4, 5000)).toEqual(['Subject: via gorgon deliver', '', '..dot first', 'body']);
    expect(await there.client.line(5000)).toBe('.');
    there.client.sendLine('QUIT');
    await there.client.closed(5000);
  });
});
