import * as net from 'node:net';
import { MemoryClient } from '@gorgon/core/testing';

/** A raw FTP control connection over a real socket, for data-channel tests. */
export async function controlClient(port: number, host = '127.0.0.1'): Promise<MemoryClient & { socket: net.Socket }> {
  const socket = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const client = new MemoryClient(socket) as MemoryClient & { socket: net.Socket };
  client.socket = socket;
  return client;
}

/** Sends a command and returns the next reply line. */
export async function cmd(c: MemoryClient, line: string, timeoutMs = 5000): Promise<string> {
  c.sendLine(line);
  return c.line(timeoutMs);
}

/** Logs in as alice with TYPE I. */
export async function login(c: MemoryClient, user = 'alice', pass = 'wonderland'): Promise<void> {
  await c.line();
  await cmd(c, `USER ${user}`);
  const r = await cmd(c, `PASS ${pass}`);
  if (!r.startsWith('230')) throw new Error(`login failed: ${r}`);
  await cmd(c, 'TYPE I');
}

/** EPSV and the port it names. */
export async function epsv(c: MemoryClient): Promise<number> {
  const r = await cmd(c, 'EPSV');
  const m = /\(\|\|\|(\d+)\|\)/.exec(r);
  if (!m) throw new Error(`bad EPSV reply: ${r}`);
  return Number(m[1]);
}

/** Opens a data connection to `port`. */
export function dataConnect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything a socket sends until it closes. */
export function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

/** Writes `data` and closes the sending side. */
export function sendAll(s: net.Socket, data: Buffer): Promise<void> {
  return new Promise((resolve) => s.end(data, () => resolve()));
}

/** An active-mode listener (for PORT/EPRT) that yields its first connection. */
export async function activeListener(): Promise<{ port: number; accepted: Promise<net.Socket>; close(): void }> {
  const server = net.createServer();
  let resolveAccepted!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (resolveAccepted = r));
  server.on('connection', (s) => resolveAccepted(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, accepted, close: () => server.close() };
}
