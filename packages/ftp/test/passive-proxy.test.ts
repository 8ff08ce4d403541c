/**
 * Passive data connections behind a proxy (HAProxy forwarding each server's passive range, as
 * docs/scale-out.md sets up): a connection from a trusted proxy address must start with a PROXY
 * header, and the client address in it must be the control connection's, as it must be for a
 * direct connection (RFC 2577 §4). Bytes right behind the header are the transfer's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProxyV2, memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { createFtpServer } from '@gorgon/ftp';
import { demoAuth } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll, sendAll } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
const dirs: string[] = [];
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const CLIENT = '203.0.113.9';
/** A PROXY v2 LOCAL header (a proxy's own connection, no client address). */
const LOCAL = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]);

async function setUp(timeoutMs = 5000, pems?: { cert: string; key: string }) {
  const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-pasv-proxy-'));
  dirs.push(root);
  const content = randomBytes(300_000);
  await writeFile(join(root, 'pub.bin'), content);
  const logs: MemoryLogRecord[] = [];
  // 127.0.0.1 stands for HAProxy: the test's sockets come from it, each with a PROXY header.
  const server = createFtpServer({
    root,
    auth: demoAuth(),
    logger: memoryLogger(logs),
    throttle: { baseDelayMs: 1, maxDelayMs: 2 },
    proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs },
    ...(pems ? { tls: pems } : {}),
  });
  const { port } = await server.listen(0);
  const c = await controlClient(port);
  c.socket.write(formatProxyV2(CLIENT, 40_000, '127.0.0.1', port));
  // With TLS the test logs in itself, after AUTH TLS.
  if (pems) await c.line();
  else await login(c);
  return { root, content, logs, server, c };
}

/**
 * A TLS client over `raw` whose first write (the ClientHello) goes out in one segment with
 * `header`, as a proxy forwarding a fast client may send them.
 */
function tlsBehindHeader(raw: net.Socket, header: Buffer, ca: string): tls.TLSSocket {
  let first = true;
  const transport = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      raw.write(first ? Buffer.concat([header, chunk]) : chunk, callback);
      first = false;
    },
    read() {
      raw.resume();
    },
    final(callback) {
      raw.end(callback);
    },
    destroy(err, callback) {
      raw.destroy();
      callback(err);
    },
  });
  raw.on('data', (d: Buffer) => {
    if (!transport.push(d)) raw.pause();
  });
  raw.once('end', () => transport.push(null));
  return tls.connect({ socket: transport, ca, servername: 'localhost' });
}

const closed = (s: net.Socket) => new Promise((resolve) => (s.destroyed ? resolve(undefined) : s.once('close', resolve)));

describe('passive data connections forwarded by a trusted proxy', () => {
  it('are taken when the PROXY header names the control connection’s client: RETR, and STOR with data right behind the header', async () => {
    const { root, content, server, c, logs } = await setUp();
    await using _server = server;
    const port = await epsv(c);
    const down = await dataConnect(port);
    down.write(formatProxyV2(CLIENT, 40_001, '127.0.0.1', port));
    expect(await cmd(c, 'RETR pub.bin')).toMatch(/^150 /);
    expect((await readAll(down)).equals(content)).toBe(true);
    expect(await c.line()).toMatch(/^226 /);

    const upPort = await epsv(c);
    const up = await dataConnect(upPort);
    // Header and the first bytes in one segment, before the STOR: they wait for the transfer.
    up.write(Buffer.concat([formatProxyV2(CLIENT, 40_002, '127.0.0.1', upPort), content.subarray(0, 1000)]));
    expect(await cmd(c, 'STOR up.bin')).toMatch(/^150 /);
    await sendAll(up, content.subarray(1000));
    expect(await c.line()).toMatch(/^226 /);
    expect((await readFile(join(root, 'up.bin'))).equals(content)).toBe(true);
    // No refusal or warning about the data connections (the debug line naming each passive port is expected).
    expect(logs.filter((l) => /pasv/.test(String(l['event'])) && l['event'] !== 'pasv-listen')).toEqual([]);
    c.end();
    await c.closed();
  });

  it('are refused with a header naming another client, a LOCAL header, or no header in time; the client’s own still gets through', async () => {
    const { content, server, c, logs } = await setUp(300);
    await using _server = server;
    const port = await epsv(c);

    const thief = await dataConnect(port);
    thief.write(formatProxyV2('198.51.100.7', 40_003, '127.0.0.1', port));
    await closed(thief);
    expect(logs.find((l) => l['event'] === 'pasv-foreign')).toMatchObject({ peer: '198.51.100.7' });

    const local = await dataConnect(port);
    local.write(LOCAL);
    await closed(local);
    const silent = await dataConnect(port); // the proxy not set to send-proxy-v2 on the passive ports
    await closed(silent);
    const refusals = logs.filter((l) => l['event'] === 'pasv-proxy-refused');
    expect(refusals).toHaveLength(2);
    expect(String(refusals[1]!['msg'])).toMatch(/no PROXY header in time/);

    const own = await dataConnect(port);
    own.write(formatProxyV2(CLIENT, 40_004, '127.0.0.1', port));
    expect(await cmd(c, 'RETR pub.bin')).toMatch(/^150 /);
    expect((await readAll(own)).equals(content)).toBe(true);
    expect(await c.line()).toMatch(/^226 /);
    c.end();
    await c.closed();
  });

  it('one waiting for its header is closed with the session, not left until the header timeout', async () => {
    const { server, c } = await setUp(30_000);
    await using _server = server;
    const raw = await dataConnect(await epsv(c));
    expect(await cmd(c, 'NOOP')).toMatch(/^200 /); // the data connection is accepted meanwhile
    expect(await cmd(c, 'QUIT')).toMatch(/^221 /);
    await c.closed();
    // The leak guard (afterEach) fails the test if this socket outlives the session.
    await closed(raw);
  });

  it('under PROT P: the TLS handshake right behind the header (one segment) is not lost', async () => {
    const pems = await createDemoCertificate('localhost');
    const { content, server, c } = await setUp(5000, pems);
    await using _server = server;
    expect(await cmd(c, 'AUTH TLS')).toMatch(/^234 /);
    for (const event of ['data', 'end', 'close']) c.socket.removeAllListeners(event);
    const secure = tls.connect({ socket: c.socket, ca: pems.cert, servername: 'localhost' });
    await new Promise<void>((resolve) => secure.once('secureConnect', () => resolve()));
    const t = new MemoryClient(secure);
    expect(await cmd(t, 'PBSZ 0')).toMatch(/^200 /);
    expect(await cmd(t, 'PROT P')).toMatch(/^200 /);
    expect(await cmd(t, 'USER alice')).toMatch(/^331 /);
    expect(await cmd(t, 'PASS wonderland')).toMatch(/^230 /);
    expect(await cmd(t, 'TYPE I')).toMatch(/^200 /);
    const port = await epsv(t);
    const raw = await dataConnect(port);
    const data = tlsBehindHeader(raw, formatProxyV2(CLIENT, 40_005, '127.0.0.1', port), pems.cert);
    const parts: Buffer[] = [];
    data.on('data', (d: Buffer) => parts.push(d));
    const ended = new Promise((resolve) => data.once('end', resolve));
    expect(await cmd(t, 'RETR pub.bin')).toMatch(/^150 /);
    await ended;
    expect(Buffer.concat(parts).equals(content)).toBe(true);
    expect(await t.line()).toMatch(/^226 /);
    data.destroy();
    secure.destroy();
  });
});
