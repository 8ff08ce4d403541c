/**
 * Shared set-up of the POP3 interop tests: a Gorgon POP3 server over a real Maildir and a
 * users file (scrypt hashes), a demo certificate on disk for the clients, the messages
 * delivered, and a runner for client programs with a hard timeout.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, UsersFileAuthenticator } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { createPop3Server, deliver, MaildirStore, type Pop3Server, type Pop3ServerOptions } from '@gorgon/pop3';

export const CI = process.env['CI'] === 'true';

/** True when the client can run here; in CI a missing client fails its test instead of skipping. */
export function available(path: string): boolean {
  return existsSync(path);
}

/** Throws the one-line reason a test cannot run (reached only in CI or when present). */
export function need(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install ${pkg}`);
}

/** Messages with CRLF line ends (what POP3 sends), so the wire form equals the stored form. */
export function fixtureMessages(): Buffer[] {
  const long = 'L'.repeat(990);
  let big = 'From: big@example.org\r\nSubject: big\r\n\r\n';
  for (let i = 0; big.length < 300_000; i++)
    big += i % 7 === 0 ? `.line ${i} starts with a dot\r\n` : `line ${i} ${'z'.repeat(i % 80)}\r\n`;
  return [
    Buffer.from('From: alice@example.org\r\nTo: bob@example.org\r\nSubject: first\r\n\r\nHello, Bob.\r\n'),
    Buffer.from('From: carol@example.org\r\nSubject: dots\r\n\r\n.one dot\r\n..two dots\r\n.\r\n. space\r\nend\r\n'),
    Buffer.concat([
      Buffer.from('From: dave@example.org\r\nSubject: folded\r\n header\r\nContent-Type: text/plain; charset=latin1\r\n\r\n'),
      Buffer.from([0xe9, 0x74, 0xe9, 0x0d, 0x0a, 0x0d, 0x0a, 0x0d, 0x0a]),
      Buffer.from(`${long}\r\nlast\r\n`),
    ]),
    Buffer.from(big),
  ];
}

export interface Pop3Fixture {
  port: number;
  tlsPort: number;
  root: string;
  dir: string;
  certPath: string;
  messages: Buffer[];
  server: Pop3Server;
  /** File names in the user's Maildir (new/ and cur/). */
  stored(user?: string): Promise<string[]>;
  close(): Promise<void>;
}

export const USER = 'alice';
export const PASSWORD = 'wonder land';
export const APOP_SECRET = 'tanstaaf';

/** Starts a server on loopback with `messages` delivered to alice. */
export async function startPop3(options: Partial<Pop3ServerOptions> = {}, messages = fixtureMessages()): Promise<Pop3Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-pop3-interop-'));
  const root = join(dir, 'maildirs');
  const usersPath = join(dir, 'users.json');
  const users = [{ name: USER, password: await hashPassword(PASSWORD), apopSecret: APOP_SECRET }];
  await writeFile(usersPath, JSON.stringify({ users }));
  for (const m of messages) await deliver(root, USER, m);
  const pems = await createDemoCertificate('localhost');
  const certPath = join(dir, 'cert.pem');
  await writeFile(certPath, pems.cert);
  const server = createPop3Server({
    store: new MaildirStore(root),
    auth: new UsersFileAuthenticator(usersPath),
    tls: pems,
    throttle: { baseDelayMs: 0 },
    ...options,
  });
  const port = (await server.listen(0)).port;
  const tlsPort = (await server.listenTls(0)).port;
  const stored = async (user = USER): Promise<string[]> => {
    const names = await Promise.all(['new', 'cur'].map((d) => readdir(join(root, user, d)).catch(() => [] as string[])));
    return names.flat();
  };
  return {
    port,
    tlsPort,
    root,
    dir,
    certPath,
    messages,
    server,
    stored,
    async close() {
      await server.close({ timeoutMs: 2000 });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a program with a hard timeout; the child is killed when it passes. */
export function run(
  file: string,
  args: string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
        ...(options.env ? { env: options.env } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Undoes POP3 dot-stuffing for clients that do not (node-pop3). @see RFC 1939 §3 */
export function unstuff(text: Buffer): Buffer {
  return Buffer.from(text.toString('latin1').replace(/(^|\r\n)\.\./g, '$1.'), 'latin1');
}
