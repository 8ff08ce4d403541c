import * as net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatProxyV1 } from '@gorgon/core';
import { leakGuard, memoryLogger, MemoryClient } from '@gorgon/core/testing';
import { createFingerServer, finger, FingerError, parseFingerTarget, type FingerServer } from '@gorgon/finger';
import { aliceEntry, directory } from './fixtures.js';

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

async function start(server: FingerServer, host = '127.0.0.1'): Promise<number> {
  return (await server.listen(0, host)).port;
}

/** A raw TCP client: what a stock client sees on the wire. */
async function rawConnect(port: number, host = '127.0.0.1'): Promise<MemoryClient> {
  const socket = net.connect(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return new MemoryClient(socket);
}

describe('createFingerServer + finger() over loopback', () => {
  it('answers {U} with the entry, CRLF turned into \\n by the client', async () => {
    await using server = createFingerServer({ store: directory() });
    const port = await start(server);
    const reply = await finger('alice', { host: '127.0.0.1', port });
    expect(reply).toBe(`${aliceEntry.join('\n')}\n`);
  });

  it('answers {C} and /W {C}', async () => {
    await using server = createFingerServer({ store: directory() });
    const port = await start(server);
    const list = await finger('', { host: '127.0.0.1', port });
    expect(list.split('\n')[0]).toMatch(/^Login\s+Name/);
    expect(list).toMatch(/^carol\s+Carol Liddell/m);
    const verbose = await finger('', { host: '127.0.0.1', port, verbose: true });
    expect(verbose).toContain('Home Phone: 555-0100');
    expect(verbose).toContain('Follow the white rabbit.');
  });

  it('puts CRLF and printable ASCII only on the wire, then closes', async () => {
    await using server = createFingerServer({ store: directory() });
    const client = await rawConnect(await start(server));
    client.send('mallory\r\n');
    const raw = await client.readToEnd();
    expect(raw.toString('latin1')).toMatch(/^Login: mallory/);
    const text = raw.toString('latin1');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).toMatch(/^[\x20-\x7e]*$/);
  });

  it('works over IPv6 loopback with a parsed target', async () => {
    await using server = createFingerServer({ store: directory() });
    const port = await start(server, '::1');
    const target = parseFingerTarget(`bob@[::1]:${port}`);
    const reply = await finger(target.user, { host: target.host, ...(target.port ? { port: target.port } : {}) });
    expect(reply).toContain('Name: Bob Dodgson');
  });

  it('counts connections, queries and bytes', async () => {
    await using server = createFingerServer({ store: directory() });
    const port = await start(server);
    await finger('alice', { host: '127.0.0.1', port });
    await finger('bob', { host: '127.0.0.1', port });
    expect(server.counters.connections).toBe(2);
    expect(server.counters.commands).toBe(2);
    expect(server.counters.bytesOut).toBeGreaterThan(200);
    await vi.waitFor(() => expect(server.connections).toBe(0));
  });

  it('logs each query with the connection id', async () => {
    const logger = memoryLogger();
    await using server = createFingerServer({ store: directory(), logger });
    const port = await start(server);
    await finger('', { host: '127.0.0.1', port, verbose: true });
    await finger('zed', { host: '127.0.0.1', port });
    const queries = logger.records.filter((r) => r['event'] === 'query');
    expect(queries.map((r) => r['conn'])).toEqual(['finger-1', 'finger-2']);
    expect(queries[0]).toMatchObject({ kind: 'list', query: '/W' });
    expect(queries[1]).toMatchObject({ listener: 'finger', remote: '127.0.0.1', kind: 'user', query: 'zed' });
  });
});

