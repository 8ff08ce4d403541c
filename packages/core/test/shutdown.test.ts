import { connect as netConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListener, LineSession, type Channel } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

/** Says goodbye on shutdown, or (stubborn) ignores it. */
class Polite extends LineSession {
  static shutdowns = 0;
  readonly #stubborn: boolean;
  constructor(channel: Channel, stubborn = false) {
    super(channel);
    this.#stubborn = stubborn;
    this.push('200 ready\r\n');
  }
  protected override onLine(line: string): void {
    this.push(`250 ${line}\r\n`);
  }
  protected override handleShutdown(): void {
    Polite.shutdowns++;
    if (this.#stubborn) return;
    this.push('421 server shutting down\r\n');
    this.closeWhenDone();
  }
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
  });
}

describe('graceful shutdown', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Polite.shutdowns = 0;
  });
  afterEach(async () => {
    await guard.check();
  });

  it('stops accepting, lets every session say goodbye, and resolves once all are closed', async () => {
    const listener = createListener({ name: 'bye' }, (ch) => new Polite(ch));
    const { port } = await listener.listen(0);
    const clients = [dial(port), dial(port), dial(port)];
    for (const c of clients) expect(await c.line()).toBe('200 ready');
    const closing = listener.close({ timeoutMs: 10_000 });
    expect(await refused(port)).toBe('ECONNREFUSED');
    for (const c of clients) {
      expect(await c.line()).toBe('421 server shutting down');
      await c.closed();
    }
    await closing;
    expect(Polite.shutdowns).toBe(3);
    expect(listener.connections).toBe(0);
    expect(listener.counters.active).toBe(0);
  });

  it('force-closes sessions that ignore the request after timeoutMs', async () => {
    let n = 0;
    const listener = createListener({ name: 'bye' }, (ch) => new Polite(ch, n++ === 0));
    const { port } = await listener.listen(0);
    const stubborn = dial(port);
    const polite = dial(port);
    expect(await stubborn.line()).toBe('200 ready');
    expect(await polite.line()).toBe('200 ready');
    let done = false;
    const closing = listener.close({ timeoutMs: 1500 }).then(() => (done = true));
    expect(await polite.line()).toBe('421 server shutting down');
    await polite.closed();
    // The stubborn one is still served until the deadline.
    stubborn.sendLine('still here');
    expect(await stubborn.line()).toBe('250 still here');
    expect(done).toBe(false);
    await closing;
    await stubborn.closed();
    expect(Polite.shutdowns).toBe(2);
    expect(listener.connections).toBe(0);
  });

  it('close() is idempotent and `await using` waits for a close already under way', async () => {
    let first: Promise<void>;
    let second: Promise<void>;
    {
      await using listener = createListener({ name: 'bye' }, (ch) => new Polite(ch, true));
      const { port } = await listener.listen(0);
      const client = dial(port);
      expect(await client.line()).toBe('200 ready');
      first = listener.close({ timeoutMs: 200 });
      second = listener.close();
      expect(second).toBe(first);
    }
    // Leaving the block awaited the same close: it is finished now.
    let settled = false;
    void first.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(true);
    await second;
  });

  it('a listener closed before it ever listened closes cleanly', async () => {
    const listener = createListener({ name: 'never' }, (ch) => new Polite(ch));
    await listener.close();
    expect(listener.address()).toBeNull();
  });

  it('the connection count follows sessions closing on their own', async () => {
    await using listener = createListener({ name: 'count' }, (ch) => new Polite(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('200 ready');
    expect(listener.connections).toBe(1);
    client.end();
    await client.closed();
    await waitFor(() => listener.connections === 0, 'the count to drop');
  });
});
