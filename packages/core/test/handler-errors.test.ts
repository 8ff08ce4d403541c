import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsyncChat, createListener, LineSession, memoryLogger, ReplyError, type Channel, type MemoryLogRecord } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

/** SYNC throws, ASYNC rejects, WEIRD throws a non-Error, REPLY throws a ReplyError; else "ok". */
class Fragile extends LineSession {
  static errors: unknown[] = [];
  readonly #recover: boolean;
  constructor(channel: Channel, recover: boolean) {
    super(channel);
    this.#recover = recover;
  }
  protected override async onLine(line: string): Promise<void> {
    if (line === 'ASYNC') {
      await Promise.resolve();
      throw new Error('async failure with a secret stack');
    }
    this.#syncPart(line);
  }
  #syncPart(line: string): void {
    if (line === 'SYNC') throw new Error('sync failure');
    if (line === 'WEIRD') throw 'a string, not an Error'; // eslint-disable-line no-throw-literal
    if (line === 'REPLY') throw new ReplyError('550 no such thing');
    this.push(`ok ${line}\r\n`);
  }
  protected override handleError(err: unknown): void {
    Fragile.errors.push(err);
    if (!this.#recover) {
      super.handleError(err);
      return;
    }
    // The protocol's generic reply; never the exception text.
    this.push(err instanceof ReplyError ? `${String(err.reply)}\r\n` : '451 internal error\r\n');
  }
}

/** onLine is synchronous here: the throw happens inside the dispatch loop. */
class SyncFragile extends LineSession {
  protected override onLine(line: string): void {
    if (line === 'SYNC') throw new Error('sync failure');
    this.push(`ok ${line}\r\n`);
  }
  protected override handleError(): void {
    this.push('451 internal error\r\n');
  }
}

describe('handler errors', () => {
  let guard: ReturnType<typeof leakGuard>;
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => {
    crashes.push(err);
  };
  beforeEach(() => {
    guard = leakGuard();
    Fragile.errors = [];
    crashes.length = 0;
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
  });
  afterEach(async () => {
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
    expect(crashes).toEqual([]);
    await guard.check();
  });

  it('sync throws and async rejections reach handleError; the session and its neighbours go on', async () => {
    await using listener = createListener({ name: 'fragile' }, (ch) => new Fragile(ch, true));
    const { port } = await listener.listen(0);
    const victim = dial(port);
    const neighbour = dial(port);
    victim.send('SYNC\r\nASYNC\r\nWEIRD\r\nREPLY\r\nfine\r\n');
    neighbour.sendLine('hello');
    expect(await victim.lines(5)).toEqual([
      '451 internal error',
      '451 internal error',
      '451 internal error',
      '550 no such thing',
      'ok fine',
    ]);
    expect(await neighbour.line()).toBe('ok hello');
    expect(Fragile.errors.map((e) => (e instanceof Error ? e.message : e))).toEqual([
      'sync failure',
      'async failure with a secret stack',
      'a string, not an Error',
      'reply error',
    ]);
    for (const c of [victim, neighbour]) {
      c.end();
      await c.closed();
    }
  });

  it('a synchronous onLine that throws mid-batch: later pipelined lines still run in order', async () => {
    const { channel, client } = memoryChannelPair();
    new SyncFragile(channel);
    client.send('a\r\nSYNC\r\nb\r\nSYNC\r\nc\r\n');
    expect(await client.lines(5)).toEqual(['ok a', '451 internal error', 'ok b', '451 internal error', 'ok c']);
    client.end();
    await channel.closed;
  });

  it('by default an error is counted, logged with the connection id (no stack), and closes only that connection', async () => {
    const records: MemoryLogRecord[] = [];
    await using listener = createListener({ name: 'fragile', logger: memoryLogger(records) }, (ch) => new Fragile(ch, false));
    const { port } = await listener.listen(0);
    const victim = dial(port);
    const neighbour = dial(port);
    neighbour.sendLine('one');
    expect(await neighbour.line()).toBe('ok one');
    victim.send('fine\r\nASYNC\r\nnever\r\n');
    expect(await victim.line()).toBe('ok fine');
    await victim.closed();
    expect(listener.counters.errors).toBe(1);
    const logged = records.filter((r) => r.event === 'handler-error');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', listener: 'fragile', remote: '127.0.0.1', msg: 'async failure with a secret stack' });
    expect(logged[0]!.conn).toMatch(/^fragile-/);
    expect(JSON.stringify(logged[0])).not.toContain('at ');
    neighbour.sendLine('two');
    expect(await neighbour.line()).toBe('ok two');
    neighbour.end();
    await neighbour.closed();
  });

  it('a handleError that itself throws still closes the connection, without crashing', async () => {
    class Broken extends LineSession {
      protected override onLine(): void {
        throw new Error('first');
      }
      protected override handleError(): void {
        throw new Error('second');
      }
    }
    const { channel, client } = memoryChannelPair();
    new Broken(channel);
    client.sendLine('x');
    await client.closed();
    await channel.closed;
  });

  it('errors in collectIncomingData, handleClose, handleTimeout and handleShutdown are contained', async () => {
    class Raw extends AsyncChat {
      static seen: string[] = [];
      protected override collectIncomingData(data: Buffer): void {
        if (data.toString() === 'boom') throw new Error('collect');
      }
      protected override foundTerminator(): void {
        this.push('unit\r\n');
      }
      protected override handleError(err: unknown): void {
        Raw.seen.push(err instanceof Error ? err.message : String(err));
      }
      protected override handleTimeout(): void {
        throw new Error('timeout handler');
      }
      protected override handleShutdown(): Promise<void> {
        return Promise.reject(new Error('shutdown handler'));
      }
      protected override handleClose(): void {
        throw new Error('close handler');
      }
    }
    await using listener = createListener({ name: 'raw', idleTimeoutMs: 60_000 }, (ch) => new Raw(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    // The unit whose data could not be collected is dropped; the next one is served.
    client.send('boom\r\nfine\r\n');
    expect(await client.line()).toBe('unit');
    expect(Raw.seen).toEqual(['collect']);
    const channel = [...listener.channels][0]!;
    listener.loop.tick(Date.now() + 60_000);
    expect(Raw.seen).toEqual(['collect', 'timeout handler']);
    await listener.close({ timeoutMs: 50 });
    await client.closed();
    await channel.closed;
    await waitFor(() => Raw.seen.length === 4, 'the close handler error');
    expect(Raw.seen).toEqual(['collect', 'timeout handler', 'shutdown handler', 'close handler']);
  });
});
