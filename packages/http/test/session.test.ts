import { afterAll, describe, expect, it } from 'vitest';
import { memoryStreamPair, MemoryClient, transcript } from '@gorgon/core/testing';
import { createHttpServer, MemoryStore } from '@gorgon/http';
import { parseRange } from '../src/range.js';
import { parseFieldLine, parseRequestLine, parseTarget } from '../src/request.js';

const store = new MemoryStore();
store.put('/hello.txt', 'Hello World!\n', Date.UTC(2024, 0, 1));
const server = createHttpServer({ store });
afterAll(() => server.close());

describe('transcripts over the in-memory pair (RFC 9112 §2.1, §3, §9.3)', () => {
  it('a GET with its response head and content, then a HEAD, on one connection', async () => {
    const client = await transcript(
      (ch) => server.accept(ch),
      `
      C: GET /hello.txt HTTP/1.1
      C: Host: www.example.com
      C: User-Agent: curl/7.64.1
      C:
      S: HTTP/1.1 200 OK
      S: Server: Gorgon/0.1
      S: /^Date: \\w{3}, \\d\\d \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT$/
      S: /^ETag: "m[0-9a-z]+-d"$/
      S: Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT
      S: Accept-Ranges: bytes
      S: Content-Type: text/plain; charset=utf-8
      S: Content-Length: 13
      S:
      S: Hello World!
      C: HEAD /hello.txt HTTP/1.1
      C: Host: www.example.com
      C: Connection: close
      C:
      S: HTTP/1.1 200 OK
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: /^ETag: /
      S: Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT
      S: Accept-Ranges: bytes
      S: Content-Type: text/plain; charset=utf-8
      S: Content-Length: 13
      S: Connection: close
      S:
      `,
      { expectClose: true },
    );
    expect(client.buffered.length).toBe(0);
  });

  it('an error path: 404, then the session goes on; a bad request line: 400 and close', async () => {
    await transcript(
      (ch) => server.accept(ch),
      `
      C: GET /nope HTTP/1.1
      C: Host: x
      C:
      S: HTTP/1.1 404 Not Found
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: Content-Type: text/plain
      S: Content-Length: 14
      S:
      S: 404 Not Found
      C: GET  /hello.txt HTTP/1.1
      S: HTTP/1.1 400 Bad Request
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: Content-Type: text/plain
      S: Content-Length: 16
      S: Connection: close
      S:
      S: 400 Bad Request
      `,
      { expectClose: true },
    );
  });

  it('two pipelined requests split at every byte give the same two responses', async () => {
    const wire = Buffer.from('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const strip = (b: Buffer) => b.toString('latin1').replace(/Date: [^\r]*/g, 'Date: -');
    let reference: string | undefined;
    for (let split = 1; split < wire.length; split++) {
      const [a, b] = memoryStreamPair({ allowHalfOpen: [true, false] });
      server.accept(a);
      const c = new MemoryClient(b);
      c.send(wire.subarray(0, split));
      await new Promise((r) => setImmediate(r));
      c.send(wire.subarray(split));
      const got = strip(await c.readToEnd());
      reference ??= got;
      expect(got, `split at ${split}`).toBe(reference);
    }
    expect(reference!.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});

describe('Expect: 100-continue (RFC 9110 §10.1.1)', () => {
  it('a GET with content: 100 Continue before the content is read, then the response', async () => {
    await transcript(
      (ch) => server.accept(ch),
      `
      C: GET /hello.txt HTTP/1.1
      C: Host: x
      C: Content-Length: 5
      C: Expect: 100-continue
      C:
      S: HTTP/1.1 100 Continue
      S:
      C: abc
      S: HTTP/1.1 200 OK
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: /^ETag: /
      S: Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT
      S: Accept-Ranges: bytes
      S: Content-Type: text/plain; charset=utf-8
      S: Content-Length: 13
      S:
      S: Hello World!
      C: GET /hello.txt HTTP/1.1
      C: Host: x
      C: Expect: 100-CONTINUE
      C: Connection: close
      C:
      S: HTTP/1.1 200 OK
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: /^ETag: /
      S: Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT
      S: Accept-Ranges: bytes
      S: Content-Type: text/plain; charset=utf-8
      S: Content-Length: 13
      S: Connection: close
      S:
      S: Hello World!
      `,
      { expectClose: true },
    );
  });

  it('a request refused anyway gets its final status without 100, and the connection closes', async () => {
    await transcript(
      (ch) => server.accept(ch),
      `
      C: POST /hello.txt HTTP/1.1
      C: Host: x
      C: Content-Length: 5
      C: Expect: 100-continue
      C:
      S: HTTP/1.1 405 Method Not Allowed
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: Allow: GET, HEAD, OPTIONS
      S: Content-Type: text/plain
      S: Content-Length: 23
      S: Connection: close
      S:
      S: 405 Method Not Allowed
      `,
      { expectClose: true },
    );
    await transcript(
      (ch) => server.accept(ch),
      `
      C: GET /hello.txt HTTP/1.1
      C: Host: x
      C: Content-Length: 100000
      C: Expect: 100-continue
      C:
      S: HTTP/1.1 413 Content Too Large
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: Content-Type: text/plain
      S: Content-Length: 22
      S: Connection: close
      S:
      S: 413 Content Too Large
      `,
      { expectClose: true },
    );
  });

  it('another expectation is 417 (the session goes on when no content follows); HTTP/1.0 ignores Expect', async () => {
    await transcript(
      (ch) => server.accept(ch),
      `
      C: GET /hello.txt HTTP/1.1
      C: Host: x
      C: Expect: 200-ok
      C:
      S: HTTP/1.1 417 Expectation Failed
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: Content-Type: text/plain
      S: Content-Length: 23
      S:
      S: 417 Expectation Failed
      C: GET /hello.txt HTTP/1.0
      C: Content-Length: 5
      C: Expect: 100-continue
      C:
      C: abc
      S: HTTP/1.1 200 OK
      S: Server: Gorgon/0.1
      S: /^Date: /
      S: /^ETag: /
      S: Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT
      S: Accept-Ranges: bytes
      S: Content-Type: text/plain; charset=utf-8
      S: Content-Length: 13
      S: Connection: close
      S:
      S: Hello World!
      `,
      { expectClose: true },
    );
  });
});

describe('parsers fed strings directly', () => {
  it('request line: methods are tokens, single spaces, HTTP/1.x (RFC 9112 §3)', () => {
    expect(parseRequestLine('GET / HTTP/1.1')).toEqual({ method: 'GET', target: '/', minor: 1 });
    expect(parseRequestLine('GET / HTTP/1.0')).toEqual({ method: 'GET', target: '/', minor: 0 });
    expect(parseRequestLine('GET / HTTP/2.0')).toBe(505);
    for (const bad of ['GET /', 'GET  / HTTP/1.1', 'G(T / HTTP/1.1', 'GET / HTTP/1.1 ', 'GET / http/1.1'])
      expect(parseRequestLine(bad), bad).toBe(400);
  });

  it('field lines (RFC 9112 §5.1, RFC 9110 §5.5)', () => {
    expect(parseFieldLine('Host:  example.org \t')).toEqual(['host', 'example.org']);
    expect(parseFieldLine('X-Empty:')).toEqual(['x-empty', '']);
    for (const bad of ['Host : x', ' Host: x', 'Ho st: x', ': x', 'X: a\x00b', 'X: a\x7fb'])
      expect(parseFieldLine(bad), JSON.stringify(bad)).toBe(400);
  });

  it('targets: decoded once, checked after decoding (RFC 9110 §4.2.1, RFC 3986 §2.1)', () => {
    expect(parseTarget('/a%20b/c.txt?x=1')).toMatchObject({ path: '/a b/c.txt', query: 'x=1' });
    expect(parseTarget('/a/./b//c/')).toMatchObject({ path: '/a/b/c/' });
    expect(parseTarget('/%252e%252e/x')).toMatchObject({ path: '/%2e%2e/x' }); // once, not twice
    expect(parseTarget('http://h:8080/p?q')).toMatchObject({ path: '/p', authority: 'h:8080', query: 'q' });
    expect(parseTarget('http://h')).toMatchObject({ path: '/' });
    expect(parseTarget('*')).toMatchObject({ asterisk: true });
    expect(parseTarget('/..')).toBe(403);
    expect(parseTarget('/a/%2E%2e/b')).toBe(403);
    for (const bad of ['/a%2fb', '/a%00', '/%zz', '/a%5cb', 'example.org:443', '/a#frag']) expect(parseTarget(bad), bad).toBe(400);
  });

  it('ranges (RFC 9110 §14.1.2, §14.2)', () => {
    expect(parseRange('bytes=0-0', 10, 16)).toEqual([{ start: 0, end: 0 }]);
    expect(parseRange('bytes=-3', 10, 16)).toEqual([{ start: 7, end: 9 }]);
    expect(parseRange('bytes=-30', 10, 16)).toEqual([{ start: 0, end: 9 }]);
    expect(parseRange('bytes=5-100', 10, 16)).toEqual([{ start: 5, end: 9 }]);
    expect(parseRange('bytes=0-2,1-4,8-', 10, 16)).toEqual([
      { start: 0, end: 4 },
      { start: 8, end: 9 },
    ]);
    expect(parseRange('bytes=10-', 10, 16)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 10, 16)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-2', 10, 16)).toBeUndefined();
    expect(parseRange('items=0-1', 10, 16)).toBeUndefined();
    expect(parseRange('bytes=0-0,2-2,4-4', 10, 2)).toBeUndefined();
  });
});
