/**
 * The HTTP client, the grabber and `gorgon get` against nginx from Debian, run privately on
 * loopback (its own config, pid, logs and temp paths in a temp dir): Content-Length and chunked
 * bodies, keep-alive reuse as nginx counts it, redirects, Range resume, TLS with the demo
 * certificate. Every download is checked by SHA-256. Off CI a missing nginx skips the block;
 * with CI=true it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { getUrls, HttpClient } from '@gorgon/http/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NGINX = '/usr/sbin/nginx';
const CI = process.env['CI'] === 'true';
const hasNginx = existsSync(NGINX) && process.getuid?.() === 0;
const main = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((ok) => server.close(ok));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((done) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        done(true);
      });
      s.on('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}`);
}

let work: string;
let nginx: ChildProcess | undefined;
let base: string;
let tlsBase: string;
let certFile: string;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  if (!hasNginx) return;
  work = await mkdtemp(join(tmpdir(), 'gorgon-nginx-'));
  const root = join(work, 'root');
  await mkdir(join(root, 'pub'), { recursive: true });
  for (let i = 0; i < 6; i++) files.set(`pub/f${i}.bin`, randomBytes(10_000 + i * 300_000));
  files.set('big.bin', randomBytes(5 * 1024 * 1024 + 7));
  files.set('pub/text.txt', Buffer.from('hello nginx\n'.repeat(5000)));
  for (const [p, data] of files) await writeFile(join(root, p), data);
  const pems = await createDemoCertificate('localhost');
  certFile = join(work, 'cert.pem');
  await writeFile(certFile, pems.cert);
  await writeFile(join(work, 'key.pem'), pems.key);
  const port = await freePort();
  const tlsPort = await freePort();
  for (const d of ['tmp', 'logs']) await mkdir(join(work, d));
  await writeFile(
    join(work, 'nginx.conf'),
    `user root root;
worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log ${work}/logs/access.log combined;
  client_body_temp_path ${work}/tmp/body;
  proxy_temp_path ${work}/tmp/proxy;
  fastcgi_temp_path ${work}/tmp/fastcgi;
  uwsgi_temp_path ${work}/tmp/uwsgi;
  scgi_temp_path ${work}/tmp/scgi;
  types { text/plain txt; application/octet-stream bin; }
  log_format conn '$connection $connection_requests $status $request';
  server {
    listen 127.0.0.1:${port};
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${work}/cert.pem;
    ssl_certificate_key ${work}/key.pem;
    root ${root};
    access_log ${work}/logs/conn.log conn;
    location = /old { return 301 /pub/text.txt; }
    location = /elsewhere { return 302 http://127.0.0.1:${port}/old; }
    location = /loop { return 307 /loop; }
    # sub_filter drops Content-Length: nginx sends the body chunked.
    location /chunked/ { alias ${root}/pub/; sub_filter_types text/plain; sub_filter 'nginx' 'NGINX'; sub_filter_once off; }
  }
}
`,
  );
  nginx = spawn(NGINX, ['-c', join(work, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  base = `http://127.0.0.1:${port}`;
  tlsBase = `https://localhost:${tlsPort}`;
  await waitForPort(port);
}, 30_000);

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const gone = new Promise((ok) => nginx!.once('exit', ok));
    nginx.kill('SIGQUIT');
    await gone;
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!hasNginx && !CI)('HTTP client against nginx', () => {
  it('reads Content-Length and chunked bodies over one kept-alive connection', async () => {
    await using client = new HttpClient();
    const plain = await client.get(`${base}/pub/text.txt`);
    expect(plain.headers['content-length']).toBe(String(files.get('pub/text.txt')!.length));
    expect(sha(plain.body)).toBe(sha(files.get('pub/text.txt')!));
    const chunked = await client.get(`${base}/chunked/text.txt`);
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    expect(chunked.body.toString()).toBe('hello NGINX\n'.repeat(5000));
    const head = await client.request(`${base}/big.bin`, { method: 'HEAD' });
    expect(head.bodyBytes).toBe(0);
    const bigOne = await client.get(`${base}/big.bin`);
    expect(sha(bigOne.body)).toBe(sha(files.get('big.bin')!));
    expect(client.connectionsOpened).toBe(1);
    // nginx's own count: the fourth request on the connection.
    const log = (await readFile(join(work, 'logs', 'conn.log'), 'utf8')).trim().split('\n');
    expect(log.at(-1)).toMatch(/^\d+ 4 200 GET \/big\.bin HTTP\/1\.1$/);
  });

  it('the grabber: many files over few connections, redirects followed and bounded, .part resumed', async () => {
    const out = await mkdtemp(join(work, 'out-'));
    const partial = files.get('pub/f5.bin')!;
    await writeFile(join(out, 'f5.bin.part'), partial.subarray(0, 777_777));
    const urls = [...files.keys()].filter((p) => p.startsWith('pub/f')).map((p) => `${base}/${p}`);
    const before = (await readFile(join(work, 'logs', 'conn.log'), 'utf8')).trim().split('\n').length;
    const result = await getUrls([...urls, `${base}/elsewhere`, `${base}/loop`], { outDir: out, parallel: 2, maxRedirects: 4, retries: 0 });
    expect(result.done).toBe(7);
    for (const p of [...files.keys()].filter((k) => k.startsWith('pub/f')))
      expect(sha(await readFile(join(out, p.slice(4))))).toBe(sha(files.get(p)!));
    expect(sha(await readFile(join(out, 'elsewhere')))).toBe(sha(files.get('pub/text.txt')!));
    expect(result.failed.map((f) => f.message)).toEqual([`${base}/loop: more than 4 redirects.`]);
    const mine = (await readFile(join(work, 'logs', 'conn.log'), 'utf8')).trim().split('\n').slice(before);
    expect(mine.filter((l) => / 206 GET \/pub\/f5\.bin HTTP\/1\.1$/.test(l))).toHaveLength(1);
    // 6 files, 2 + 1 redirect hops, 5 loop hops: 14 requests, two at a time, on two kept-alive connections.
    expect(mine).toHaveLength(14);
    expect(new Set(mine.map((l) => l.split(' ')[0])).size).toBe(2);
  });

  it('gorgon get over https with --ca-file, and the certificate refused without it', async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
    const out = await mkdtemp(join(work, 'tls-'));
    const run = (...args: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((ok) => {
        const child = spawn(process.execPath, [main, 'get', ...args, '--progress', 'lines'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => ok({ code, stderr }));
      });
    const refused = await run(`${tlsBase}/big.bin`, '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/certificate .* is not trusted: it is self-signed.*--ca-file.*--insecure/);
    const trusted = await run(`${tlsBase}/big.bin`, `${tlsBase}/pub/f1.bin`, '--out', out, '--ca-file', certFile);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(files.get('big.bin')!));
    expect(sha(await readFile(join(out, 'f1.bin')))).toBe(sha(files.get('pub/f1.bin')!));
  });
});
