import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { HttpClient, HttpClientError, getUrls } from '@gorgon/http/client';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A throwaway node:http server on loopback, counting the TCP connections it accepts. */
async function serve(handler: Handler, server: Server = createServer()): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server.on('connection', () => connections++);
  server.on('secureConnection', () => connections++);
  server.on('request', handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  cleanups.push(
    () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  );
  const scheme = 'setSecureContext' in server ? 'https' : 'http';
  return { url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-http-client-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Serves `files` with Range support the way a static server does (RFC 9110 §14). */
function staticFiles(files: Record<string, Buffer>, options: { ignoreRange?: boolean } = {}): Handler {
  return (req, res) => {
    const body = files[req.url ?? ''];
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !options.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('HttpClient on loopback', () => {
  it('reads Content-Length, chunked and close-delimited bodies, and HEAD without a body', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const { url } = await serve((req, res) => {
      if (req.url === '/length') res.writeHead(200, { 'Content-Length': big.length }).end(big);
      else if (req.url === '/chunked') {
        res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
        res.write(big.subarray(0, 1000));
        res.write(big.subarray(1000, 2_000_000));
        res.end(big.subarray(2_000_000));
      } else if (req.url === '/close') {
        // No length at all: the body ends when the server closes (RFC 9112 §6.3 rule 8).
        res.socket!.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${'x'.repeat(5000)}`);
      } else res.writeHead(200, { 'Content-Length': 12 }).end(req.method === 'HEAD' ? undefined : 'hello world\n');
    });
    await using client = new HttpClient();
    const a = await client.get(`${url}/length`);
    expect(a.status).toBe(200);
    expect(sha(a.body)).toBe(sha(big));
    const b = await client.get(`${url}/chunked`);
    expect(b.headers['transfer-encoding']).toBe('chunked');
    expect(sha(b.body)).toBe(sha(big));
    const c = await client.get(`${url}/close`);
    expect(c.body.toString()).toBe('x'.repeat(5000));
    const h = await client.request(`${url}/other`, { method: 'HEAD' });
    expect(h.headers['content-length']).toBe('12');
    expect(h.bodyBytes).toBe(0);
    const g = await client.get(`${url}/other`);
    expect(g.body.toString()).toBe('hello world\n');
  });

  it('reuses one kept-alive connection per server for requests in sequence', async () => {
    const { url, connections } = await serve(staticFiles({ '/a': Buffer.from('aaa'), '/b': Buffer.from('bbbb') }));
    await using client = new HttpClient();
    for (let i = 0; i < 10; i++) {
      expect((await client.get(`${url}/${i % 2 === 0 ? 'a' : 'b'}`)).body.length).toBe(i % 2 === 0 ? 3 : 4);
    }
    expect(connections()).toBe(1);
    expect(client.connectionsOpened).toBe(1);
  });

  it('sends the request again on a new connection when the server closed an idle one', async () => {
    // The server keeps the connection open (HTTP/1.1) but drops it a moment after each response.
    const files = staticFiles({ '/a': Buffer.from('aaa') });
    const { url, connections } = await serve((req, res) => {
      files(req, res);
      setTimeout(() => req.socket.destroy(), 20);
    });
    await using client = new HttpClient();
    await client.get(`${url}/a`);
    await new Promise((ok) => setTimeout(ok, 100));
    expect((await client.get(`${url}/a`)).body.toString()).toBe('aaa');
    expect(connections()).toBe(2);
  });

  it('fails with a timeout when the server says nothing', async () => {
    const { url } = await serve(() => undefined);
    await using client = new HttpClient({ timeoutMs: 300 });
    const err = await client.get(`${url}/silent`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpClientError);
    expect((err as HttpClientError).kind).toBe('timeout');
  });

  it('fails a body cut short by the server', async () => {
    const { url } = await serve((_req, res) => {
      res.socket!.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this');
    });
    await using client = new HttpClient();
    const err = await client.get(`${url}/cut`).catch((e: unknown) => e);
    expect((err as HttpClientError).kind).toBe('closed');
    expect((err as Error).message).toMatch(/before the response was complete/);
  });
});

describe('HttpClient: backpressure, IPv6', () => {
  it('a sink that makes the body wait holds the socket back and loses nothing', async () => {
    const body = randomBytes(6 * 1024 * 1024);
    const { url } = await serve((_req, res) => res.writeHead(200, { 'Content-Length': body.length }).end(body));
    await using client = new HttpClient();
    const parts: Buffer[] = [];
    let pending = 0;
    let most = 0;
    await client.request(`${url}/slow`, {
      onHead: () => async (chunk) => {
        parts.push(Buffer.from(chunk));
        pending += chunk.length;
        most = Math.max(most, pending);
        await new Promise((r) => setTimeout(r, 5));
        pending -= chunk.length;
      },
    });
    expect(sha(Buffer.concat(parts))).toBe(sha(body));
    // Bytes handed to the sink and not yet done with: one piece of the body (1 MiB) and a read.
    expect(most).toBeLessThanOrEqual(1024 * 1024 + 256 * 1024);
  });

  it('speaks to [::1] with the Host field in brackets', async () => {
    const server = createServer((req, res) => res.end(req.headers.host));
    const ok = await new Promise<boolean>((done) => {
      server.once('error', () => done(false));
      server.listen(0, '::1', () => done(true));
    });
    if (!ok) return; // no IPv6 loopback here
    cleanups.push(() => new Promise((done) => server.close(() => done())));
    const port = (server.address() as AddressInfo).port;
    await using client = new HttpClient();
    expect((await client.get(`http://[::1]:${port}/`)).body.toString()).toBe(`[::1]:${port}`);
  });
});

describe('getUrls (the grabber)', () => {
  it('stops when aborted, keeping the .part, and the next run resumes it', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const { url } = await serve((req, res) => {
      const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
      if (start > 0) {
        res
          .writeHead(206, { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': body.length - start })
          .end(body.subarray(start));
        return;
      }
      // The first run gets a megabyte, then nothing more.
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, 1024 * 1024));
    });
    const out = await tempDir();
    const controller = new AbortController();
    const first = await getUrls([`${url}/big.bin`], {
      outDir: out,
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (e) => {
        if (e.type === 'progress' && e.received >= 1024 * 1024) controller.abort();
      },
    });
    expect(first.failed).toHaveLength(1);
    expect(first.failed[0]!.message).toBe(`${url}/big.bin: stopped.`);
    const part = await readFile(join(out, 'big.bin.part'));
    expect(part.length).toBe(1024 * 1024);
    const second = await getUrls([`${url}/big.bin`], { outDir: out });
    expect(second.done).toBe(1);
    expect(second.bytes).toBe(3 * 1024 * 1024);
    expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(body));
  });

  it('fetches many URLs from two servers at once over reused connections', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 8; i++) files[`/f${i}.bin`] = randomBytes(100_000 + i);
    const one = await serve(staticFiles(files));
    const two = await serve(staticFiles({ '/other.txt': Buffer.from('from two\n') }));
    const out = await tempDir();
    const urls = [...Object.keys(files).map((p) => `${one.url}${p}`), `${two.url}/other.txt`];
    const result = await getUrls(urls, { outDir: out, parallel: 4, perHost: 2 });
    expect(result.failed).toEqual([]);
    expect(result.done).toBe(9);
    for (const [p, body] of Object.entries(files)) expect(sha(await readFile(join(out, p.slice(1))))).toBe(sha(body));
    expect(await readFile(join(out, 'other.txt'), 'utf8')).toBe('from two\n');
    // Two connections at most to the first server, each reused for several files.
    expect(one.connections()).toBeLessThanOrEqual(2);
  });

  it('follows redirects, relative and to another server, and stops a loop', async () => {
    const target = await serve(staticFiles({ '/real.txt': Buffer.from('real\n') }));
    const { url } = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(301, { Location: '/moved2' }).end();
      else if (req.url === '/moved2') res.writeHead(302, { Location: `${target.url}/real.txt` }).end('see there');
      else res.writeHead(307, { Location: '/loop' }).end();
    });
    const out = await tempDir();
    const result = await getUrls([`${url}/moved`, `${url}/loop`], { outDir: out, maxRedirects: 5, retries: 0 });
    expect(await readFile(join(out, 'moved'), 'utf8')).toBe('real\n');
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.message).toBe(`${url}/loop: more than 5 redirects.`);
  });

  it('resumes a .part file with Range, and starts over when the server ignores Range', async () => {
    const body = randomBytes(500_000);
    const out = await tempDir();
    const ranged: string[] = [];
    const { url } = await serve((req, res) => {
      ranged.push(req.headers.range ?? '');
      staticFiles({ '/big.bin': body })(req, res);
    });
    await writeFile(join(out, 'big.bin.part'), body.subarray(0, 123_456));
    const events: string[] = [];
    const result = await getUrls([`${url}/big.bin`], {
      outDir: out,
      onProgress: (e) => events.push(e.type === 'start' ? `start@${e.offset}` : e.type),
    });
    expect(result.done).toBe(1);
    expect(ranged).toEqual(['bytes=123456-']);
    expect(result.bytes).toBe(500_000 - 123_456);
    expect(events).toContain('start@123456');
    expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(body));
    await expect(access(join(out, 'big.bin.part'))).rejects.toThrow();

    // A server without ranges answers 200: the file is fetched whole, not appended.
    const plain = await serve(staticFiles({ '/big.bin': body }, { ignoreRange: true }));
    await writeFile(join(out, 'again.bin.part'), body.subarray(0, 1000));
    const again = await getUrls([`${plain.url}/big.bin`], { outDir: out, outFile: join(out, 'again.bin') });
    expect(again.bytes).toBe(500_000);
    expect(sha(await readFile(join(out, 'again.bin')))).toBe(sha(body));

    // A finished file of the server's length is left alone (HEAD, no body); another is fetched again.
    const methods: string[] = [];
    const counting = await serve((req, res) => {
      methods.push(`${req.method ?? ''} ${req.headers.range ?? ''}`.trim());
      staticFiles({ '/big.bin': body })(req, res);
    });
    const skip = await getUrls([`${counting.url}/big.bin`], { outDir: out });
    expect(skip.skipped).toBe(1);
    expect(methods).toEqual(['HEAD']);
    await writeFile(join(out, 'big.bin'), 'stale');
    const refetch = await getUrls([`${counting.url}/big.bin`], { outDir: out });
    expect(refetch.done).toBe(1);
    expect(methods).toEqual(['HEAD', 'HEAD', 'GET']);
    expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(body));

    // A .part longer than the file now is: 416 with a shorter length, so the file is fetched whole.
    await writeFile(join(out, 'shrunk.bin.part'), Buffer.concat([body, Buffer.from('old tail')]));
    const shrunk = await getUrls([`${url}/big.bin`], { outDir: out, outFile: join(out, 'shrunk.bin') });
    expect(shrunk.failed).toEqual([]);
    expect(sha(await readFile(join(out, 'shrunk.bin')))).toBe(sha(body));

    // A .part that already holds everything: 416 with the full length, renamed into place.
    await writeFile(join(out, 'done.bin.part'), body);
    const done = await getUrls([`${url}/big.bin`], { outDir: out, outFile: join(out, 'done.bin') });
    expect(done.done).toBe(1);
    expect(sha(await readFile(join(out, 'done.bin')))).toBe(sha(body));
  });

  it('names each failed URL in one sentence and retries only what may pass later', async () => {
    let calls = 0;
    const { url } = await serve((req, res) => {
      if (req.url === '/flaky') {
        calls++;
        if (calls < 2) res.writeHead(503).end();
        else res.writeHead(200, { 'Content-Length': 2 }).end('ok');
      } else res.writeHead(404).end();
    });
    const out = await tempDir();
    const result = await getUrls([`${url}/missing.txt`, `${url}/flaky`, 'http://127.0.0.1:1/nothing'], {
      outDir: out,
      retryDelayMs: 10,
      retries: 1,
    });
    expect(result.done).toBe(1);
    expect(result.failed.map((f) => f.message)).toEqual([
      `${url}/missing.txt: no such file on the server (404 Not Found).`,
      'http://127.0.0.1:1/nothing: cannot connect to 127.0.0.1:1: connection refused.',
    ]);
    await expect(access(join(out, 'missing.txt.part'))).rejects.toThrow();
  });

  it('speaks TLS: refuses an untrusted certificate without retrying, trusts --ca-file, or skips the check', async () => {
    const { cert, key } = await createDemoCertificate('localhost');
    const server = createTlsServer({ cert, key });
    const { url: raw, connections } = await serve(staticFiles({ '/s.txt': Buffer.from('secret\n') }), server as unknown as Server);
    const url = raw.replace(/^https?:\/\/127\.0\.0\.1/, 'https://localhost');
    const out = await tempDir();
    const refused = await getUrls([`${url}/s.txt`], { outDir: out, retries: 3, retryDelayMs: 10 });
    expect(refused.failed[0]!.message).toBe(
      `${url}/s.txt: the certificate of localhost:${new URL(url).port} is not trusted: it is self-signed, so no authority this machine trusts vouches for it.`,
    );
    expect(connections()).toBe(1);
    const trusted = await getUrls([`${url}/s.txt`], { outDir: out, tls: { ca: cert } });
    expect(trusted.failed).toEqual([]);
    expect(await readFile(join(out, 's.txt'), 'utf8')).toBe('secret\n');
    const insecure = await getUrls([`${raw.replace(/^http:/, 'https:')}/s.txt`], {
      outDir: out,
      outFile: join(out, 'i.txt'),
      tls: { rejectUnauthorized: false },
    });
    expect(insecure.failed).toEqual([]);
  });
});
