import { readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HttpServer } from '@gorgon/http';
import { exchange, parseResponses, startServer, tempDir } from './helpers.js';

const statusOf = async (port: number, data: string | Buffer, waitMs = 1500): Promise<number[]> =>
  parseResponses(await exchange(port, data, waitMs)).map((r) => r.status);

describe('limits and hostile input (RFC 9112 §2.2, §3, §5, §6.3, §11.2; RFC 6585 §5)', () => {
  const t = tempDir();
  let server: HttpServer;
  let port: number;
  beforeAll(async () => {
    writeFileSync(join(t.dir, 'f.txt'), 'x'.repeat(100));
    writeFileSync(join(t.dir, 'p.txt'), 'x'.repeat(2048));
    writeFileSync(join(t.dir, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 1));
    ({ server, port } = await startServer(t.dir, {
      limits: { maxLineLength: 200, maxHeaders: 10, maxHeaderBytes: 1024, maxDrainBytes: 100 },
    }));
  });
  afterAll(async () => {
    await server.close();
    t.remove();
  });

  it('request line too long: 414 and close', async () => {
    expect(await statusOf(port, `GET /${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\nGET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n`)).toEqual([
      414,
    ]);
  });

  it('too many fields and a too large header section: 431 and close', async () => {
    const many = Array.from({ length: 11 }, (_, i) => `X-${i}: y\r\n`).join('');
    expect(await statusOf(port, `GET /f.txt HTTP/1.1\r\nHost: x\r\n${many}\r\n`)).toEqual([431]);
    expect(await statusOf(port, `GET /f.txt HTTP/1.1\r\nHost: x\r\nX: ${'y'.repeat(1100)}\r\n\r\n`)).toEqual([431]);
  });

  it('a 10 MiB header: 431 at the limit, the connection closed before the rest is read', async () => {
    const before = process.memoryUsage().rss;
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('data', (c) => got.push(c));
    socket.on('error', () => undefined);
    socket.write('GET /f.txt HTTP/1.1\r\nHost: x\r\nX-Big: ');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 160 && !socket.destroyed; i++) socket.write(chunk);
    await new Promise((r) => socket.on('close', r));
    expect(Buffer.concat(got).toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('smuggling shapes: CL+TE, duplicate CL, obs-fold, bare CR, bad CL, TE on 1.0: 400 and close', async () => {
    const shapes = [
      'GET /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
      'GET /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc',
      'GET /f.txt HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n',
      'GET /f.txt HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n',
      'GET /f.txt HTTP/1.1\rHost: x\r\n\r\n',
      'GET /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
      'GET /f.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /f.txt HTTP/1.1\r\nHost : x\r\n\r\n',
    ];
    for (const shape of shapes) {
      const raw = await exchange(port, `${shape}GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(
        parseResponses(raw).map((r) => r.status),
        JSON.stringify(shape),
      ).toEqual([400]);
      expect(raw.toString()).toContain('Connection: close');
    }
  });

  it('Host: missing or twice on 1.1 is 400; HTTP/2.0 on the request line is 505; a garbage line is 400', async () => {
    expect(await statusOf(port, 'GET /f.txt HTTP/1.1\r\n\r\n')).toEqual([400]);
    expect(await statusOf(port, 'GET /f.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')).toEqual([400]);
    expect(await statusOf(port, 'GET /f.txt HTTP/2.0\r\nHost: a\r\n\r\n')).toEqual([505]);
    expect(await statusOf(port, 'hello\r\n')).toEqual([400]);
  });

  it('unknown transfer coding 501; a body over maxDrainBytes 413 (Content-Length and chunked)', async () => {
    expect(await statusOf(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n')).toEqual([501]);
    expect(await statusOf(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n')).toEqual([413]);
    expect(await statusOf(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n')).toEqual([413]);
  });

  // The replies must add up to more than the kernel buffers for one connection, or a correct
  // server answers every request without ever seeing backpressure: Linux autotunes a loopback
  // socket's send buffer up to tcp_wmem's maximum (4 MiB by default), and 10,000 replies of a
  // 100-byte file (3.4 MB) fit in it. Replies of a 2 KiB file (about 23 MB) do not.
  it('10,000 pipelined requests from a client that does not read: reading stops, memory bounded; then all are answered in order', async () => {
    const one = 'GET /p.txt HTTP/1.1\r\nHost: x\r\n\r\n';
    const socket = connect(port, '127.0.0.1');
    onTestFinished(() => void socket.destroy()); // a failure here must not leave a connection to the next test
    socket.on('error', () => undefined);
    await new Promise((r) => socket.on('connect', r));
    socket.pause();
    const heapBefore = process.memoryUsage().heapUsed;
    const requestsBefore = server.counters.requests;
    socket.write(one.repeat(10_000));
    await new Promise((r) => setTimeout(r, 500));
    const served = server.counters.requests - requestsBefore;
    expect(served).toBeLessThan(10_000); // the server stopped while its replies were not read
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(32 * 1024 * 1024);
    let count = 0;
    let tail = '';
    socket.on('data', (c: Buffer) => {
      const text = tail + c.toString('latin1');
      count += text.split('HTTP/1.1 200 OK').length - 1;
      tail = text.slice(-14); // a status line cut by the read, never one already counted
    });
    socket.resume();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (count >= 10_000) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    expect(count).toBe(10_000);
    socket.destroy();
  });

  it('a client that resets in the middle of a big body: nothing leaks (descriptors counted)', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 5; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(server.connections).toBe(0);
    expect(fds()).toBeLessThanOrEqual(before);
  });
});

describe('timeouts and connection limits', () => {
  const t = tempDir();
  let server: HttpServer;
  let port: number;
  beforeAll(async () => {
    writeFileSync(join(t.dir, 'f.txt'), 'x');
    ({ server, port } = await startServer(t.dir, {
      limits: { headerTimeoutMs: 300, idleTimeoutMs: 400, maxConnectionsPerIp: 2, maxConnections: 3 },
    }));
  });
  afterAll(async () => {
    await server.close();
    t.remove();
  });

  it('a header section that trickles in: 408 then close (slowloris)', async () => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    socket.on('data', (c) => got.push(c));
    socket.write('GET /f.txt HTTP/1.1\r\n');
    const timer = setInterval(() => socket.write('X-A: b\r\n'), 50);
    const started = Date.now();
    await new Promise((r) => socket.on('close', r));
    clearInterval(timer);
    expect(Buffer.concat(got).toString()).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('an idle keep-alive connection is closed after idleTimeoutMs', async () => {
    const raw = await exchange(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n', 5000);
    expect(parseResponses(raw).map((r) => r.status)).toEqual([200]); // closed by the server before 5 s
  });

  it('per-address limit: the third connection from one address gets 503', async () => {
    const a = connect(port, '127.0.0.1');
    const b = connect(port, '127.0.0.1');
    await Promise.all([a, b].map((s) => new Promise((r) => s.on('connect', r))));
    await new Promise((r) => setTimeout(r, 50));
    const raw = await exchange(port, 'GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(raw.toString()).toMatch(/^HTTP\/1\.1 503 /);
    a.destroy();
    b.destroy();
  });
});
