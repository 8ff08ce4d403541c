import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsyncChat, createListener, type Channel, type Chunk, type Producer } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

const MiB = 1024 * 1024;
const block = Buffer.alloc(MiB, 0x5a);

/**
 * A lazily generated body: the same 1 MiB buffer `count` times. Records, at each more(), how
 * far production ran ahead and whether the channel was asking us to wait.
 */
class HugeProducer implements Producer {
  produced = 0;
  calls = 0;
  violations: string[] = [];
  maxNodeBuffered = 0;
  readonly #count: number;
  readonly #channel: Channel;
  constructor(channel: Channel, count: number) {
    this.#channel = channel;
    this.#count = count;
  }
  more(): Chunk {
    if (this.#channel.needsDrain) this.violations.push(`more() called at ${this.produced} while the stream needs drain`);
    this.maxNodeBuffered = Math.max(this.maxNodeBuffered, this.#channel.writableLength);
    if (this.calls === this.#count) return null;
    this.calls++;
    this.produced += block.length;
    return block;
  }
}

/** Sends one huge producer as soon as the connection opens, then closes when done. */
class Sender extends AsyncChat {
  static last: { producer: HugeProducer; channel: Channel } | undefined;
  constructor(channel: Channel, count: number) {
    super(channel);
    const producer = new HugeProducer(channel, count);
    Sender.last = { producer, channel };
    this.pushWithProducer(producer);
    this.closeWhenDone();
  }
  protected override collectIncomingData(): void {}
  protected override foundTerminator(): void {}
}

describe('a 1 GiB producer to a slow reader', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Sender.last = undefined;
  });
  afterEach(async () => {
    await guard.check();
  });

  it('never pulls far ahead of what the client has read (real socket)', async () => {
    await using listener = createListener({ name: 'huge' }, (ch) => new Sender(ch, 1024));
    const { port } = await listener.listen(0);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const client = dial(port);
    const socket = client.socket;
    socket.pause();
    let received = 0;
    let maxAhead = 0;
    socket.removeAllListeners('data'); // count bytes, keep none
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      const ahead = Sender.last!.producer.produced - received;
      maxAhead = Math.max(maxAhead, ahead);
    });
    const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
    await waitFor(() => Sender.last !== undefined, 'the session');
    const { producer, channel } = Sender.last!;

    // Read in bursts; between bursts the client stops reading until the server is blocked.
    for (let target = 0; target < 1024 * MiB; target += 192 * MiB) {
      await waitFor(() => channel.needsDrain, 'the server to block on the slow client');
      const aheadWhilePaused = producer.produced - received;
      // Kernel buffers at most (32 MiB receive, 4 MiB send here), never the 1 GiB.
      expect(aheadWhilePaused).toBeLessThanOrEqual(48 * MiB);
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      socket.resume();
      await waitFor(() => received >= target + 192 * MiB || producer.calls === 1024, 'a burst of reading', 20_000);
      socket.pause();
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    socket.resume();
    await ended;
    expect(received).toBe(1024 * MiB);
    expect(producer.calls).toBe(1024);
    // The FIFO's own contract: one chunk at a time, only when the stream can take it.
    expect(producer.violations).toEqual([]);
    expect(producer.maxNodeBuffered).toBeLessThanOrEqual(MiB + 64 * 1024);
    expect(maxAhead).toBeLessThanOrEqual(48 * MiB);
    expect(rssPeak - rssBefore).toBeLessThan(256 * MiB);
    await client.closed();
  }, 60_000);

  it('stays within a couple of MiB ahead over the memory pair', async () => {
    const { channel, client } = memoryChannelPair();
    client.stream.pause();
    const sender = new Sender(channel, 128);
    const producer = Sender.last!.producer;
    let received = 0;
    let maxAhead = 0;
    client.stream.removeAllListeners('data');
    client.stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      maxAhead = Math.max(maxAhead, producer.produced - received);
    });
    await waitFor(() => channel.needsDrain, 'the writer to block');
    // One chunk in the writer, one in the reader's buffer: nothing like the 128 MiB.
    expect(producer.produced).toBeLessThanOrEqual(2 * MiB);
    expect(sender.outputBacklogged).toBe(true);
    client.stream.resume();
    await channel.closed;
    expect(received).toBe(128 * MiB);
    expect(producer.violations).toEqual([]);
    expect(maxAhead).toBeLessThanOrEqual(3 * MiB);
  });
});
