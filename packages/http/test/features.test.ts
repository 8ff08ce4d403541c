import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProxyV1 } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { memoryLogger } from '@gorgon/core/testing';
import { createHttpServer, MemoryStore, type HttpServer } from '@gorgon/http';
import { formatCombined } from '../src/access-log.js';
import { exchange, parseResponses, startServer, tempDir } from './helpers.js';

describe('TLS, PROXY, access log, cache, listings off, options', () => {
  const t = tempDir();
  const records: ReturnType<typeof memoryLogger>['records'] = [];
  let server: HttpServer;
  let port: number;
  let cert: { cert: string; key: string };
  beforeAll(async () => {
    writeFileSync(join(t.dir, 'f.txt'), 'one');
    cert = await createDemoCertificate('localhost');
    ({ server, port } = await startServer(t.dir, {
      tls: cert,
      logger: memoryLogger(records),
      accessLogFile: join(t.dir, 'access.log'),
      cache: { maxBytes: 1024, maxFileBytes: 512, validMs: 0 },
      listings: false,
      proxyProtocol: { trusted: ['127.0.0.2'] },
    }));
  });
  afterAll(async () => {
    await server.close();
    t.remove();
  });

  it('https on its own port (TLS from the first byte)', async () => {
    const { port: tlsPort } = await server.listenTls(0);
    const body = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ port: tlsPort, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' }, () => {
        s.write('GET /f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      });
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(body).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(body.endsWith('\r\n\r\none')).toBe(true);
  });

  it('access log in combined format, through the logger and to the file', async () => {
    await exchange(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: test "agent"\r\nReferer: http://r/\r\nConnection: close\r\n\r\n');
    await server.close();
    const line =
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/f\.txt HTTP\/1\.1" 200 3 "http:\/\/r\/" "test \\"agent\\""$/;
    expect(records.some((r) => typeof r.msg === 'string' && line.test(r.msg))).toBe(true);
    expect(
      readFileSync(join(t.dir, 'access.log'), 'utf8')
        .split('\n')
        .some((l) => line.test(l)),
    ).toBe(true);
    ({ server, port } = await startServer(t.dir, { cache: { maxBytes: 1024, maxFileBytes: 512, validMs: 0 }, listings: false }));
  });

  it('PROXY v1 from a trusted address: the logged client is the header source', async () => {
    const proxy = await startServer(t.dir, { proxyProtocol: { trusted: ['127.0.0.1'] }, logger: memoryLogger(records) });
    const proxied = formatProxyV1('203.0.113.7', 5555, '127.0.0.1', proxy.port);
    const [r] = parseResponses(await exchange(proxy.port, `${proxied}GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    expect(r!.status).toBe(200);
    await proxy.server.close();
    expect(records.some((x) => typeof x.msg === 'string' && x.msg.startsWith('203.0.113.7 - - '))).toBe(true);
  });

  it('the hot-file cache serves small files from memory and notices a change', async () => {
    const ask = 'GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n';
    const [a, b] = parseResponses(await exchange(port, ask + ask));
    expect([a!.body.toString(), b!.body.toString()]).toEqual(['one', 'one']);
    expect(server.counters.cacheHits).toBeGreaterThanOrEqual(1);
    writeFileSync(join(t.dir, 'f.txt'), 'two!');
    const [c] = parseResponses(await exchange(port, ask));
    expect(c!.body.toString()).toBe('two!');
  });

  it('the cache over a store without synchronous reads (MemoryStore): filled, hit, refreshed on change', async () => {
    const store = new MemoryStore();
    store.put('/m.txt', 'first');
    const s = createHttpServer({ store, cache: { maxBytes: 100, maxFileBytes: 50, validMs: 0 } });
    const { port: p } = await s.listen(0);
    const ask = 'GET /m.txt HTTP/1.1\r\nHost: x\r\n\r\n';
    const rs = parseResponses(await exchange(p, `${ask + ask}HEAD /m.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), [2]);
    expect(rs.map((r) => r.body.toString())).toEqual(['first', 'first', '']);
    expect(rs[2]!.fields.get('content-length')).toBe('5');
    expect(s.counters.cacheHits).toBe(2); // the GET and the HEAD after the first, each confirmed by ETag
    store.put('/m.txt', 'second');
    const [r] = parseResponses(await exchange(p, 'GET /m.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(r!.body.toString()).toBe('second');
    await s.close();
  });

  it('open-file cache: no file system call within validMs, then the new bytes with a new ETag', async () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.dir, 'v.txt'), 'version one');
      const get = 'GET /v.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
      // A window no test outlasts: the change is not seen (the entry is served as it was).
      const long = await startServer(dir.dir, { cache: { maxBytes: 1024, maxFileBytes: 512, validMs: 600_000 } });
      const [a] = parseResponses(await exchange(long.port, get));
      writeFileSync(join(dir.dir, 'v.txt'), 'version two, longer');
      const [b] = parseResponses(await exchange(long.port, get));
      expect(b!.body.toString()).toBe('version one');
      expect(b!.fields.get('etag')).toBe(a!.fields.get('etag'));
      expect(long.server.counters.cacheHits).toBe(1);
      // A range and a conditional request are answered from the same entry.
      const [c, d] = parseResponses(
        await exchange(
          long.port,
          `GET /v.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=8-10\r\n\r\nGET /v.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${a!.fields.get('etag')}\r\nConnection: close\r\n\r\n`,
        ),
      );
      expect([c!.status, c!.body.toString(), d!.status]).toEqual([206, 'one', 304]);
      await long.server.close();
      // A short window: once it has passed, the next request opens the file again.
      writeFileSync(join(dir.dir, 'v.txt'), 'version three');
      const short = await startServer(dir.dir, { cache: { maxBytes: 1024, maxFileBytes: 512, validMs: 30 } });
      const [e] = parseResponses(await exchange(short.port, get));
      expect(e!.body.toString()).toBe('version three');
      writeFileSync(join(dir.dir, 'v.txt'), 'version four!');
      await new Promise((r) => setTimeout(r, 80));
      const [f] = parseResponses(await exchange(short.port, get));
      expect(f!.body.toString()).toBe('version four!');
      expect(f!.fields.get('content-length')).toBe('13');
      expect(f!.fields.get('etag')).not.toBe(e!.fields.get('etag'));
      await short.server.close();
    } finally {
      dir.remove();
    }
  });

  it('open-file cache: a file that changed while it was read is served but not kept', async () => {
    const inner = new MemoryStore();
    inner.put('/w.txt', 'steady');
    let changing = true;
    // The store reports the open file changed under the read (as a writer in place would).
    const store = {
      open: async (path: string) => {
        const f = await inner.open(path);
        return f?.kind === 'file' ? { ...f, currentEtag: () => (changing ? '"changed"' : f.etag) } : f;
      },
      list: (path: string) => inner.list(path),
    };
    const s = createHttpServer({ store, cache: { maxBytes: 100, maxFileBytes: 50, validMs: 600_000 } });
    const { port: p } = await s.listen(0);
    const ask = 'GET /w.txt HTTP/1.1\r\nHost: x\r\n\r\n';
    const rs = parseResponses(await exchange(p, `${ask}${ask}GET /w.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    expect(rs.map((r) => r.body.toString())).toEqual(['steady', 'steady', 'steady']);
    expect(s.counters.cacheHits).toBe(0);
    changing = false;
    const again = parseResponses(await exchange(p, `${ask}GET /w.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    expect(again.map((r) => r.body.toString())).toEqual(['steady', 'steady']);
    expect(s.counters.cacheHits).toBe(1);
    await s.close();
  });

  it('listings off: a directory without index.html is 403', async () => {
    const [r] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(r!.status).toBe(403);
  });

  it('bad options are one ServerOptionError sentence', () => {
    expect(() => createHttpServer({ store: {} as never })).toThrow(/http server option store must be an HttpStore/);
    expect(() => createHttpServer({ store: new MemoryStore(), limits: { maxHeaderz: 1 } as never })).toThrow(
      /limits.maxHeaderz is not a limit/,
    );
  });

  it('an embedder method row is dispatched and joins Allow', async () => {
    const store = new MemoryStore();
    const s = createHttpServer({
      store,
      commands: [
        {
          verb: 'PURGE',
          args: 'required',
          help: 'PURGE <target>',
          run: (session) => session.respond(200, 'Content-Type: text/plain\r\n', 'purged\n'),
        },
      ],
    });
    const { port: p } = await s.listen(0);
    const rs = parseResponses(
      await exchange(p, 'PURGE /x HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    expect(rs[0]!.body.toString()).toBe('purged\n');
    expect(rs[1]!.fields.get('allow')).toBe('GET, HEAD, OPTIONS, PURGE');
    await s.close();
  });

  it('command and transfer events', async () => {
    const seen: string[] = [];
    server.on('command', (e) => seen.push(`command ${e.verb}`));
    server.on('transfer', (e) => seen.push(`transfer ${e.kind} ${e.path} ${e.bytes}`));
    await exchange(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(seen).toEqual(['command GET', 'transfer download /f.txt 4']);
  });

  it('formatCombined escapes quotes and control bytes', () => {
    const line = formatCombined({
      remoteAddress: '::1',
      requestLine: 'GET /"\x01 HTTP/1.1',
      status: 404,
      bytes: 0,
      referer: undefined,
      userAgent: undefined,
      time: 0,
    });
    expect(line).toBe('::1 - - [01/Jan/1970:00:00:00 +0000] "GET /\\"\\x01 HTTP/1.1" 404 - "-" "-"');
  });
});
