import type { Channel } from './channel.js';
import { errorText } from './errors.js';
import { isEmptyChunk, type Producer } from './producers.js';

type Item = Buffer | string | Producer;

/** Plain data gathered into one write up to this size. */
const BATCH_BYTES = 256 * 1024;

/**
 * The producer FIFO: plain pushes and producers in order, written while the channel accepts
 * data and paused on `drain` otherwise, so a client that reads slowly holds the server to the
 * stream's high-water mark plus one chunk. Consecutive small pushes go out as one write.
 */
export class OutputFifo {
  readonly #channel: Channel;
  #items: Item[] = [];
  #head = 0;
  #pumping = false;
  #scheduled = false;
  #drainWaiter: (() => void) | undefined;
  #idleWaiters: Array<() => void> = [];
  #onEmpty: (() => void) | undefined;
  #failed = false;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  /** True when nothing is queued or being written. */
  get idle(): boolean {
    return !this.#pumping && this.#head >= this.#items.length;
  }

  /** True while output waits for the peer to read: callers should stop producing more. */
  get backlogged(): boolean {
    return this.#channel.needsDrain;
  }

  push(item: Item): void {
    if (this.#failed || this.#channel.isClosed) {
      if (typeof item === 'object' && !Buffer.isBuffer(item)) void item.close?.();
      return;
    }
    this.#items.push(item);
    this.#schedule();
  }

  /** Calls `fn` once, the next time the queue empties (closeWhenDone). */
  whenEmpty(fn: () => void): void {
    if (this.idle && !this.#scheduled) fn();
    else this.#onEmpty = fn;
  }

  /** Resolves when everything queued so far has been handed to the stream. */
  flush(): Promise<void> {
    if (this.idle && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** The peer drained our output. */
  drained(): void {
    const waiter = this.#drainWaiter;
    this.#drainWaiter = undefined;
    waiter?.();
  }

  /** The connection closed: release every producer still queued. */
  abort(): void {
    this.#failed = true;
    const pending = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const item of pending) {
      if (typeof item === 'object' && !Buffer.isBuffer(item)) {
        Promise.resolve(item.close?.()).catch(() => undefined);
      }
    }
    this.drained();
    this.#settle();
  }

  #schedule(): void {
    if (this.#scheduled || this.#pumping) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#head < this.#items.length && !this.#failed) {
        if (this.#channel.needsDrain) {
          await new Promise<void>((resolve) => (this.#drainWaiter = resolve));
          continue;
        }
        const item = this.#items[this.#head]!;
        if (typeof item === 'string' || Buffer.isBuffer(item)) {
          this.#channel.write(this.#takeBatch());
          continue;
        }
        let chunk;
        try {
          chunk = item.more();
          if (chunk instanceof Promise) chunk = await chunk;
        } catch (err) {
          // A producer that fails (a file removed mid-read) cannot finish its reply: the
          // stream is now out of step with the protocol, so the connection must close.
          this.#channel.log.error({ event: 'producer-error' }, errorText(err));
          this.#channel.counters.errors++;
          this.#channel.close({ flush: false });
          this.abort();
          return;
        }
        if (this.#failed) return;
        if (isEmptyChunk(chunk)) {
          this.#head++;
          this.#compact();
        } else {
          this.#channel.write(chunk);
        }
      }
    } finally {
      this.#pumping = false;
    }
    this.#settle();
  }

  /** Consecutive plain items, joined into one write. */
  #takeBatch(): Buffer | string {
    const first = this.#items[this.#head] as Buffer | string;
    let end = this.#head + 1;
    let size = first.length;
    let allStrings = typeof first === 'string';
    while (end < this.#items.length && size < BATCH_BYTES) {
      const next = this.#items[end]!;
      if (typeof next === 'string') size += next.length;
      else if (Buffer.isBuffer(next)) {
        size += next.length;
        allStrings = false;
      } else break;
      end++;
    }
    const batch = this.#items.slice(this.#head, end) as Array<Buffer | string>;
    this.#head = end;
    this.#compact();
    if (batch.length === 1) return first;
    if (allStrings) return (batch as string[]).join('');
    return Buffer.concat(batch.map((b) => (typeof b === 'string' ? Buffer.from(b) : b)));
  }

  #compact(): void {
    if (this.#head >= this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  #settle(): void {
    if (!this.idle || this.#scheduled) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
    const onEmpty = this.#onEmpty;
    this.#onEmpty = undefined;
    onEmpty?.();
  }
}
