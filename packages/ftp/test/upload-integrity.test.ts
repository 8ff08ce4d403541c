/**
 * An upload is committed only when its data connection ended cleanly after all bytes: a TCP FIN
 * (and a TLS close_notify under PROT P). A reset, an error or a bare FIN under TLS is not an end:
 * the client gets 426 and the old file stays. Through real loopback sockets.
 * @see RFC 959 §3.4.1 (EOF ends a stream-mode file), RFC 4217 §12.6 (TLS closure)
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { MemoryFs, type WritableFile, type WriteOptions } from '@gorgon/ftp';
import { testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

let cert: { cert: string; key: string };
beforeAll(async () => {
  cert = await createDemoCertificate('localhost');
});

const OLD = Buffer.from('the old content, which must survive\n');

/** A file's whole content. */
async function content(fs: MemoryFs, path: string): Promise<Buffer> {
  const producer = await fs.openRead(path);
  const parts: Buffer[] = [];
  for (let chunk = await producer.more(); chunk && chunk.length > 0; chunk = await producer.more()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * A memory filesystem whose uploads wait at a gate before each write: while it is shut the
 * server stops reading (backpressure), so the kernel holds megabytes that the client can then
 * reset under it. This is the race behind a reset read as EOF: libuv reports end of stream on
 * EPOLLHUP after a short read, without reading the ECONNRESET that follows the buffered bytes.
 */
class GatedFs extends MemoryFs {
  #open!: () => void;
  gate = new Promise<void>((resolve) => (this.#open = resolve));
  openGate(): void {
    this.#open();
  }
  override async openWrite(path: string, options: WriteOptions): Promise<WritableFile> {
    const w = await super.openWrite(path, options);
    return {
      write: async (data) => {
        await this.gate;
        await w.write(data);
      },
      commit: () => w.commit(),
      abort: () => w.abort(),
    };
  }
}

/** Resolves once the client's own send buffer stops shrinking: the server has stopped reading. */
async function untilStuck(d: net.Socket | tls.TLSSocket): Promise<void> {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (d.writableLength > 0 && d.writableLength === last) return;
    last = d.writableLength;
  }
  throw new Error('the data connection never backed up');
}

/** A control connection on the implicit-TLS port, logged in, PBSZ/PROT P and TYPE I. */
async function tlsControl(port: number): Promise<MemoryClient & { socket: tls.TLSSocket }> {
  const socket = tls.connect({ port, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const c = new MemoryClient(socket) as MemoryClient & { socket: tls.TLSSocket };
  c.socket = socket;
  await login(c);
  expect(await cmd(c, 'PBSZ 0')).toMatch(/^200 /);
  expect(await cmd(c, 'PROT P')).toMatch(/^200 /);
  return c;
}

function tlsData(raw: net.Socket): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, ca: cert.cert, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('STOR commits only a clean end of the data connection (RFC 959 §3.4.1)', () => {
  it.each([8, 24, 64])('a reset after %i MiB sent, racing the bytes the kernel still holds: 426, old file kept', async (mib) => {
    const fs = new GatedFs({ 'pub/file.bin': OLD });
    await using server = testServer({ store: fs, limits: { writeChunkBytes: 64 * 1024 } });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    d.on('error', () => {});
    expect(await cmd(c, 'STOR pub/file.bin')).toMatch(/^150 /);
    d.write(Buffer.alloc(mib * 1024 * 1024, 7));
    await untilStuck(d);
    d.resetAndDestroy(); // SO_LINGER 0: an RST behind the bytes already in the server's kernel
    await new Promise((r) => setTimeout(r, 20));
    fs.openGate();
    expect(await c.line()).toMatch(/^426 /);
    expect(await content(fs, '/pub/file.bin')).toEqual(OLD);
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    c.end();
  });

  it('a clean FIN after the same backlog: 226 and the new content', async () => {
    const fs = new GatedFs({ 'pub/file.bin': OLD });
    await using server = testServer({ store: fs, limits: { writeChunkBytes: 64 * 1024 } });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR pub/file.bin')).toMatch(/^150 /);
    const body = Buffer.alloc(16 * 1024 * 1024, 9);
    d.end(body);
    await untilStuck(d);
    fs.openGate();
    expect(await c.line()).toBe('226 Transfer complete.');
    expect((await content(fs, '/pub/file.bin')).equals(body)).toBe(true);
    c.end();
  });
});

describe('STOR under PROT P commits only after close_notify (RFC 4217 §12.6)', () => {
  it.each([
    ['a TCP FIN without close_notify', 'fin'],
    ['a reset', 'reset'],
  ] as const)('%s: 426, old file kept', async (_name, how) => {
    const fs = new MemoryFs({ 'pub/file.bin': OLD });
    await using server = testServer({ store: fs, tls: cert });
    const { port } = await server.listenTls(0);
    const c = await tlsControl(port);
    const raw = await dataConnect(await epsv(c));
    raw.on('error', () => {});
    expect(await cmd(c, 'STOR pub/file.bin')).toMatch(/^150 /);
    const d = await tlsData(raw);
    d.on('error', () => {});
    await new Promise<void>((resolve) => d.write(Buffer.alloc(100_000, 3), () => resolve()));
    if (how === 'fin') raw.end();
    else raw.resetAndDestroy();
    expect(await c.line()).toMatch(/^426 /);
    expect(await content(fs, '/pub/file.bin')).toEqual(OLD);
    d.destroy();
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    c.end();
  });

  it.each([0, 1, 100_000])('a close_notify then FIN after %i bytes: 226 and the new content', async (size) => {
    const fs = new MemoryFs({ 'pub/file.bin': OLD });
    await using server = testServer({ store: fs, tls: cert });
    const { port } = await server.listenTls(0);
    const c = await tlsControl(port);
    const raw = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR pub/file.bin')).toMatch(/^150 /);
    const d = await tlsData(raw);
    const closed = new Promise<boolean>((resolve) => d.once('end', () => resolve(true)));
    const body = Buffer.alloc(size, 5);
    d.end(body);
    expect(await c.line()).toBe('226 Transfer complete.');
    expect((await content(fs, '/pub/file.bin')).equals(body)).toBe(true);
    expect(await closed).toBe(true); // the server answered with its own close_notify
    d.destroy();
    c.end();
  });
});
