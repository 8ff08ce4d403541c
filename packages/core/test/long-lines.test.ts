import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Socket } from 'node:net';
import {
  createListener,
  DEFAULT_MAX_DISCARD_BYTES,
  Framer,
  LineSession,
  memoryLogger,
  type Channel,
  type MemoryLogRecord,
} from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial } from './helpers.js';

const MAX_LINE = 1024;
const HIGH_WATER = 16 * 1024;
const LINE_BYTES = 10 * 1024 * 1024;

/** Echoes lines, says "too long" for an over-long one; `slow` makes the handler async. */
class Guarded extends LineSession {
  static tooLong = 0;
  static lines: string[] = [];
  readonly #slow: boolean;
  constructor(channel: Channel, slow: boolean, maxDiscardBytes = 0) {
    // maxDiscardBytes 0: discard up to the line end however far (the default cuts off at 1 MiB).
    super(channel, { maxLineLength: MAX_LINE, inputHighWater: HIGH_WATER, inputLowWater: HIGH_WATER / 4, maxDiscardBytes });
    this.#slow = slow;
  }
  protected override async onLine(line: string): Promise<void> {
    Guarded.lines.push(line.length > 40 ? `${line.slice(0, 40)}…(${line.length})` : line);
    if (this.#slow) await new Promise((resolve) => setImmediate(resolve));
    this.push(`ok ${line.length}\r\n`);
  }
  protected override onLineTooLong(): void {
    Guarded.tooLong++;
    this.push('500 line too long\r\n');
  }
}

/** Writes `total` bytes of 'x' from one reused 64 KiB buffer, honouring backpressure. */
async function sendFiller(socket: Socket, total: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  for (let sent = 0; sent < total; sent += chunk.length) {
    const part = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
    if (!socket.write(part)) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

describe('a 10 MiB line without a terminator', () => {
  let guard: ReturnType<typeof leakGuard>;
  let peakQueued = 0;
  beforeEach(() => {
    guard = leakGuard();
    Guarded.tooLong = 0;
    Guarded.lines = [];
    peakQueued = 0;
    const push = Framer.prototype.push;
    vi.spyOn(Framer.prototype, 'push').mockImplementation(function (this: Framer, chunk: Buffer) {
      push.call(this, chunk);
      peakQueued = Math.max(peakQueued, this.queued);
    });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await guard.check();
  });

  it.each([false, true])(
    'is refused once, its tail never runs, the session goes on, memory stays bounded (async handler: %s)',
    async (slow) => {
      await using listener = createListener({ name: 'long' }, (ch) => new Guarded(ch, slow));
      const { port } = await listener.listen(0);
      const client = dial(port);
      client.send('before\r\n');
      expect(await client.line()).toBe('ok 6');
      // The tail of the long line looks like a command: it must never be executed.
      await sendFiller(client.socket, LINE_BYTES);
      client.send('QUIT\r\nafter\r\n');
      expect(await client.lines(2, 10_000)).toEqual(['500 line too long', 'ok 5']);
      expect(Guarded.tooLong).toBe(1);
      expect(Guarded.lines).toEqual(['before', 'after']);
      // Never more than the high-water mark plus one read (64 KiB) queued in the framer.
      expect(peakQueued).toBeGreaterThan(0);
      expect(peakQueued).toBeLessThanOrEqual(HIGH_WATER + 64 * 1024);
      client.end();
      await client.closed();
    },
  );

  it('is refused once over the memory pair, with the limit exact at maxLineLength', async () => {
    const { channel, client } = memoryChannelPair();
    new Guarded(channel, false);
    const atLimit = 'y'.repeat(MAX_LINE);
    client.send(`${atLimit}\r\n${atLimit}\n${atLimit}y\r\n`);
    expect(await client.lines(3)).toEqual([`ok ${MAX_LINE}`, `ok ${MAX_LINE}`, '500 line too long']);
    const big = Buffer.alloc(LINE_BYTES, 0x78);
    for (let i = 0; i < big.length; i += 100_000) client.send(big.subarray(i, i + 100_000));
    client.send('\r\nafter\r\n');
    expect(await client.lines(2, 10_000)).toEqual(['500 line too long', 'ok 5']);
    expect(Guarded.tooLong).toBe(2);
    expect(peakQueued).toBeLessThanOrEqual(HIGH_WATER + 100_000);
    client.end();
    await channel.closed;
  });

  it('past maxDiscardBytes it is a flood: refused, its tail never runs, the connection dropped', async () => {
    const records: MemoryLogRecord[] = [];
    await using listener = createListener({ name: 'flood', logger: memoryLogger(records) }, (ch) => new Guarded(ch, false, 256 * 1024));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.socket.on('error', () => {}); // the drop is a reset: our writes may fail
    client.send('before\r\n');
    expect(await client.line()).toBe('ok 6');
    const socket = client.socket;
    const gone = new Promise((resolve) => socket.once('close', resolve));
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    for (let sent = 0; sent < LINE_BYTES && !socket.destroyed; sent += chunk.length) {
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), gone]);
    }
    await gone;
    expect(Guarded.tooLong).toBe(1);
    expect(Guarded.lines).toEqual(['before']);
    const flood = records.find((r) => r.event === 'input-flood');
    expect(flood?.level).toBe('warn');
    expect(flood?.discarded).toBeGreaterThan(256 * 1024);
    expect(flood?.discarded).toBeLessThan(256 * 1024 + 64 * 1024 + MAX_LINE + 2);
  });

  it('defaults to a 1 MiB cutoff', async () => {
    const { channel } = memoryChannelPair();
    const session = new (class extends LineSession {
      protected override onLine(): void {}
    })(channel);
    expect(session.maxDiscardBytes).toBe(DEFAULT_MAX_DISCARD_BYTES);
    expect(DEFAULT_MAX_DISCARD_BYTES).toBe(1024 * 1024);
    channel.close({ flush: false });
    await channel.closed;
  });
});
