import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { MemoryClient } from '@gorgon/core/testing';

/** A client over a real loopback socket: the MemoryClient reader plus the raw socket. */
export interface SocketClient extends MemoryClient {
  readonly socket: Socket;
}

/** Connects to `port` (or a Unix socket path) and wraps the socket in a line/byte reader. */
export function dial(port: number | string, host = '127.0.0.1'): SocketClient {
  const socket = typeof port === 'string' ? netConnect(port) : netConnect(port, host);
  socket.setNoDelay(true);
  const client = new MemoryClient(socket) as SocketClient;
  Object.defineProperty(client, 'socket', { value: socket });
  return client;
}

/** Resolves once `socket` is fully closed (destroys it first if `destroy`). */
export function socketClosed(socket: Socket, destroy = false): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    if (destroy) socket.destroy();
  });
}

/**
 * Polls `condition` until it holds; throws with `what` after `timeoutMs`. A synchronisation
 * point (wait until the server has seen N bytes), never a timing assertion.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A promise and the functions that settle it. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Splits `data` at the given offsets (sorted, deduplicated, within bounds). */
export function splitAt(data: Buffer, offsets: readonly number[]): Buffer[] {
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < data.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const cut of cuts) {
    out.push(data.subarray(prev, cut));
    prev = cut;
  }
  out.push(data.subarray(prev));
  return out;
}

/** Upgrades the client end of a plaintext connection (STARTTLS), trusting `ca` for localhost. */
export async function upgradeClient(stream: Duplex, ca: string): Promise<tls.TLSSocket> {
  const socket = tls.connect({ socket: stream, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}
