import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Channel, createListener, LineSession } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import { dial, type SocketClient } from './helpers.js';

/**
 * What counts as activity for the idle timeout: complete units (a whole line) and bytes of a
 * byte-count or read-to-close unit (a body being transferred), never bytes of a line that does
 * not end (the slowloris trickle: one byte every few seconds, never a line end).
 */
class Trickled extends LineSession {
  static notices = 0;
  constructor(channel: Channel) {
    super(channel);
    this.push('220 hello\r\n');
  }
  protected override onLine(line: string): void {
    // "BODY n": the next n bytes are a raw unit, as a literal or an upload would be.
    const body = /^BODY (\d+)$/.exec(line);
    if (body) this.readBytes(Number(body[1]));
    this.push(`250 ${line}\r\n`);
  }
  protected override onRawEnd(): void {
    this.readLines();
    this.push('250 body done\r\n');
  }
  protected override handleTimeout(kind: 'idle' | 'total'): void {
    Trickled.notices++;
    this.push(`421 ${kind} timeout\r\n`);
    this.closeWhenDone();
  }
}

const IDLE_MS = 150;
const STEP_MS = 30;

/** Sends `piece` every STEP_MS until stopped; the test's clock, never an assertion on time. */
function every(client: SocketClient, piece: string): () => void {
  const timer = setInterval(() => {
    if (!client.socket.destroyed) client.socket.write(piece);
  }, STEP_MS);
  return () => clearInterval(timer);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('idle timeout: what counts as activity', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Trickled.notices = 0;
  });
  afterEach(async () => {
    await guard.check();
  });

  it('bytes trickling without a line end do not keep a connection alive', async () => {
    await using listener = createListener({ name: 'trickle', idleTimeoutMs: IDLE_MS, tickMs: 10 }, (ch) => new Trickled(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    const stop = every(client, 'x');
    try {
      // Before the fix every byte reset the timer and this line never came.
      expect(await client.line()).toBe('421 idle timeout');
    } finally {
      stop();
    }
    client.socket.destroy();
    expect(Trickled.notices).toBe(1);
    expect(listener.counters.timeouts).toBe(1);
  });

  it('complete lines are activity: a lock-step client outlives several idle periods', async () => {
    await using listener = createListener({ name: 'lines', idleTimeoutMs: IDLE_MS, tickMs: 10 }, (ch) => new Trickled(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    for (let i = 0; i < 15; i++) {
      client.sendLine(`NOOP ${i}`);
      expect(await client.line()).toBe(`250 NOOP ${i}`);
      await pause(STEP_MS);
    }
    expect(Trickled.notices).toBe(0);
    client.socket.destroy();
  });

  it('bytes of a byte-count unit are activity: a slow body is a transfer, not idleness', async () => {
    await using listener = createListener({ name: 'body', idleTimeoutMs: IDLE_MS, tickMs: 10 }, (ch) => new Trickled(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    expect(await client.line()).toBe('220 hello');
    client.sendLine('BODY 15');
    expect(await client.line()).toBe('250 BODY 15');
    const stop = every(client, 'y');
    try {
      expect(await client.line()).toBe('250 body done'); // 15 × 30 ms: three idle periods
    } finally {
      stop();
    }
    expect(Trickled.notices).toBe(0);
    client.socket.destroy();
  });
});
