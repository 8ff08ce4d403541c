/**
 * `gorgon fetch` failures as a person sees them: the built binary against a Gorgon ftpd on
 * loopback that serves the self-signed demo certificate and lacks some of the files asked for.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { createFtpServer, type FtpServer } from '@gorgon/ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the built `gorgon` (asynchronously: the server runs in this process). */
function gorgon(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  const started = Date.now();
  const child = spawn(process.execPath, [main, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

/** No sentence says the same thing twice, and there is no stack trace. */
function expectClean(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at |Error:/);
  for (const line of lines(stderr)) {
    expect(line).toMatch(/^gorgon: /);
    expect(line).not.toMatch(/^gorgon: .*gorgon: /);
    const prefix = /^gorgon: (?:failed \S+: )?([^:]+):/.exec(line)?.[1];
    if (prefix) expect(line.split(`${prefix}:`).length - 1, line).toBe(1);
  }
}

let dir: string;
let certFile: string;
let server: FtpServer;
let port = 0;
let tlsPort = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-fetch-fail-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'pub'), { recursive: true });
  await writeFile(join(root, 'pub', 'a.txt'), 'alpha\n');
  await writeFile(join(root, 'pub', 'b.txt'), 'beta\n');
  const pems = await createDemoCertificate('localhost');
  certFile = join(dir, 'cert.pem');
  await writeFile(certFile, pems.cert);
  server = createFtpServer({ root, anonymous: true, tls: pems, throttle: { baseDelayMs: 1, maxDelayMs: 2 } });
  port = (await server.listen(0, '127.0.0.1')).port;
  tlsPort = (await server.listenTls(0, '127.0.0.1')).port;
});

afterAll(async () => {
  await server.close({ timeoutMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

describe('gorgon fetch failures (built binary, Gorgon ftpd)', () => {
  it('names every missing file on stderr, once each', async () => {
    const out = join(dir, 'missing');
    const base = `ftp://127.0.0.1:${port}/pub`;
    const r = await gorgon('fetch', `${base}/a.txt`, `${base}/missing-1.txt`, `${base}/missing-2.txt`, '-o', out, '--progress', 'lines');
    expect(r.code).toBe(1);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('alpha\n');
    expectClean(r.stderr);
    for (const name of ['missing-1.txt', 'missing-2.txt']) {
      expect(lines(r.stderr).filter((l) => l.includes(name))).toHaveLength(1);
    }
    expect(lines(r.stderr).at(-1)).toBe('gorgon: 2 of 3 files failed.');
  });

  it('a certificate that does not verify is not retried, names each file, says why and what to do', async () => {
    const out = join(dir, 'untrusted');
    const tls = `ftps://127.0.0.1:${tlsPort}/pub`;
    // --retries 3 would take 3.5 s of pauses if the failure were taken for a transient one.
    const r = await gorgon(
      'fetch',
      `${tls}/a.txt`,
      `${tls}/b.txt`,
      `ftp://127.0.0.1:${port}/pub/a.txt`,
      '-o',
      out,
      '--host-dirs',
      '--retries',
      '3',
      '--progress',
      'lines',
    );
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^retry/m);
    expect(r.ms).toBeLessThan(3000);
    expectClean(r.stderr);
    const failures = lines(r.stderr).slice(0, -1);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/a\.txt/);
    expect(failures[1]).toMatch(/b\.txt/);
    for (const line of failures) expect(line).toMatch(/certificate/);
    expect(r.stderr).toMatch(/self-signed/);
    expect(r.stderr).toMatch(/--ca-file/);
    expect(r.stderr).toMatch(/--insecure/);
    expect(r.stderr).not.toMatch(/DEPTH_ZERO|SELF_SIGNED/);
  });

  it.each([
    ['implicit FTPS by name', () => [`ftps://localhost:${tlsPort}/pub/a.txt`]],
    ['explicit FTPS by address', () => [`ftp://127.0.0.1:${port}/pub/a.txt`, '--tls']],
  ])('%s: one sentence with the reason and the way out', async (_what, args) => {
    const r = await gorgon('fetch', ...args(), '-o', join(dir, 'one'), '--progress', 'lines');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^retry/m);
    expectClean(r.stderr);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/certificate.*self-signed.*--ca-file.*--insecure/);
  });

  it('with --ca-file the same server is trusted', async () => {
    const out = join(dir, 'trusted');
    const r = await gorgon('fetch', `ftps://localhost:${tlsPort}/pub/b.txt`, '--ca-file', certFile, '-o', out, '--progress', 'lines');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(out, 'b.txt'), 'utf8')).toBe('beta\n');
  });
});