describe('limits over real sockets', () => {
  it('maxConnectionsPerIp: the extra connection gets one line and is closed', async () => {
    await using server = createFingerServer({ store: directory(), limits: { maxConnectionsPerIp: 1 } });
    const port = await start(server);
    const first = await rawConnect(port);
    await vi.waitFor(() => expect(server.connections).toBe(1));
    const second = await rawConnect(port);
    expect((await second.readToEnd()).toString()).toBe('Too many finger connections; try again later.\r\n');
    expect(server.counters.rejected).toBe(1);
    first.sendLine('alice');
    expect((await first.readToEnd()).toString()).toContain('Login: alice');
  });

  it('maxConnections: the same refusal', async () => {
    await using server = createFingerServer({ store: directory(), limits: { maxConnections: 1 } });
    const port = await start(server);
    const first = await rawConnect(port);
    await vi.waitFor(() => expect(server.connections).toBe(1));
    const second = await rawConnect(port);
    expect((await second.readToEnd()).toString()).toBe('Too many finger connections; try again later.\r\n');
    first.end();
    await first.closed();
  });

  it('idleTimeoutMs closes a client that never sends a query', async () => {
    await using server = createFingerServer({ store: directory(), limits: { idleTimeoutMs: 50 } });
    const client = await rawConnect(await start(server));
    expect((await client.readToEnd(5000)).toString()).toBe('Finger query timed out.\r\n');
    expect(server.counters.timeouts).toBe(1);
  });

  it('maxLineLength over a socket, the query split across writes', async () => {
    await using server = createFingerServer({ store: directory(), limits: { maxLineLength: 32 } });
    const client = await rawConnect(await start(server));
    client.send('a'.repeat(20));
    client.send('b'.repeat(20));
    expect((await client.readToEnd()).toString()).toBe('Finger query too long.\r\n');
  });

  it('close() says goodbye to a waiting client and stops accepting', async () => {
    const server = createFingerServer({ store: directory() });
    const port = await start(server);
    const client = await rawConnect(port);
    await vi.waitFor(() => expect(server.connections).toBe(1));
    await server.close({ timeoutMs: 2000 });
    expect((await client.readToEnd()).toString()).toBe('Finger service shutting down.\r\n');
    expect(server.address()).toBeNull();
    await expect(finger('alice', { host: '127.0.0.1', port, timeoutMs: 2000 })).rejects.toMatchObject({ code: 'connect-failed' });
  });

  it('takes the client address from a trusted PROXY header', async () => {
    const logger = memoryLogger();
    await using server = createFingerServer({ store: directory(), logger, proxyProtocol: { trusted: ['127.0.0.1'] } });
    const client = await rawConnect(await start(server));
    client.send(`${formatProxyV1('192.0.2.7', 4242, '127.0.0.1', 79)}bob\r\n`);
    expect((await client.readToEnd()).toString()).toContain('Login: bob');
    expect(logger.records.find((r) => r['event'] === 'query')).toMatchObject({ remote: '192.0.2.7' });
  });

  it('refuses bad options with one sentence', () => {
    expect(() => createFingerServer({ store: {} as never })).toThrow(/^finger server option store must be a UserDirectory/);
    expect(() => createFingerServer({ store: directory(), limits: { maxLineLength: 0 } })).toThrow(
      /limits\.maxLineLength must be a whole number/,
    );
    expect(() => createFingerServer({ store: directory(), limits: { maxConnections: -1 } })).toThrow(
      /limits\.maxConnections must be a whole number/,
    );
    expect(() => createFingerServer({ store: directory(), limits: { maxConnections: 0, maxConnectionsPerIp: 0 } })).not.toThrow();
    // The deprecated top-level names still work, and are checked the same way.
    expect(() => createFingerServer({ store: directory(), maxQueryLength: 0 })).toThrow(/limits\.maxLineLength must be a whole number/);
    expect(() => createFingerServer({ store: directory(), forwarding: { enabled: true, maxHops: 1.5 } })).toThrow(/forwarding\.maxHops/);
    expect(() => createFingerServer({ store: directory(), forwarding: { enabled: true, port: 70000 } })).toThrow(/at most 65535/);
  });
});

describe('finger() client', () => {
  /** A TCP server that hands each connection to `handle`; closed by `await using`. */
  async function rawServer(handle: (socket: net.Socket) => void): Promise<{ port: number; received: Promise<string> } & AsyncDisposable> {
    const sockets = new Set<net.Socket>();
    let gotLine!: (line: string) => void;
    const received = new Promise<string>((resolve) => (gotLine = resolve));
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (text.includes('\n')) gotLine(text);
      });
      handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      received,
      [Symbol.asyncDispose]: async () => {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it('sends {U}{C}, or /W {U}{C} when verbose', async () => {
    await using plain = await rawServer((s) => s.once('data', () => s.end('ok\r\n')));
    expect(await finger('alice', { host: '127.0.0.1', port: plain.port })).toBe('ok\n');
    expect(await plain.received).toBe('alice\r\n');
    await using verbose = await rawServer((s) => s.once('data', () => s.end('ok\r\n')));
    await finger('alice', { host: '127.0.0.1', port: verbose.port, verbose: true });
    expect(await verbose.received).toBe('/W alice\r\n');
  });

  it('keeps bare LF and lone CR as sent, turning only CRLF into LF', async () => {
    await using server = await rawServer((s) => s.once('data', () => s.end('a\r\nb\nc\rd')));
    expect(await finger('', { host: '127.0.0.1', port: server.port })).toBe('a\nb\nc\rd');
  });

  it('rejects a reply over maxBytes', async () => {
    await using server = await rawServer((s) => s.once('data', () => s.end('z'.repeat(5000))));
    const error = await finger('x', { host: '127.0.0.1', port: server.port, maxBytes: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FingerError);
    expect(error).toMatchObject({ code: 'too-large' });
  });

  it('rejects after timeoutMs when the server never closes', async () => {
    await using server = await rawServer((s) => s.once('data', () => s.write('partial\r\n')));
    const error = await finger('x', { host: '127.0.0.1', port: server.port, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'timeout' });
    expect((error as Error).message).toMatch(/within 200 ms/);
  });

  it('rejects a query with a line break before connecting', async () => {
    await expect(finger('alice\r\nbob', { host: '127.0.0.1', port: 1 })).rejects.toMatchObject({ code: 'bad-query' });
  });

  it('rejects when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    await expect(finger('x', { host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'connect-failed' });
  });
});
