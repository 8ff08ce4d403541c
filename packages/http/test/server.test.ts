import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpServer } from '@gorgon/http';
import { exchange, parseResponses, startServer, tempDir } from './helpers.js';

const big = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
// Every 1 MiB chunk different: a reused read buffer sent before it was refilled would show.
const huge = randomBytes(7 * 1024 * 1024 + 3);

describe('http server over a loopback socket (RFC 9110, RFC 9112)', () => {
  const t = tempDir();
  const outside = tempDir();
  let server: HttpServer;
  let port: number;
  const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

  beforeAll(async () => {
    writeFileSync(join(t.dir, 'hello.txt'), 'hello world\n');
    utimesSync(join(t.dir, 'hello.txt'), new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    writeFileSync(join(t.dir, 'big.bin'), big);
    writeFileSync(join(t.dir, 'huge.bin'), huge);
    mkdirSync(join(t.dir, 'site'));
    writeFileSync(join(t.dir, 'site', 'index.html'), '<h1>site</h1>');
    mkdirSync(join(t.dir, 'list'));
    writeFileSync(join(t.dir, 'list', 'a <b>.txt'), 'a');
    writeFileSync(join(outside.dir, 'secret'), 'secret');
    symlinkSync(join(outside.dir, 'secret'), join(t.dir, 'escape'));
    symlinkSync(outside.dir, join(t.dir, 'escapedir'));
    symlinkSync('hello.txt', join(t.dir, 'inside-link'));
    ({ server, port } = await startServer(t.dir));
  });
  afterAll(async () => {
    await server.close();
    t.remove();
    outside.remove();
  });

  it('GET a file: 200, Content-Type from mime-types, Content-Length, Last-Modified, strong ETag (§8.3, §8.6, §8.8)', async () => {
    const [r] = parseResponses(await exchange(port, get('/hello.txt', 'Connection: close\r\n')));
    expect(r!.status).toBe(200);
    expect(r!.body.toString()).toBe('hello world\n');
    expect(r!.fields.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r!.fields.get('content-length')).toBe('12');
    expect(r!.fields.get('last-modified')).toBe('Wed, 01 Jan 2020 00:00:00 GMT');
    expect(r!.fields.get('etag')).toMatch(/^"[^"]+"$/);
    expect(r!.fields.get('connection')).toBe('close');
  });

  it('HEAD: the same fields, no content (§9.3.2)', async () => {
    const raw = await exchange(port, 'HEAD /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const [r] = parseResponses(raw, [0]);
    expect(r!.status).toBe(200);
    expect(r!.fields.get('content-length')).toBe('12');
    expect(raw.toString().endsWith('\r\n\r\n')).toBe(true);
  });

  it('keep-alive and pipelining: responses in order on one connection (RFC 9112 §9.3, §9.3.2)', async () => {
    const reqs = [get('/hello.txt'), get('/missing'), get('/site/'), get('/hello.txt', 'Connection: close\r\n')].join('');
    const rs = parseResponses(await exchange(port, reqs));
    expect(rs.map((r) => r.status)).toEqual([200, 404, 200, 200]);
    expect(rs[2]!.body.toString()).toBe('<h1>site</h1>');
  });

  it('HTTP/1.0 closes unless keep-alive is asked for; no Host needed (RFC 9112 §9.3)', async () => {
    const rs = parseResponses(await exchange(port, 'GET /hello.txt HTTP/1.0\r\n\r\nGET /hello.txt HTTP/1.0\r\n\r\n'));
    expect(rs).toHaveLength(1);
    const ka = parseResponses(
      await exchange(port, 'GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello.txt HTTP/1.0\r\n\r\n'),
    );
    expect(ka.map((r) => r.status)).toEqual([200, 200]);
    expect(ka[0]!.fields.get('connection')).toBe('keep-alive');
  });

  it('directories: 301 to the slash form, index.html, listing with escaped names', async () => {
    const rs = parseResponses(await exchange(port, get('/site') + get('/list/', 'Connection: close\r\n')));
    expect(rs[0]!.status).toBe(301);
    expect(rs[0]!.fields.get('location')).toBe('/site/');
    expect(rs[1]!.status).toBe(200);
    expect(rs[1]!.body.toString()).toContain('a &#60;b&#62;.txt');
    expect(rs[1]!.body.toString()).toContain('href="a%20%3Cb%3E.txt"');
  });

  it('confinement: .., %2e%2e, NUL, encoded slash, symlinks out of the root never give the file', async () => {
    const targets = [
      '/../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/site/%2E%2E/hello.txt',
      '/hello.txt%00',
      '/a%2f..%2fhello.txt',
      '/escape',
      '/escapedir/secret',
      '/%zz',
    ];
    const rs = parseResponses(await exchange(port, targets.map((x) => get(x)).join('')));
    const statuses = rs.map((r) => r.status);
    expect(statuses[0]).toBe(403);
    expect(statuses[1]).toBe(403);
    expect(statuses[2]).toBe(403);
    // 400 closes the connection: each of the rest is checked on its own
    for (const x of targets.slice(3)) {
      const [r] = parseResponses(await exchange(port, get(x, 'Connection: close\r\n')));
      expect([400, 403, 404]).toContain(r!.status);
      expect(r!.body.toString()).not.toContain('secret');
    }
    const [inside] = parseResponses(await exchange(port, get('/inside-link', 'Connection: close\r\n')));
    expect(inside!.body.toString()).toBe('hello world\n');
  });

  it('absolute-form target; OPTIONS *; 405 with Allow; 501 for an unknown method (RFC 9112 §3.2.2, RFC 9110 §9.3.7, §15.5.6)', async () => {
    const rs = parseResponses(
      await exchange(
        port,
        'GET http://example.org/hello.txt HTTP/1.1\r\nHost: example.org\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nPOST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcBREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      ),
    );
    expect(rs.map((r) => r.status)).toEqual([200, 204, 405, 501]);
    expect(rs[1]!.fields.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(rs[2]!.fields.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('conditional requests: If-None-Match and If-Modified-Since give 304; If-Match mismatch 412 (§13)', async () => {
    const [first] = parseResponses(await exchange(port, get('/hello.txt', 'Connection: close\r\n')));
    const etag = first!.fields.get('etag')!;
    const rs = parseResponses(
      await exchange(
        port,
        get('/hello.txt', `If-None-Match: "other", ${etag}\r\n`) +
          get('/hello.txt', 'If-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT\r\n') +
          get('/hello.txt', 'If-Modified-Since: Tue, 31 Dec 2019 00:00:00 GMT\r\n') +
          get('/hello.txt', `If-None-Match: "nope"\r\nIf-Modified-Since: Wed, 01 Jan 2020 00:00:00 GMT\r\n`) +
          get('/hello.txt', 'If-Match: "nope"\r\nConnection: close\r\n'),
      ),
    );
    expect(rs.map((r) => r.status)).toEqual([304, 304, 200, 200, 412]);
    expect(rs[0]!.fields.get('etag')).toBe(etag);
  });

  it('Range: 206 with Content-Range, suffix, open end, 416, If-Range, multipart/byteranges (§14)', async () => {
    const [first] = parseResponses(await exchange(port, get('/hello.txt', 'Connection: close\r\n')));
    const etag = first!.fields.get('etag')!;
    const rs = parseResponses(
      await exchange(
        port,
        get('/hello.txt', 'Range: bytes=0-4\r\n') +
          get('/hello.txt', 'Range: bytes=-6\r\n') +
          get('/hello.txt', 'Range: bytes=6-\r\n') +
          get('/hello.txt', 'Range: bytes=100-\r\n') +
          get('/hello.txt', `Range: bytes=0-4\r\nIf-Range: "stale"\r\n`) +
          get('/hello.txt', `Range: bytes=0-4\r\nIf-Range: ${etag}\r\n`) +
          get('/hello.txt', 'Range: bytes=0-1,6-7\r\nConnection: close\r\n'),
      ),
    );
    expect(rs.map((r) => r.status)).toEqual([206, 206, 206, 416, 200, 206, 206]);
    expect(rs[0]!.body.toString()).toBe('hello');
    expect(rs[0]!.fields.get('content-range')).toBe('bytes 0-4/12');
    expect(rs[1]!.body.toString()).toBe('world\n');
    expect(rs[2]!.body.toString()).toBe('world\n');
    expect(rs[3]!.fields.get('content-range')).toBe('bytes */12');
    const mp = rs[6]!;
    const boundary = /boundary=(\w+)/.exec(mp.fields.get('content-type')!)![1]!;
    expect(mp.body.toString()).toBe(
      `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/12\r\n\r\nhe` +
        `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 6-7/12\r\n\r\nwo\r\n--${boundary}--\r\n`,
    );
  });

  it('a big file arrives whole and a range of it is exact; header and first chunk share one write', async () => {
    const raw = await exchange(port, get('/big.bin', 'Connection: close\r\n'), 10_000);
    const [r] = parseResponses(raw);
    expect(r!.body.equals(big)).toBe(true);
    const [part] = parseResponses(await exchange(port, get('/big.bin', 'Range: bytes=1048570-2097160\r\nConnection: close\r\n'), 10_000));
    expect(part!.body.equals(big.subarray(1048570, 2097161))).toBe(true);
  });

  it('a 7 MiB file twice on one connection to a client that reads slowly: exact bytes (the two read buffers are reused only once written)', async () => {
    const data = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c) => {
        chunks.push(c);
        // Backpressure: the server's writes wait on this client now and then.
        if (chunks.length % 16 === 0) {
          socket.pause();
          setTimeout(() => socket.resume(), 5);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      socket.write(get('/huge.bin') + get('/huge.bin', 'Connection: close\r\n'));
    });
    const rs = parseResponses(data);
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
    expect(rs[0]!.body.equals(huge)).toBe(true);
    expect(rs[1]!.body.equals(huge)).toBe(true);
  });

  it('request bodies on GET are drained by Content-Length and by chunks; the next request is served (RFC 9112 §6)', async () => {
    const rs = parseResponses(
      await exchange(
        port,
        'GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n' +
          get('/hello.txt', 'Connection: close\r\n'),
      ),
    );
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
  });
});
