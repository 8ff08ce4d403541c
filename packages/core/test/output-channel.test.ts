import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OutputChannel, type Producer } from '@gorgon/core';

/** A connected pair of TCP sockets on the loopback: [server side, client side]. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  const ours = await accepted;
  server.close();
  return [ours, client];
}

const open: net.Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
});

/**
 * Fills ONE buffer again and again, and only once the FIFO released it: correct output proves
 * the release comes after the stream is done with the bytes.
 */
class OneBufferProducer implements Producer {
  readonly buffer = Buffer.allocUnsafe(256 * 1024);
  readonly hash = createHash('sha256');
  releases = 0;
  #left: number;
  #n = 0;
  #free = true;
  #waiter: (() => void) | undefined;
  constructor(total: number) {
    this.#left = total;
  }
  async more(): Promise<Buffer | null> {
    if (this.#left === 0) return null;
    if (!this.#free) await new Promise<void>((resolve) => (this.#waiter = resolve));
    const size = Math.min(this.buffer.length, this.#left);
    this.buffer.fill(this.#n++ & 0xff, 0, size);
    this.#left -= size;
    this.hash.update(this.buffer.subarray(0, size));
    this.#free = false;
    return this.buffer.subarray(0, size);
  }
  released(chunk: Buffer | string): void {
    expect(chunk.length).toBeGreaterThan(0);
    this.releases++;
    this.#free = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}

describe('OutputChannel (an output-only connection through the core FIFO)', () => {
  it('tells a producer when each chunk was written, so one buffer can be reused safely', async () => {
    const [ours, theirs] = await socketPair();
    open.push(ours, theirs);
    theirs.pause(); // a slow reader: the FIFO must wait for drain
    const producer = new OneBufferProducer(8 * 1024 * 1024 + 123);
    const out = new OutputChannel(ours);
    out.push(producer);
    const received = createHash('sha256');
    let bytes = 0;
    const reading = new Promise<void>((resolve) => {
      theirs.on('data', (chunk: Buffer) => {
        received.update(chunk);
        bytes += chunk.length;
      });
      theirs.once('end', () => resolve());
    });
    setTimeout(() => theirs.resume(), 50);
    await out.written();
    ours.end();
    await reading;
    expect(bytes).toBe(8 * 1024 * 1024 + 123);
    expect(received.digest('hex')).toBe(producer.hash.digest('hex'));
    expect(producer.releases).toBe(33);
  });

  it('does not read the connection: a peer that sends and half-closes does not end our side', async () => {
    const [ours, theirs] = await socketPair();
    open.push(ours, theirs);
    const out = new OutputChannel(ours);
    theirs.end('unexpected input');
    await new Promise((resolve) => setTimeout(resolve, 50));
    out.push(Buffer.alloc(100_000, 0x61));
    const got: Buffer[] = [];
    const ended = new Promise<void>((resolve) => theirs.once('end', () => resolve()));
    theirs.on('data', (chunk: Buffer) => got.push(chunk));
    await out.written();
    ours.end();
    await ended;
    expect(Buffer.concat(got).length).toBe(100_000);
    expect(out.channel.bytesIn).toBe(0);
  });

  it('reports a failed producer to its owner before the connection is closed, and written() rejects with it', async () => {
    const [ours, theirs] = await socketPair();
    open.push(ours, theirs);
    theirs.resume();
    const failure = new Error('read failed');
    let destroyedWhenTold: boolean | undefined;
    const out = new OutputChannel(ours, { onProducerError: () => (destroyedWhenTold = ours.destroyed) });
    let calls = 0;
    out.push({
      more: () => {
        if (calls++ === 0) return Buffer.from('first');
        throw failure;
      },
    });
    await expect(out.written()).rejects.toBe(failure);
    expect(destroyedWhenTold).toBe(false);
    expect(ours.destroyed).toBe(true);
  });

  it('written() rejects when the connection closes under the output', async () => {
    const [ours, theirs] = await socketPair();
    open.push(ours, theirs);
    const out = new OutputChannel(ours);
    out.push({ more: () => new Promise((resolve) => setTimeout(() => resolve(Buffer.alloc(1024)), 20)) });
    setTimeout(() => theirs.resetAndDestroy(), 5);
    await expect(out.written()).rejects.toMatchObject({ code: 'closed' });
  });
});
