/**
 * Shared set-up for the FTP server interop tests: a Gorgon FTP server over a temporary disk
 * root with a users file (scrypt hashes), a demo certificate, and helpers to run stock clients.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { hashPassword, memoryLogger, UsersFileAuthenticator, type MemoryLogRecord } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { createFtpServer, type FtpServer, type FtpServerOptions } from '@gorgon/ftp';

export const CI = process.env['CI'] === 'true';
export const USER = 'alice';
export const PASSWORD = 'wonder land';

/** True when the client can run here; in CI a missing client fails its test instead of skipping. */
export function available(path: string): boolean {
  return existsSync(path);
}

/** Throws the one-line reason a test cannot run (reached only in CI or when present). */
export function need(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install the Debian package ${pkg} (scripts/install-clients.sh)`);
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a client with a timeout; never rejects on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.end(options.input ?? '');
  });
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Checksums of every file under `dir`, by relative path. */
export async function treeSums(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out[relative(dir, full)] = sha256(await readFile(full));
    }
  };
  await walk(dir);
  return out;
}

/** A running server over a temporary root holding a small tree. */
export interface FtpFixture {
  server: FtpServer;
  port: number;
  tlsPort: number;
  dir: string;
  root: string;
  cert: { cert: string; key: string };
  certPath: string;
  logs: MemoryLogRecord[];
  /** The seeded files, by virtual path. */
  files: Record<string, Buffer>;
  close(): Promise<void>;
}

let certCache: { cert: string; key: string } | undefined;

/** Starts a server; the tree has text, binary (1 MiB + 3) and nested files. */
export async function startFtp(options: Partial<FtpServerOptions> = {}): Promise<FtpFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-ftp-interop-'));
  const root = join(dir, 'root');
  const files: Record<string, Buffer> = {
    'pub/readme.txt': Buffer.from('Line one\nLine two\nLine three\n'),
    'pub/data.bin': randomBytes(1024 * 1024 + 3),
    'pub/tree/a.txt': Buffer.from('alpha\n'),
    'pub/tree/sub/b.bin': randomBytes(70_000),
    'pub/tree/sub/ünïcode name.txt': Buffer.from('utf-8 names\n'),
    'upload/.keep': Buffer.alloc(0),
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const usersPath = join(dir, 'users.json');
  const users = [
    { name: USER, password: await hashPassword(PASSWORD) },
    { name: 'reader', password: await hashPassword('reader'), ftp: { perms: 'elr' } },
  ];
  await writeFile(usersPath, JSON.stringify({ users }));
  certCache ??= await createDemoCertificate('localhost');
  const certPath = join(dir, 'cert.pem');
  await writeFile(certPath, certCache.cert);
  const logs: MemoryLogRecord[] = [];
  const server = createFtpServer({
    root,
    auth: new UsersFileAuthenticator(usersPath),
    tls: certCache,
    logger: memoryLogger(logs),
    throttle: { baseDelayMs: 1, maxDelayMs: 2 },
    ...options,
  });
  const { port } = await server.listen(0);
  const { port: tlsPort } = await server.listenTls(0);
  return {
    server,
    port,
    tlsPort,
    dir,
    root,
    cert: certCache,
    certPath,
    logs,
    files,
    async close() {
      await server.close({ timeoutMs: 1000 });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A file's content on disk under the fixture's root. */
export async function onDisk(f: FtpFixture, path: string): Promise<Buffer | undefined> {
  return readFile(join(f.root, path)).catch(() => undefined);
}

/** The size of a file under the root, or -1. */
export async function sizeOnDisk(f: FtpFixture, path: string): Promise<number> {
  return (await stat(join(f.root, path)).catch(() => undefined))?.size ?? -1;
}
