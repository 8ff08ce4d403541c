/**
 * `gorgon get` and `gorgon fetch` with http:// URLs as a person runs them: the built binary
 * against Gorgon's own HTTP server (plain and TLS with the self-signed demo certificate) and a
 * Gorgon ftpd, on loopback.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { createFtpServer, type FtpServer } from '@gorgon/ftp';
import { createHttpServer, DiskStore, type HttpServer } from '@gorgon/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

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
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let certFile: string;
let http: HttpServer;
let ftp: FtpServer;
let base: string;
let tlsBase: string;
let ftpPort: number;
const big = randomBytes(2 * 1024 * 1024 + 3);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-get-'));
  const root = join(dir, 'root');
  await mkdir(join(root, 'pub'), { recursive: true });
  await writeFile(join(root, 'pub', 'a.txt'), 'alpha\n');
  await writeFile(join(root, 'pub', 'b.txt'), 'beta\n');
  await writeFile(join(root, 'pub', 'big.bin'), big);
  const pems = await createDemoCertificate('localhost');
  certFile = join(dir, 'cert.pem');
  await writeFile(certFile, pems.cert);
  http = createHttpServer({ store: new DiskStore(root), tls: pems });
  base = `http://127.0.0.1:${(await http.listen(0, '127.0.0.1')).port}`;
  tlsBase = `https://localhost:${(await http.listenTls(0, '127.0.0.1')).port}`;
  ftp = createFtpServer({ root, anonymous: true });
  ftpPort = (await ftp.listen(0, '127.0.0.1')).port;
});

afterAll(async () => {
  await http.close({ timeoutMs: 1000 });
  await ftp.close({ timeoutMs: 1000 });
  await rm(dir, { recursive: true, force: true });
});

describe('gorgon get (built binary, Gorgon httpd)', () => {
  it('gets several URLs at once, and names each URL that failed with a non-zero exit', async () => {
    const out = join(dir, 'several');
    const r = await gorgon(
      'get',
      `${base}/pub/a.txt`,
      `${base}/pub/b.txt`,
      `${base}/pub/big.bin`,
      `${base}/pub/missing.txt`,
      `${base}/pub/gone.txt`,
      '--out',
      out,
      '-j',
      '3',
      '--progress',
      'lines',
    );
    expect(r.code).toBe(1);
    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(await readFile(join(out, 'b.txt'), 'utf8')).toBe('beta\n');
    expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(big));
    expect(r.stdout).toMatch(/^got 3 of 5 files \(2\.0 MiB\) in [\d.]+ s, 2 failed\.$/m);
    expect(lines(r.stderr)).toEqual([
      `gorgon: failed ${base}/pub/missing.txt: no such file on the server (404 Not Found).`,
      `gorgon: failed ${base}/pub/gone.txt: no such file on the server (404 Not Found).`,
      'gorgon: 2 of 5 files failed.',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
  });

  it('reuses kept-alive connections: -j 1 fetches every URL over one connection', async () => {
    let connections = 0;
    const off = http.on('connect', () => connections++);
    try {
      const urls = ['a.txt', 'b.txt', 'big.bin'].flatMap((f) => [`${base}/pub/${f}`, `${base}/pub/${f}?again`]);
      const r = await gorgon('get', ...urls, '--out', join(dir, 'reuse'), '-j', '1', '--progress', 'lines');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^got 6 of 6 files/m);
      expect(connections).toBe(1);
    } finally {
      off();
    }
  });

  it('-o FILE saves one URL under that name, and resumes its .part with Range', async () => {
    const out = join(dir, 'resume');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'copy.bin.part'), big.subarray(0, 1_000_000));
    const r = await gorgon('get', `${base}/pub/big.bin`, '-o', join(out, 'copy.bin'), '--progress', 'lines');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming at 976\.6 KiB/);
    expect(sha(await readFile(join(out, 'copy.bin')))).toBe(sha(big));
    expect(existsSync(join(out, 'copy.bin.part'))).toBe(false);
  });

  it('refuses -o with several URLs and a URL of another scheme, as usage errors', async () => {
    const two = await gorgon('get', `${base}/pub/a.txt`, `${base}/pub/b.txt`, '-o', join(dir, 'x'));
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/-o\/--output names one file, but 2 URLs were given; use --out DIR\./);
    const ftpUrl = await gorgon('get', `ftp://127.0.0.1:${ftpPort}/pub/a.txt`, '--out', join(dir, 'x'));
    expect(ftpUrl.code).toBe(2);
    expect(lines(ftpUrl.stderr)).toEqual([
      `gorgon: ftp://127.0.0.1:${ftpPort}/pub/a.txt: only http:// and https:// URLs can be fetched over HTTP.`,
    ]);
  });

  it('https: an untrusted certificate is one sentence with the way out, not retried; --ca-file and --insecure work', async () => {
    const r = await gorgon('get', `${tlsBase}/pub/a.txt`, '--out', join(dir, 'tls'), '--retries', '3', '--progress', 'lines');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^retry/m);
    expect(r.ms).toBeLessThan(3000);
    expect(lines(r.stderr)).toEqual([
      `gorgon: ${tlsBase}/pub/a.txt: the certificate of ${tlsBase.slice('https://'.length)} is not trusted: it is self-signed, so no authority this machine trusts vouches for it; to trust it, give --ca-file with the server's certificate or its CA (PEM), or skip the check with --insecure.`,
    ]);
    const trusted = await gorgon('get', `${tlsBase}/pub/a.txt`, '--out', join(dir, 'tls'), '--ca-file', certFile, '--progress', 'lines');
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(await readFile(join(dir, 'tls', 'a.txt'), 'utf8')).toBe('alpha\n');
    const insecure = await gorgon('get', `${tlsBase}/pub/b.txt`, '--out', join(dir, 'tls'), '--insecure', '--progress', 'lines');
    expect(insecure.code, insecure.stderr).toBe(0);
    expect(await readFile(join(dir, 'tls', 'b.txt'), 'utf8')).toBe('beta\n');
  });

  it('a server that is not there: the URL and the reason in one sentence', async () => {
    const r = await gorgon('get', 'http://127.0.0.1:1/x.txt', '--out', join(dir, 'none'), '--progress', 'lines');
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(['gorgon: http://127.0.0.1:1/x.txt: cannot connect to 127.0.0.1:1: connection refused.']);
  });
});

describe('gorgon fetch with FTP and HTTP URLs together', () => {
  it('grabs from an FTP and an HTTP server in one run, naming each failure', async () => {
    const out = join(dir, 'mixed');
    const r = await gorgon(
      'fetch',
      `ftp://127.0.0.1:${ftpPort}/pub/*.txt`,
      `${base}/pub/big.bin`,
      `${base}/pub/nope.txt`,
      '-o',
      out,
      '--host-dirs',
      '--progress',
      'lines',
    );
    expect(r.code).toBe(1);
    const ftpDir = join(out, `127.0.0.1_${ftpPort}`);
    const httpDir = join(out, `127.0.0.1_${new URL(base).port}`);
    expect(await readFile(join(ftpDir, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(await readFile(join(ftpDir, 'b.txt'), 'utf8')).toBe('beta\n');
    expect(sha(await readFile(join(httpDir, 'big.bin')))).toBe(sha(big));
    expect(r.stdout).toMatch(/^fetched 3 of 4 files .* 1 failed\.$/m);
    expect(lines(r.stderr)).toEqual([
      `gorgon: failed ${base}/pub/nope.txt: no such file on the server (404 Not Found).`,
      'gorgon: 1 of 4 files failed.',
    ]);
  });

  it('bars mode draws both kinds of file', async () => {
    const out = join(dir, 'mixed-bars');
    const r = await gorgon('fetch', `ftp://127.0.0.1:${ftpPort}/pub/a.txt`, `${base}/pub/b.txt`, '-o', out, '--progress', 'bars');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fetched 2 of 2 files/);
    expect(await readFile(join(out, 'b.txt'), 'utf8')).toBe('beta\n');
  });
});
