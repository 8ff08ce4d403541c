import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListener, LineSession, type Channel } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial } from './helpers.js';

const COUNT = 10_000;
const commands = Array.from({ length: COUNT }, (_, i) => `CMD ${i}`);
const oneWrite = commands.map((c) => `${c}\r\n`).join('');
const expected = commands.map((c) => `ok ${c}`);

type Mode = 'sync' | 'async' | 'mixed';

/** Answers every command; records how many handlers ever ran at once. */
class Answerer extends LineSession {
  static maxInFlight = 0;
  #inFlight = 0;
  readonly #mode: Mode;
  constructor(channel: Channel, mode: Mode) {
    super(channel);
    this.#mode = mode;
  }
  protected override onLine(line: string): void | Promise<void> {
    const n = Number(line.slice(4));
    if (this.#mode === 'sync' || (this.#mode === 'mixed' && n % 3 === 0)) {
      this.push(`ok ${line}\r\n`);
      return undefined;
    }
    return this.#later(line, n);
  }
  async #later(line: string, n: number): Promise<void> {
    this.#inFlight++;
    Answerer.maxInFlight = Math.max(Answerer.maxInFlight, this.#inFlight);
    // Alternate a microtask and a macrotask so replies are produced at different times.
    if (n % 2 === 0) await Promise.resolve();
    else await new Promise((resolve) => setImmediate(resolve));
    this.#inFlight--;
    this.push(`ok ${line}\r\n`);
  }
}

describe('pipelining', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Answerer.maxInFlight = 0;
  });
  afterEach(async () => {
    await guard.check();
  });

  it.each<Mode>(['sync', 'async', 'mixed'])(
    'answers 10,000 commands sent in one write, in order (%s handlers, real socket)',
    async (mode) => {
      await using listener = createListener({ name: 'pipe' }, (ch) => new Answerer(ch, mode));
      const { port } = await listener.listen(0);
      const client = dial(port);
      client.send(oneWrite);
      expect(await client.lines(COUNT, 10_000)).toEqual(expected);
      expect(Answerer.maxInFlight).toBeLessThanOrEqual(1);
      expect(listener.counters.commands).toBe(COUNT);
      client.end();
      await client.closed();
    },
  );

  it('answers every pipelined command when the client half-closes right after sending (printf | nc)', async () => {
    await using listener = createListener({ name: 'pipe' }, (ch) => new Answerer(ch, 'async'));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.send(oneWrite);
    client.end();
    const all = (await client.readToEnd(10_000)).toString();
    expect(all.split('\r\n').slice(0, -1)).toEqual(expected);
  });

  it('writes the replies to the commands of one read together, before the deferred work of the stream runs (real socket)', async () => {
    const writes: string[] = [];
    let writtenBeforeNextTick = -1;
    class Recorder extends LineSession {
      protected override onLine(line: string): void {
        this.push(`ok ${line}\r\n`);
        // process.nextTick callbacks run before microtasks: a write left to a microtask would
        // not have happened yet when this one runs.
        if (line === 'C') process.nextTick(() => (writtenBeforeNextTick = writes.length));
      }
    }
    await using listener = createListener({ name: 'pipe' }, (ch) => {
      const write = ch.write.bind(ch);
      ch.write = (data) => {
        writes.push(data.toString());
        return write(data);
      };
      return new Recorder(ch);
    });
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.send('A\r\nB\r\nC\r\n');
    expect(await client.lines(3)).toEqual(['ok A', 'ok B', 'ok C']);
    expect(writes).toEqual(['ok A\r\nok B\r\nok C\r\n']);
    expect(writtenBeforeNextTick).toBe(1);
    client.end();
    await client.closed();
  });

  it.each<Mode>(['sync', 'async'])('answers 10,000 commands in order over the memory pair (%s)', async (mode) => {
    const { channel, client } = memoryChannelPair();
    new Answerer(channel, mode);
    client.send(oneWrite);
    expect(await client.lines(COUNT, 10_000)).toEqual(expected);
    client.end();
    await channel.closed;
  });
});

describe('pushLater: replies known later, in their place', () => {
  /** Each command's reply resolves after a delay that falls as n grows: later ones resolve first. */
  class Late extends LineSession {
    static dispatchedBeforeFirstReply = 0;
    #first = true;
    protected override onLine(line: string): void {
      const n = Number(line.slice(4));
      if (line === 'BAD') {
        this.pushLater(Promise.reject(new Error('disk gone')));
        return;
      }
      if (n % 4 === 3) {
        this.push(`now ${n}\r\n`);
        return;
      }
      this.pushLater(
        new Promise((resolve) =>
          setTimeout(
            () => {
              if (this.#first) Late.dispatchedBeforeFirstReply = n;
              this.#first = false;
              resolve(`late ${n}\r\n`);
            },
            n < 3 ? 30 : 0,
          ),
        ),
      );
    }
  }

  it('answers in order while later commands are dispatched meanwhile (real socket)', async () => {
    await using listener = createListener({ name: 'late' }, (ch) => new Late(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    const n = 200;
    client.send(Array.from({ length: n }, (_, i) => `CMD ${i}\r\n`).join(''));
    const lines = await client.lines(n, 10_000);
    expect(lines).toEqual(Array.from({ length: n }, (_, i) => (i % 4 === 3 ? `now ${i}` : `late ${i}`)));
    // The first late reply (delayed) was known only after later commands had been dispatched.
    expect(Late.dispatchedBeforeFirstReply).toBeGreaterThan(2);
    client.end();
    await client.closed();
  });

  it('a late reply that fails closes that connection (its replies can no longer be in step); the server goes on', async () => {
    await using listener = createListener({ name: 'late' }, (ch) => new Late(ch));
    const { port } = await listener.listen(0);
    const bad = dial(port);
    bad.send('CMD 3\r\nBAD\r\nCMD 7\r\n');
    expect((await bad.readToEnd(10_000)).toString()).toBe('now 3\r\n');
    const good = dial(port);
    good.send('CMD 4\r\n');
    expect(await good.lines(1, 10_000)).toEqual(['late 4']);
    good.end();
    await good.closed();
  });
});
