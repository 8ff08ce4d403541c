import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, createListener, LineSession, SimpleProducer } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { deferred, dial, waitFor } from './helpers.js';

const HIGH = 8 * 1024;
const LOW = 2 * 1024;

/**
 * BLOCK waits on a gate; BIG answers with `bigBytes` of output; anything else is echoed.
 * Records every line dispatched, in order.
 */
class Gated extends LineSession {
  static gate = deferred();
  static dispatched: string[] = [];
  static bigBytes = 16 * 1024 * 1024;
  static session: Gated | undefined;
  constructor(channel: Channel) {
    super(channel, { inputHighWater: HIGH, inputLowWater: LOW });
    Gated.session = this;
  }
  protected override async onLine(line: string): Promise<void> {
    Gated.dispatched.push(line);
    if (line === 'BLOCK') await Gated.gate.promise;
    if (line === 'BIG') {
      this.pushWithProducer(new SimpleProducer(Buffer.alloc(Gated.bigBytes, 0x62), 256 * 1024));
      this.push('\r\nend of big\r\n');
      return;
    }
    this.push(`ok ${line}\r\n`);
  }
}

/** Records the queued input each time the channel is paused or resumed. */
function spyFlow(): { pauses: number[]; resumes: number[] } {
  const seen = { pauses: [] as number[], resumes: [] as number[] };
  const pause = Channel.prototype.pause;
  const resume = Channel.prototype.resume;
  vi.spyOn(Channel.prototype, 'pause').mockImplementation(function (this: Channel) {
    seen.pauses.push(Gated.session?.queuedInput ?? -1);
    pause.call(this);
  });
  vi.spyOn(Channel.prototype, 'resume').mockImplementation(function (this: Channel) {
    seen.resumes.push(Gated.session?.queuedInput ?? -1);
    resume.call(this);
  });
  return seen;
}

describe('input backpressure', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Gated.gate = deferred();
    Gated.dispatched = [];
    Gated.session = undefined;
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await guard.check();
  });

  it('pauses reading above inputHighWater while a handler is pending, resumes below inputLowWater', async () => {
    await using listener = createListener({ name: 'gate' }, (ch) => new Gated(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    const lines = Array.from({ length: 20_000 }, (_, i) => `L${i}`);
    const flow = spyFlow();
    client.send(`BLOCK\r\n${lines.join('\r\n')}\r\n`);
    await waitFor(() => flow.pauses.length > 0, 'reading to pause');
    const session = Gated.session!;
    expect(flow.pauses[0]).toBeGreaterThan(HIGH);
    expect(Gated.dispatched).toEqual(['BLOCK']);
    expect(session.channel.stream.isPaused()).toBe(true);
    // Paused: the session holds at most the high-water mark plus one read.
    expect(session.queuedInput).toBeLessThanOrEqual(HIGH + 64 * 1024);

    Gated.gate.resolve();
    const replies = await client.lines(lines.length + 1, 10_000);
    expect(replies).toEqual(['ok BLOCK', ...lines.map((l) => `ok ${l}`)]);
    expect(flow.resumes.length).toBeGreaterThan(0);
    for (const queued of flow.resumes) expect(queued).toBeLessThan(LOW);
    expect(flow.pauses.every((queued) => queued > HIGH)).toBe(true);
    client.end();
    await client.closed();
  });

  it('does not dispatch later commands while output is backlogged (client not reading)', async () => {
    await using listener = createListener({ name: 'gate' }, (ch) => new Gated(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.socket.pause();
    client.send('BIG\r\nNEXT\r\nLAST\r\n');
    await waitFor(() => Gated.session?.channel.needsDrain === true, 'the server to block on output');
    expect(Gated.session!.outputBacklogged).toBe(true);
    expect(Gated.dispatched).toEqual(['BIG']);
    client.socket.resume();
    const body = await client.bytes(Gated.bigBytes, 20_000);
    expect(body.every((b) => b === 0x62)).toBe(true);
    expect(await client.lines(4, 10_000)).toEqual(['', 'end of big', 'ok NEXT', 'ok LAST']);
    expect(Gated.dispatched).toEqual(['BIG', 'NEXT', 'LAST']);
    client.end();
    await client.closed();
  });

  it('stops dispatching sync commands once replies back up, then answers every one in order', async () => {
    const reply = 'r'.repeat(1024);
    class Chatty extends LineSession {
      static dispatched = 0;
      protected override onLine(line: string): void {
        Chatty.dispatched++;
        this.push(`${line} ${reply}\r\n`);
      }
    }
    await using listener = createListener({ name: 'chatty' }, (ch) => new Chatty(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.socket.pause();
    const total = 30_000; // 30 MiB of replies to a client that is not reading
    client.send(Array.from({ length: total }, (_, i) => `${i}\r\n`).join(''));
    const channel = await (async () => {
      await waitFor(() => listener.channels.size === 1, 'the session');
      return [...listener.channels][0]!;
    })();
    await waitFor(() => channel.needsDrain, 'the server to block on output');
    const stalledAt = Chatty.dispatched;
    expect(stalledAt).toBeLessThan(total);
    client.socket.resume();
    const got = await client.lines(total, 20_000);
    expect(got.every((l, i) => l === `${i} ${reply}`)).toBe(true);
    expect(Chatty.dispatched).toBe(total);
    client.end();
    await client.closed();
  });

  it('pauses and resumes over the memory pair too', async () => {
    const { channel, client } = memoryChannelPair();
    const flow = spyFlow();
    new Gated(channel);
    const lines = Array.from({ length: 5000 }, (_, i) => `M${i}`);
    client.send(`BLOCK\r\n${lines.join('\r\n')}\r\n`);
    await waitFor(() => flow.pauses.length > 0, 'reading to pause');
    expect(channel.stream.isPaused()).toBe(true);
    Gated.gate.resolve();
    expect(await client.lines(lines.length + 1)).toEqual(['ok BLOCK', ...lines.map((l) => `ok ${l}`)]);
    expect(channel.stream.isPaused()).toBe(false);
    client.end();
    await channel.closed;
  });
});
