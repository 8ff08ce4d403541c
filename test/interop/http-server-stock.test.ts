/**
 * The Gorgon HTTP server against stock clients: curl (keep-alive reuse, -r ranges, -z
 * conditional, --http1.0, -I), wget -r (a mirror, byte-identical), Python's http.client and
 * urllib, ab and wrk under load, and the `gorgon httpd` command itself. Debian packages: curl,
 * wget, python3, apache2-utils (ab), wrk.
 * @see RFC 9110, RFC 9112
 */
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, DiskStore, type HttpServer } from '@gorgon/http';

const CI = process.env['CI'] === 'true';
const have = (p: string): boolean => existsSync(p);
const CURL = '/usr/bin/curl';
const WGET = '/usr/bin/wget';
const AB = '/usr/bin/ab';
const WRK = '/usr/bin/wrk';

function run(cmd: string, args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'latin1', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('stock clients against gorgon httpd', () => {
  const root = mkdtempSync(join(tmpdir(), 'gorgon-http-interop-'));
  const mirror = mkdtempSync(join(tmpdir(), 'gorgon-http-mirror-'));
  let server: HttpServer;
  let port: number;
  let base: string;
  const big = randomBytes(3 * 1024 * 1024 + 5);

  beforeAll(async () => {
    writeFileSync(join(root, 'index.html'), '<a href="docs/">docs</a> <a href="big.bin">big</a>\n');
    writeFileSync(join(root, 'big.bin'), big);
    mkdirSync(join(root, 'docs', 'deep'), { recursive: true });
    writeFileSync(join(root, 'docs', 'a.txt'), 'alpha\n');
    writeFileSync(join(root, 'docs', 'deep', 'b c.txt'), 'beta\n');
    utimesSync(join(root, 'docs', 'a.txt'), new Date('2021-06-01T00:00:00Z'), new Date('2021-06-01T00:00:00Z'));
    server = createHttpServer({ store: new DiskStore(root) });
    ({ port } = await server.listen(0));
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(mirror, { recursive: true, force: true });
  });

  describe.skipIf(!CI && !have(CURL))('curl', () => {
    it('reuses one connection for several URLs (keep-alive)', async () => {
      const r = await run(CURL, [
        '-sS',
        '-v',
        `${base}/docs/a.txt`,
        `${base}/docs/a.txt`,
        `${base}/big.bin`,
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
        '-o',
        '/dev/null',
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/Re-using existing connection|Reusing existing/i);
    });

    it('-r ranges: one range exact, several as multipart/byteranges', async () => {
      const one = await run(CURL, ['-sS', '-r', '100-199', `${base}/big.bin`]);
      expect(Buffer.from(one.stdout, 'latin1').equals(big.subarray(100, 200))).toBe(true);
      const many = await run(CURL, ['-sS', '-i', '-r', '0-9,20-29', `${base}/big.bin`]);
      expect(many.stdout).toMatch(/^HTTP\/1\.1 206 Partial Content/);
      expect(many.stdout).toMatch(/Content-Type: multipart\/byteranges; boundary=/);
    });

    it('-z: a conditional GET is 304 when not modified, 200 when it is', async () => {
      const not = await run(CURL, [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-z',
        'Tue, 01 Jun 2021 00:00:00 GMT',
        `${base}/docs/a.txt`,
      ]);
      expect(not.stdout).toBe('304');
      const mod = await run(CURL, [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-z',
        'Mon, 31 May 2021 00:00:00 GMT',
        `${base}/docs/a.txt`,
      ]);
      expect(mod.stdout).toBe('200');
    });

    it('--http1.0 and -I (HEAD)', async () => {
      const old = await run(CURL, ['-sS', '--http1.0', `${base}/docs/a.txt`]);
      expect(old.stdout).toBe('alpha\n');
      const head = await run(CURL, ['-sS', '-I', `${base}/big.bin`]);
      expect(head.stdout).toMatch(new RegExp(`Content-Length: ${big.length}\\r\\n`));
      expect(head.stdout).toMatch(/ETag: "/);
    });

    it('Expect: 100-continue: 100 then the content is read (GET with a body); refused at once without 100 (POST: 405)', async () => {
      const body = join(root, '..', `gorgon-expect-${port}.txt`);
      writeFileSync(body, 'x'.repeat(3000));
      try {
        const get = await run(CURL, [
          '-sS',
          '-v',
          '-X',
          'GET',
          '-H',
          'Expect: 100-continue',
          '--data-binary',
          `@${body}`,
          `${base}/docs/a.txt`,
        ]);
        expect(get.code).toBe(0);
        expect(get.stderr).toMatch(/< HTTP\/1\.1 100 Continue/);
        expect(get.stderr).toMatch(/< HTTP\/1\.1 200 OK/);
        expect(get.stdout).toBe('alpha\n');
        const post = await run(CURL, [
          '-sS',
          '-v',
          '-H',
          'Expect: 100-continue',
          '--data',
          'name=value',
          '-w',
          '%{http_code}',
          '-o',
          '/dev/null',
          `${base}/docs/a.txt`,
        ]);
        expect(post.stdout).toBe('405');
        expect(post.stderr).not.toMatch(/100 Continue/);
        expect(post.stderr).toMatch(/< Allow: GET, HEAD, OPTIONS/);
        const odd = await run(CURL, ['-sS', '-H', 'Expect: 200-ok', '-w', '%{http_code}', '-o', '/dev/null', `${base}/docs/a.txt`]);
        expect(odd.stdout).toBe('417');
      } finally {
        rmSync(body, { force: true });
      }
    });

    it('--path-as-is: .. is refused, the file outside never served', async () => {
      const r = await run(CURL, ['-sS', '--path-as-is', '-o', '/dev/null', '-w', '%{http_code}', `${base}/docs/../../etc/passwd`]);
      expect(r.stdout).toBe('403');
    });
  });

  describe.skipIf(!CI && !have(WGET))('wget', () => {
    it('wget -r mirrors the tree byte-identical', async () => {
      const r = await run(WGET, ['-q', '-r', '-np', '-nH', '-P', mirror, `${base}/`]);
      expect(r.code).toBe(0);
      for (const file of ['index.html', 'big.bin', 'docs/a.txt', 'docs/deep/b c.txt']) {
        expect(sha(readFileSync(join(mirror, file))), file).toBe(sha(readFileSync(join(root, file))));
      }
    });
  });

  describe.skipIf(!CI && !(have(AB) && have(WRK)))('load generators: ab and wrk', () => {
    it('ab: 4,000 requests over 40 kept-alive connections, then 1,000 with a connection each, none failed', async () => {
      const keep = await run(AB, ['-k', '-n', '4000', '-c', '40', `${base}/docs/a.txt`]);
      expect(keep.code, keep.stderr).toBe(0);
      expect(keep.stdout).toMatch(/Complete requests:\s+4000\b/);
      expect(keep.stdout).toMatch(/Failed requests:\s+0\b/);
      expect(keep.stdout).toMatch(/Keep-Alive requests:\s+4000\b/);
      expect(keep.stdout).not.toMatch(/Non-2xx responses/);
      expect(keep.stdout).toMatch(/Document Length:\s+6 bytes/);
      const close = await run(AB, ['-n', '1000', '-c', '20', `${base}/docs/a.txt`]);
      expect(close.code, close.stderr).toBe(0);
      expect(close.stdout).toMatch(/Complete requests:\s+1000\b/);
      expect(close.stdout).toMatch(/Failed requests:\s+0\b/);
      expect(close.stdout).not.toMatch(/Keep-Alive requests:\s+[1-9]/);
      expect(close.stdout).not.toMatch(/Non-2xx responses/);
    });

    it('wrk: two threads, 50 connections for one second, every answer 2xx, no socket error, nothing left open', async () => {
      const r = await run(WRK, ['-t2', '-c50', '-d1s', `${base}/index.html`]);
      expect(r.code, r.stderr).toBe(0);
      const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1] ?? 0);
      expect(requests, r.stdout).toBeGreaterThan(500);
      expect(r.stdout).not.toMatch(/Socket errors|Non-2xx or 3xx responses/);
      for (let i = 0; i < 100 && server.counters.active > 0; i++) await new Promise((res) => setTimeout(res, 20));
      expect(server.counters.active).toBe(0);
    });
  });

  describe('python', () => {
    it('http.client on one connection, and urllib', async () => {
      const script = `
import http.client, urllib.request, sys
c = http.client.HTTPConnection('127.0.0.1', ${port})
out = []
for path in ['/docs/a.txt', '/docs/deep/b%20c.txt', '/nope']:
    c.request('GET', path)
    r = c.getresponse()
    out.append('%d %s' % (r.status, r.read().decode().strip()))
c.request('HEAD', '/big.bin'); r = c.getresponse(); r.read(); out.append(r.getheader('Content-Length'))
out.append(urllib.request.urlopen('${base}/docs/a.txt').read().decode().strip())
print('|'.join(out))
`;
      const r = await run('python3', ['-c', script]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`200 alpha|200 beta|404 404 Not Found|${big.length}|alpha`);
    });
  });
});

describe('gorgon httpd (the command, from packages/cli/dist)', () => {
  const main = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
  it.skipIf(!existsSync(main))('serves --root on --port and stops on SIGTERM', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gorgon-httpd-'));
    writeFileSync(join(root, 'hi.txt'), 'hi\n');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const child = spawn(process.execPath, [main, 'httpd', '--root', root, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let body = '';
      for (let i = 0; i < 50 && body === ''; i++) {
        await new Promise((r) => setTimeout(r, 100));
        body = await fetch(`http://127.0.0.1:${port}/hi.txt`).then(
          (r) => r.text(),
          () => '',
        );
      }
      expect(body).toBe('hi\n');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('close', r));
      rmSync(root, { recursive: true, force: true });
    }
  });
});
