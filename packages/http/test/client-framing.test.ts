/**
 * The client's response framing fed through the in-memory channel pair: every split point of
 * two responses on one kept-alive connection (chunked with extensions and trailers, then a
 * Content-Length body), interim 1xx responses, and the malformed shapes it refuses.
 * @see RFC 9112 §4, §5, §6.3, §7.1, §9.3
 */
import { memoryChannelPair } from '@gorgon/core/testing';
import { describe, expect, it } from 'vitest';
import { HttpConnection, type HttpResponseHead } from '@gorgon/http/client';

interface Got {
  head?: HttpResponseHead;
  body: Buffer[];
  done?: { bytes: number; reusable: boolean };
  error?: Error;
}

function ask(connection: HttpConnection, method: 'GET' | 'HEAD' = 'GET'): { got: Got; settled: Promise<Got> } {
  const got: Got = { body: [] };
  const settled = new Promise<Got>((resolve) => {
    connection.send({
      method,
      head: `${method} / HTTP/1.1\r\nHost: x\r\n\r\n`,
      onHead: (h) => {
        got.head = h;
        return (chunk) => void got.body.push(Buffer.from(chunk));
      },
      onDone: (bytes, reusable) => resolve(Object.assign(got, { done: { bytes, reusable } })),
      onError: (error) => resolve(Object.assign(got, { error })),
    });
  });
  return { got, settled };
}

const first =
  'HTTP/1.1 100 Continue\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Two: a\r\nx-two: b\r\n\r\n' +
  '5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer-Field: t\r\n\r\n';
const second = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond';

describe('HttpConnection framing', () => {
  it('two responses on one connection, each split at every byte', async () => {
    const one = Buffer.from(first, 'latin1');
    const two = Buffer.from(second, 'latin1');
    const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
    for (let split = 0; split <= one.length; split++) {
      const { channel, client } = memoryChannelPair();
      const connection = new HttpConnection(channel, 'test:80');
      const a = ask(connection);
      client.stream.write(one.subarray(0, split));
      await tick();
      client.stream.write(one.subarray(split));
      const ra = await a.settled;
      expect(ra.error, `split ${split}`).toBeUndefined();
      expect(Buffer.concat(ra.body).toString()).toBe('hello, world');
      expect(ra.head!.headers['x-two']).toBe('a, b');
      expect(ra.done).toEqual({ bytes: 12, reusable: true });
      // The same connection carries the next request once the first response is whole.
      const b = ask(connection);
      const at = split % (two.length + 1);
      client.stream.write(two.subarray(0, at));
      await tick();
      client.stream.write(two.subarray(at));
      const rb = await b.settled;
      expect(rb.error, `split ${split}`).toBeUndefined();
      expect(Buffer.concat(rb.body).toString()).toBe('second');
      connection.close({ flush: false });
    }
  });

  it('HEAD, 204 and 304 have no body whatever their fields say', async () => {
    for (const [method, status] of [
      ['HEAD', 200],
      ['GET', 204],
      ['GET', 304],
    ] as const) {
      const { channel, client } = memoryChannelPair();
      const connection = new HttpConnection(channel, 'test:80');
      const { settled } = ask(connection, method);
      client.stream.write(`HTTP/1.1 ${status} X\r\nContent-Length: 100\r\n\r\n`);
      const r = await settled;
      expect(r.done).toEqual({ bytes: 0, reusable: true });
      connection.close({ flush: false });
    }
  });

  it('HTTP/1.0 and Connection: close responses do not keep the connection', async () => {
    for (const text of [
      'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
    ]) {
      const { channel, client } = memoryChannelPair();
      const connection = new HttpConnection(channel, 'test:80');
      const { settled } = ask(connection);
      client.stream.write(text);
      expect((await settled).done).toEqual({ bytes: 2, reusable: false });
      expect(connection.usable).toBe(false);
    }
  });

  it.each([
    ['a status line that is not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', /did not answer with an HTTP status line/],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', /malformed header field/],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx', /malformed header field/],
    ['two different lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx', /invalid Content-Length/],
    ['a negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size/],
    [
      'a chunk without its CRLF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n',
      /chunk without its line end/,
    ],
    ['more than 200 header fields', `HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(201)}\r\n`, /more than 200 header fields/],
    ['a header line over the limit', `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, /header line over 16384 bytes/],
  ])('refuses %s and drops the connection', async (_what, text, message) => {
    const { channel, client } = memoryChannelPair();
    const connection = new HttpConnection(channel, 'test:80');
    const { settled } = ask(connection);
    client.stream.write(text);
    const r = await settled;
    expect(r.error?.message).toMatch(message);
    expect(connection.usable).toBe(false);
  });

  it('a repeated equal Content-Length is one length (RFC 9110 §8.6)', async () => {
    const { channel, client } = memoryChannelPair();
    const connection = new HttpConnection(channel, 'test:80');
    const { settled } = ask(connection);
    client.stream.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok');
    expect(Buffer.concat((await settled).body).toString()).toBe('ok');
    connection.close({ flush: false });
  });

  it('a server that closes mid-body or before answering fails the request with closed', async () => {
    for (const [text, message] of [
      ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', /before the response was complete/],
      ['', /without answering/],
    ] as const) {
      const { channel, client } = memoryChannelPair();
      const connection = new HttpConnection(channel, 'test:80');
      const { settled } = ask(connection);
      client.stream.end(text);
      const r = await settled;
      expect(r.error?.message).toMatch(message);
    }
  });
});
