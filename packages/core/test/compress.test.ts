import { spawn } from 'node:child_process';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { connect, createListener, type DeflateStream, LineSession, type Channel } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import { dial, socketClosed } from './helpers.js';

/** A COMPRESS server: `COMPRESS` says 206 and adds the layer; `BIG n` sends n bytes; others echo. */
class Compressor extends LineSession {
  static executed: string[] = [];
  constructor(channel: Channel) {
    super(channel, { maxLineLength: 2048 });
    this.push('200 ready\r\n');
  }
  protected override async onLine(line: string): Promise<void> {
    Compressor.executed.push(line);
    if (line === 'COMPRESS') {
      this.push('206 Compression active\r\n');
      await this.startCompress();
      return;
    }
    if (line.startsWith('BIG ')) {
      const n = Number(line.slice(4));
      this.push(`250 ${'x'.repeat(n)}\r\n`);
      return;
    }
    if (line === 'QUIT') {
      this.push('205 bye\r\n');
      this.closeWhenDone();
      return;
    }
    this.push(`250 ${line}\r\n`);
  }
}

/** A client line reader over a channel carrying a compression layer. */
class Reader extends LineSession {
  readonly lines: string[] = [];
  #wake: (() => void) | undefined;
  constructor(channel: Channel) {
    super(channel, { maxLineLength: 1 << 20 });
  }
  protected override onLine(line: string): void {
    this.lines.push(line);
    this.#wake?.();
  }
  async next(): Promise<string> {
    while (this.lines.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    return this.lines.shift()!;
  }
  send(line: string): void {
    this.push(`${line}\r\n`);
  }
}

describe('COMPRESS DEFLATE layer (DeflateStream)', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Compressor.executed = [];
  });
  afterEach(async () => {
    await guard.check();
  });

  it('a Gorgon client and server talk compressed both ways after the go-ahead', async () => {
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const channel = await connect({ port });
    const reader = new Reader(channel);
    expect(await reader.next()).toBe('200 ready');
    reader.send('COMPRESS');
    expect(await reader.next()).toBe('206 Compression active');
    await reader.startCompress();
    const wire = (channel.stream as DeflateStream).raw as Socket;
    const before = wire.bytesRead;
    reader.send('HELLO');
    reader.send('BIG 100000');
    expect(await reader.next()).toBe('250 HELLO');
    expect(await reader.next()).toBe(`250 ${'x'.repeat(100_000)}`);
    // 100 KB of one letter crosses the wire as a few hundred bytes.
    expect(wire.bytesRead - before).toBeLessThan(1000);
    reader.send('QUIT');
    expect(await reader.next()).toBe('205 bye');
    await channel.closed;
    expect(Compressor.executed).toEqual(['COMPRESS', 'HELLO', 'BIG 100000', 'QUIT']);
  });

  it('the last reply before the server closes is read whole, even while the inflater is busy (100 KB lines, 16 connections at once)', async () => {
    // Before the fix the socket's close destroyed the layer while the inflater still held the
    // final bytes: "205 bye" after large replies was lost now and then on a loaded machine
    // (the client waited for it forever).
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const session = async (): Promise<string[]> => {
      const channel = await connect({ port });
      const reader = new Reader(channel);
      await reader.next();
      reader.send('COMPRESS');
      await reader.next();
      await reader.startCompress();
      reader.send('BIG 100000');
      reader.send('BIG 300000');
      reader.send('QUIT');
      const got = [(await reader.next()).length, (await reader.next()).length];
      const bye = await reader.next();
      await channel.closed;
      return [String(got[0]), String(got[1]), bye];
    };
    const all = await Promise.all(Array.from({ length: 16 }, session));
    for (const r of all) expect(r).toEqual(['100004', '300004', '205 bye']);
  });

  it('compressed input that arrives before the switch is inflated, not lost (the race with the go-ahead)', async () => {
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const raw = dial(port);
    expect(await raw.line()).toBe('200 ready');
    raw.socket.removeAllListeners('data');
    raw.socket.removeAllListeners('readable');
    const deflate = zlib.createDeflateRaw();
    const inflate = zlib.createInflateRaw();
    const out: Buffer[] = [];
    let plain = Buffer.alloc(0);
    let compressed = false;
    raw.socket.on('data', (b: Buffer) => {
      if (compressed) inflate.write(b);
      else {
        plain = Buffer.concat([plain, b]);
        const end = plain.indexOf('\r\n');
        if (end !== -1) {
          compressed = true;
          if (plain.length > end + 2) inflate.write(plain.subarray(end + 2));
        }
      }
    });
    raw.socket.on('end', () => inflate.end());
    inflate.on('data', (b: Buffer) => out.push(b));
    const inflated = new Promise<void>((resolve) => inflate.once('end', () => resolve()));
    // The command and the first compressed command in one segment: the server may read the
    // compressed bytes before its own 206 is written, as a fast client makes happen.
    const first = await new Promise<Buffer>((resolve) => {
      const parts: Buffer[] = [];
      deflate.on('data', (b: Buffer) => parts.push(b));
      deflate.write('EARLY\r\n');
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(parts)));
    });
    deflate.removeAllListeners('data');
    deflate.on('data', (b: Buffer) => raw.socket.write(b));
    raw.socket.write(Buffer.concat([Buffer.from('COMPRESS\r\n'), first]));
    deflate.write('QUIT\r\n');
    deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    await inflated;
    expect(plain.toString().startsWith('206 Compression active\r\n')).toBe(true);
    expect(Buffer.concat(out).toString()).toBe('250 EARLY\r\n205 bye\r\n');
    expect(Compressor.executed).toEqual(['COMPRESS', 'EARLY', 'QUIT']);
    raw.socket.end();
    await socketClosed(raw.socket, true);
    deflate.close();
    inflate.close();
  });

  it('plaintext pipelined after COMPRESS is never executed: it fails to inflate and closes the connection', async () => {
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const raw = dial(port);
    expect(await raw.line()).toBe('200 ready');
    raw.send('COMPRESS\r\nINJECTED\r\n');
    expect(await raw.line()).toBe('206 Compression active');
    await socketClosed(raw.socket);
    expect(Compressor.executed).toEqual(['COMPRESS']);
  });

  it('input that is not DEFLATE closes the connection; the server goes on', async () => {
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const raw = dial(port);
    expect(await raw.line()).toBe('200 ready');
    raw.send('COMPRESS\r\n');
    expect(await raw.line()).toBe('206 Compression active');
    raw.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x12]));
    await socketClosed(raw.socket);
    const again = dial(port);
    expect(await again.line()).toBe('200 ready');
    again.socket.end();
    await socketClosed(again.socket, true);
  });

  it('a decompression bomb costs a bounded amount: the line limit answers it', async () => {
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const raw = dial(port);
    expect(await raw.line()).toBe('200 ready');
    raw.send('COMPRESS\r\n');
    expect(await raw.line()).toBe('206 Compression active');
    // 200 MB of 'a' without a line end deflates to ~200 KB.
    const bomb = zlib.deflateRawSync(Buffer.alloc(200 * 1024 * 1024, 0x61), { level: 9 });
    const heapBefore = process.memoryUsage().rss;
    raw.socket.write(bomb);
    await socketClosed(raw.socket);
    expect(process.memoryUsage().rss - heapBefore).toBeLessThan(150 * 1024 * 1024);
  });

  it('Python zlib as a raw peer: compressed commands in, compressed replies out', async () => {
    await using listener = createListener({ name: 'compress' }, (ch) => new Compressor(ch));
    const { port } = await listener.listen(0);
    const script = `
import socket, zlib, sys
s = socket.create_connection(('127.0.0.1', ${port}))
f = s.makefile('rb')
assert f.readline() == b'200 ready\\r\\n'
s.sendall(b'COMPRESS\\r\\n')
assert f.readline() == b'206 Compression active\\r\\n'
c = zlib.compressobj(6, zlib.DEFLATED, -15)
d = zlib.decompressobj(-15)
s.sendall(c.compress(b'ONE\\r\\nTWO\\r\\nBIG 5000\\r\\n') + c.flush(zlib.Z_SYNC_FLUSH))
buf = b''
while buf.count(b'\\r\\n') < 3:
    chunk = s.recv(65536)
    if not chunk: break
    buf += d.decompress(chunk)
lines = buf.split(b'\\r\\n')
assert lines[0] == b'250 ONE', lines[0]
assert lines[1] == b'250 TWO', lines[1]
assert lines[2] == b'250 ' + b'x' * 5000
s.sendall(c.compress(b'QUIT\\r\\n') + c.flush(zlib.Z_SYNC_FLUSH))
buf = b''
while True:
    chunk = s.recv(65536)
    if not chunk: break
    buf += d.decompress(chunk)
assert buf == b'205 bye\\r\\n', buf
print('ok')
`;
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('ok\n');
    expect(Compressor.executed).toEqual(['COMPRESS', 'ONE', 'TWO', 'BIG 5000', 'QUIT']);
  });
});
