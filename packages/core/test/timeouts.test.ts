import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, createListener, LineSession, Loop, memoryStreamPair } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

type Reaction = 'close' | 'ignore' | 'touch';

/** Greets, echoes, and reacts to a timeout as told; records every timeout notice. */
class Timed extends LineSession {
  static notices: Array<'idle' | 'total'> = [];
  readonly #reaction: Reaction;
  constructor(channel: Channel, reaction: Reaction = 'close') {
    super(channel);
    this.#reaction = reaction;
    this.push('220 hello\r\n');
  }
  protected override onLine(line: string): void {
    this.push(`250 ${line}\r\n`);
  }
  protected override handleTimeout(kind: 'idle' | 'total'): void {
    Timed.notices.push(kind);
    if (this.#reaction === 'touch') this.channel.touch();
    if (this.#reaction !== 'close') return;
    this.push(`421 ${kind} timeout\r\n`);
    this.closeWhenDone();
  }
}

const MINUTE = 60_000;

describe('timeouts', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Timed.notices = [];
  });
  afterEach(async () => {
    await guard.check();
  });

  it('closes an idle connection with the protocol reply (real timers, small values)', async () => {
    await using listener = createListener({ name: 'idle', idleTimeoutMs: 80, tickMs: 10 }, (ch) => new Timed(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    expect(await client.line()).toBe('421 idle timeout');
    await client.closed();
    expect(Timed.notices).toEqual(['idle']);
    expect(listener.counters.timeouts).toBe(1);
    await waitFor(() => listener.connections === 0, 'the slot to be freed');
  });

  it('closes at the total timeout even while the client is busy (real timers)', async () => {
    await using listener = createListener({ name: 'total', totalTimeoutMs: 120, tickMs: 10 }, (ch) => new Timed(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    let n = 0;
    for (;;) {
      client.sendLine(`busy ${n}`);
      const reply = await client.line();
      if (reply === '421 total timeout') break;
      expect(reply).toBe(`250 busy ${n++}`);
    }
    await client.closed();
    expect(Timed.notices).toEqual(['total']);
  });

  it('idle: activity postpones it, then it fires once (driven through loop.tick)', async () => {
    await using listener = createListener({ name: 'idle', idleTimeoutMs: MINUTE }, (ch) => new Timed(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    const base = Date.now();
    listener.loop.tick(base + MINUTE / 2);
    expect(Timed.notices).toEqual([]);
    client.sendLine('still here');
    expect(await client.line()).toBe('250 still here');
    const afterActivity = Date.now();
    listener.loop.tick(afterActivity + MINUTE - 1000);
    expect(Timed.notices).toEqual([]);
    listener.loop.tick(afterActivity + MINUTE);
    listener.loop.tick(afterActivity + MINUTE + 10);
    expect(Timed.notices).toEqual(['idle']);
    expect(await client.line()).toBe('421 idle timeout');
    await client.closed();
  });

  it('tells a session once; one that ignores it is closed after closeTimeoutMs', async () => {
    await using listener = createListener(
      { name: 'stubborn', totalTimeoutMs: MINUTE, closeTimeoutMs: 5000 },
      (ch) => new Timed(ch, 'ignore'),
    );
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    const channel = [...listener.channels][0]!;
    const t = channel.openedAt + MINUTE;
    for (let i = 0; i < 10; i++) listener.loop.tick(t + i * 100);
    expect(Timed.notices).toEqual(['total']);
    expect(channel.isClosed).toBe(false);
    listener.loop.tick(t + 5000);
    await channel.closed;
    await client.closed();
    expect(Timed.notices).toEqual(['total']);
  });

  it('touch() in handleTimeout declines an idle timeout; the session is told again later, never force-closed', async () => {
    const loop = new Loop({ tickMs: 10 });
    const { channel, client } = memoryChannelPair({ idleTimeoutMs: 40, closeTimeoutMs: 20, loop });
    new Timed(channel, 'touch');
    expect(await client.line()).toBe('220 hello');
    // Three notices take far longer than closeTimeoutMs: declining kept the connection open.
    await waitFor(() => Timed.notices.length >= 3, 'three idle notices');
    expect(channel.isClosed).toBe(false);
    client.sendLine('alive');
    expect(await client.line()).toBe('250 alive');
    channel.close({ flush: false });
    await channel.closed;
    expect(loop.size).toBe(0);
  });

  it('a session that ignores a shutdown request is closed by the sweep after closeTimeoutMs (no timer of its own)', async () => {
    const loop = new Loop({ tickMs: MINUTE });
    const { channel, client } = memoryChannelPair({ closeTimeoutMs: 5000, loop });
    class Deaf extends Timed {
      protected override handleShutdown(): void {
        this.push('421 going\r\n'); // says goodbye but never closes (a peer that does not read)
      }
    }
    new Deaf(channel, 'ignore');
    expect(await client.line()).toBe('220 hello');
    const asked = Date.now();
    channel.requestShutdown();
    expect(await client.line()).toBe('421 going');
    channel.touch(); // activity does not withdraw a shutdown
    loop.tick(asked + 4000);
    expect(channel.isClosed).toBe(false);
    loop.tick(asked + 5100);
    await channel.closed;
    await client.closed();
  });

  it('a connection whose session was never made still times out', async () => {
    let orphan: Channel | undefined;
    await using listener = createListener({ name: 'orphan', idleTimeoutMs: MINUTE }, (ch) => {
      orphan = ch; // no session attached
    });
    const { port } = await listener.listen(0);
    const client = dial(port);
    await waitFor(() => orphan !== undefined, 'the connection');
    listener.loop.tick(Date.now() + MINUTE);
    await client.closed();
    await orphan!.closed;
    expect(listener.counters.timeouts).toBe(1);
  });

  it('a flushing close to a peer that never closes its side is bounded by closeTimeoutMs', async () => {
    // Both sides half-open: the peer reads our FIN and keeps its own side open for ever.
    const [serverSide, peer] = memoryStreamPair({ allowHalfOpen: [true, true] });
    const received: Buffer[] = [];
    peer.on('data', (chunk: Buffer) => received.push(chunk));
    const peerEnded = new Promise((resolve) => peer.once('end', resolve));
    const loop = new Loop({ tickMs: 60_000 });
    const closes: Channel[] = [];
    const channel = new Channel(serverSide, { closeTimeoutMs: 5000, loop, onClose: (ch) => closes.push(ch) });
    channel.write('last words\r\n');
    channel.close();
    await peerEnded;
    expect(Buffer.concat(received).toString()).toBe('last words\r\n');
    loop.tick(Date.now() + 4000);
    expect(channel.isClosed).toBe(false);
    loop.tick(Date.now() + 5000);
    await channel.closed;
    expect(closes).toEqual([channel]);
    expect(loop.size).toBe(0);
    peer.destroy();
  });

  it('activity after a flushing close does not move its bound: closeTimeoutMs counts from the close', async () => {
    const [serverSide, peer] = memoryStreamPair({ allowHalfOpen: [true, true] });
    peer.resume();
    const loop = new Loop({ tickMs: 60_000 });
    const channel = new Channel(serverSide, { closeTimeoutMs: 5000, loop });
    const t0 = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: t0 });
    try {
      channel.close();
      vi.setSystemTime(t0 + 4000);
      channel.touch(); // a session that still counts work as activity
      loop.tick(t0 + 4999);
      expect(channel.isClosed).toBe(false);
      loop.tick(t0 + 5000);
      await channel.closed;
    } finally {
      vi.useRealTimers();
      peer.destroy();
    }
  });

  it('the default handleTimeout closes the connection (memory pair)', async () => {
    class Plain extends LineSession {
      protected override onLine(): void {}
    }
    const loop = new Loop();
    const { channel, client } = memoryChannelPair({ idleTimeoutMs: 1000, loop });
    new Plain(channel);
    loop.tick(Date.now() + 1000);
    await client.closed();
    await channel.closed;
    expect(channel.counters.timeouts).toBe(1);
  });
});
