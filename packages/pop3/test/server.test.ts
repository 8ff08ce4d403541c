import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { createPop3Server, deliver, MaildirStore, MemoryMaildropStore, type Pop3ServerOptions } from '../src/internal.js';
import { play, readMultiline } from './helpers.js';

let cert: { cert: string; key: string };
let root: string;
beforeAll(async () => {
  cert = await createDemoCertificate('localhost');
  root = await mkdtemp(join(tmpdir(), 'gorgon-pop3-srv-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

const auth = (): MemoryAuthenticator => new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]);

function server(options: Partial<Pop3ServerOptions> = {}) {
  const maildrops = new MemoryMaildropStore();
  maildrops.deliver('alice', 'Subject: hi\r\n\r\n.leading dot\r\nbye\r\n');
  const srv = createPop3Server({ store: maildrops, auth: auth(), throttle: { baseDelayMs: 0 }, tls: cert, ...options });
  return { srv, maildrops };
}

function dial(port: number): MemoryClient & { socket: Socket } {
  const socket = netConnect(port, '127.0.0.1');
  const client = new MemoryClient(socket) as MemoryClient & { socket: Socket };
  Object.defineProperty(client, 'socket', { value: socket });
  return client;
}

function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('createPop3Server over loopback sockets', () => {
  it('serves a session and exposes address, connections and counters', async () => {
    await using s = server().srv;
    const { port } = await s.listen(0);
    expect(s.address()?.port).toBe(port);
    const client = dial(port);
    await play(client, `
      S: /^\\+OK Gorgon POP3 server ready$/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK maildrop has 1 messages/
      C: RETR 1
      S: /^\\+OK \\d+ octets$/
      S: Subject: hi
      S:
      S: ..leading dot
      S: bye
      S: .
    `);
    expect(s.connections).toBe(1);
    client.sendLine('QUIT');
    expect(await client.line()).toMatch(/signing off/);
    await closed(client.socket);
    expect(s.counters).toMatchObject({ logins: 1, messagesRetrieved: 1, connections: 1 });
  });

  it('STLS upgrades, drops plaintext pipelined after it, and CAPA changes (RFC 2595 §4)', async () => {
    await using s = server({ requireTlsForPlaintext: true }).srv;
    const { port } = await s.listen(0);
    const client = dial(port);
    await client.line();
    client.sendLine('CAPA');
    expect(await client.line()).toBe('+OK Capability list follows');
    expect(await readMultiline(client)).toContain('STLS');
    // An injected command after STLS must never be answered (CVE-2011-0411 pattern).
    client.send('STLS\r\nCAPA\r\n');
    expect(await client.line()).toBe('+OK Begin TLS negotiation');
    const secure = tls.connect({ socket: client.socket, ca: cert.cert, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const over = new MemoryClient(secure);
    over.sendLine('CAPA');
    expect(await over.line()).toBe('+OK Capability list follows');
    const caps = await readMultiline(over);
    expect(caps).toContain('USER');
    expect(caps).not.toContain('STLS');
    // A remote client would be refused over cleartext; over TLS the login works.
    over.sendLine('STLS');
    expect(await over.line()).toBe('-ERR command not permitted when TLS active');
    await play(over, `
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK maildrop/
      C: QUIT
      S: /signing off/
    `);
    secure.destroy();
  });

  it('serves implicit TLS on a second port', async () => {
    await using s = server().srv;
    const { port } = await s.listenTls(0);
    expect(s.tlsAddress()?.port).toBe(port);
    const socket = tls.connect({ port, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' });
    const client = new MemoryClient(socket);
    expect(await client.line()).toBe('+OK Gorgon POP3 server ready');
    client.sendLine('CAPA');
    await client.line();
    expect(await readMultiline(client)).not.toContain('STLS');
    client.sendLine('QUIT');
    expect(await client.line()).toMatch(/signing off/);
    socket.destroy();
  });

  it('refuses connections over maxConnections with -ERR [SYS/TEMP]', async () => {
    await using s = server({ limits: { maxConnections: 1 } }).srv;
    const { port } = await s.listen(0);
    const first = dial(port);
    await first.line();
    const second = dial(port);
    expect(await second.line()).toBe('-ERR [SYS/TEMP] too many connections; try again later');
    first.socket.destroy();
    second.socket.destroy();
  });

  it('says goodbye to every session on close()', async () => {
    const { srv } = server();
    const { port } = await srv.listen(0);
    const client = dial(port);
    await client.line();
    const closing = srv.close();
    expect(await client.line()).toBe('-ERR [SYS/TEMP] server shutting down');
    await closing;
    await closed(client.socket);
    await srv.close(); // idempotent
  });
});

/** A POP3 client in a child process: logs in, LIST 1, RETR 1, QUIT; prints sizes and the tail. */
const RETR_CLIENT = `
const net = require('node:net');
const socket = net.connect(Number(process.argv[1]), '127.0.0.1');
socket.write('USER big\\r\\nPASS pw\\r\\nLIST 1\\r\\nRETR 1\\r\\nQUIT\\r\\n');
let head = '', listed = -1, body = 0, inBody = false, tail = Buffer.alloc(0);
socket.on('data', (chunk) => {
  if (!inBody) {
    head += chunk.toString('latin1');
    const m = /\\+OK 1 (\\d+)\\r\\n\\+OK \\d+ octets\\r\\n/.exec(head);
    if (!m) return;
    listed = Number(m[1]);
    inBody = true;
    chunk = Buffer.from(head.slice(m.index + m[0].length), 'latin1');
  }
  body += chunk.length;
  tail = Buffer.concat([tail, chunk]).subarray(-64);
});
socket.on('end', () => process.stdout.write(JSON.stringify({ listed, body, tail: tail.toString('latin1') })));
`;

describe('big messages, slow and vanishing clients (Maildir on disk)', () => {
  const MiB = 1024 * 1024;
  const line = `${'.'.repeat(1)}${'x'.repeat(98)}\n`; // 100 bytes, a leading dot, bare LF
  async function* big(total: number): AsyncGenerator<Buffer> {
    const block = Buffer.from(line.repeat(MiB / 100 / 4)); // ~256 KiB
    for (let sent = 0; sent < total; sent += block.length) yield block;
  }

  it('streams a 100 MiB message from disk: sizes match the bytes sent, memory stays bounded', async () => {
    const total = 100 * MiB;
    const d = await deliver(root, 'big', big(total));
    const maildrops = new MaildirStore(root);
    await using s = createPop3Server({ store: maildrops, auth: new MemoryAuthenticator([{ name: 'big', password: 'pw' }]) });
    const { port } = await s.listen(0);
    // The client is another process, so this process's memory is the server's alone.
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const received = await new Promise<{ listed: number; body: number; tail: string }>((resolve, reject) => {
      execFile(process.execPath, ['-e', RETR_CLIENT, String(port)], { timeout: 60_000 }, (err, stdout) =>
        err ? reject(err) : resolve(JSON.parse(stdout) as { listed: number; body: number; tail: string }),
      );
    });
    clearInterval(sampler);
    const lines = d.rawSize / 100;
    // Sent: every line CRLF-terminated and dot-stuffed, then ".\r\n" and the QUIT reply.
    const quit = '+OK Gorgon POP3 server signing off (1 message left)\r\n';
    expect(received.listed).toBe(d.wireSize);
    expect(received.body).toBe(d.wireSize + lines + 3 + quit.length);
    expect(received.tail.endsWith(`x\r\n.\r\n${quit}`)).toBe(true);
    expect(peak - before).toBeLessThan(64 * MiB);
  });

  it('a client that never reads holds the server to bounded memory; its message survives', async () => {
    await deliver(root, 'slow', big(20 * MiB));
    await using s = createPop3Server({ store: new MaildirStore(root), auth: new MemoryAuthenticator([{ name: 'slow', password: 'pw' }]) });
    const { port } = await s.listen(0);
    const socket = netConnect(port, '127.0.0.1');
    socket.pause();
    socket.write('USER slow\r\nPASS pw\r\n' + 'RETR 1\r\n'.repeat(50));
    // Wait until the server has stopped writing (the socket buffers are full), bounded.
    let last = -1;
    for (let i = 0; i < 100 && s.counters.bytesOut !== last; i++) {
      last = s.counters.bytesOut;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // 50 RETRs of 20 MiB would be 1 GiB; the server holds to socket buffers plus a chunk.
    expect(s.counters.bytesOut).toBeGreaterThan(MiB);
    expect(s.counters.bytesOut).toBeLessThan(64 * MiB);
    // Another client is still served promptly.
    const other = dial(s.address()!.port);
    expect(await other.line()).toBe('+OK Gorgon POP3 server ready');
    other.socket.destroy();
    socket.destroy();
    await closed(socket);
    const again = await new MaildirStore(root).open('slow');
    expect(again.messages).toHaveLength(1);
    await again.release();
  });

  it('a reader that stalls past the autologout timer is closed and its maildrop released', async () => {
    await deliver(root, 'stall', big(16 * MiB));
    const maildrops = new MaildirStore(root);
    await using s = createPop3Server({
      store: maildrops,
      auth: new MemoryAuthenticator([{ name: 'stall', password: 'pw' }]),
      limits: { idleTimeoutMs: 300, closeTimeoutMs: 300 },
    });
    const { port } = await s.listen(0);
    const socket = netConnect(port, '127.0.0.1');
    socket.pause();
    socket.write('USER stall\r\nPASS pw\r\nRETR 1\r\n');
    // A paused socket never reports the close; the server side is what is checked here.
    for (let i = 0; i < 100 && s.counters.timeouts === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 100 && s.connections > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(s.connections).toBe(0);
    socket.destroy();
    await closed(socket);
    const again = await maildrops.open('stall');
    expect(again.messages).toHaveLength(1);
    await again.release();
    expect(s.counters.timeouts).toBe(1);
  });

  it('a client dropping mid-RETR leaves every message and the lock released', async () => {
    await deliver(root, 'drop', big(8 * MiB));
    await deliver(root, 'drop', 'Subject: small\r\n\r\nx\r\n');
    await using s = createPop3Server({ store: new MaildirStore(root), auth: new MemoryAuthenticator([{ name: 'drop', password: 'pw' }]) });
    const { port } = await s.listen(0);
    const client = dial(port);
    await client.line();
    client.send('USER drop\r\nPASS pw\r\nDELE 2\r\nRETR 1\r\n');
    await client.lines(4);
    await client.bytes(1000);
    client.socket.destroy();
    await closed(client.socket);
    for (let i = 0; i < 200 && s.connections > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const again = await new MaildirStore(root).open('drop');
    expect(again.messages).toHaveLength(2);
    await again.release();
    expect(await readdir(join(root, 'drop', 'cur'))).toHaveLength(2);
  });
});
