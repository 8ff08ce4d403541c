import type { Channel } from './channel.js';
import { errorText } from './errors.js';
import { isEmptyChunk, type Chunk, type Producer } from './producers.js';

/**
 * A piece of output known later (a reply waiting for a disk read or a commit), queued in its
 * place. Unlike a producer it does not hold the owner's input back: the session goes on
 * dispatching (and may queue more late replies: bounding them is the owner's job), and once
 * known it is written together with the plain output around it.
 */
interface Late {
  readonly late: true;
  value: Buffer | string | undefined;
  readonly ready: Promise<void>;
}

type Item = Buffer | string | Producer | Late;

function isLate(item: Item): item is Late {
  return (item as Late).late === true;
}

/** The bytes of a plain item or of a late one already known; undefined otherwise. */
function plainOf(item: Item): Buffer | string | undefined {
  if (typeof item === 'string' || Buffer.isBuffer(item)) return item;
  return isLate(item) ? item.value : undefined;
}

/** Plain data gathered into one write up to this size. */
const BATCH_BYTES = 256 * 1024;
/** Bytes written in one go before the pump lets other connections run. */
const YIELD_BYTES = 1024 * 1024;
/** Plain output queued and not yet written above which the owner should stop producing. */
export const OUTPUT_HIGH_WATER = 64 * 1024;

/** Who the FIFO tells that output went out (an AsyncChat, which then dispatches more input). */
export interface FifoOwner {
  progress(): void;
  /**
   * Optional: a producer failed (its `more()` threw or rejected). Called before the FIFO closes
   * the connection without a flush, so an owner may end it its own way first (an FTP download
   * resets it) and report the cause.
   */
  producerFailed?(err: unknown): void;
}

function isPlain(item: Item): item is Buffer | string {
  return typeof item === 'string' || Buffer.isBuffer(item);
}

function isProducer(item: Item): item is Producer {
  return !isPlain(item) && !isLate(item);
}

function isPromise(value: unknown): value is Promise<Chunk> {
  return typeof (value as Promise<Chunk> | undefined)?.then === 'function';
}

/**
 * The producer FIFO: plain pushes and producers in order, written while the channel accepts
 * data and paused on `drain` otherwise, so a client that reads slowly holds the server to the
 * stream's high-water mark plus one chunk. Consecutive small pushes go out as one write.
 *
 * A producer is asked for one chunk at a time, and only when the channel can take it: a 1 GiB
 * producer costs one chunk of memory. `backlogged` tells the owner to stop making more output
 * (an AsyncChat stops dispatching input); `onProgress` says when that may have changed.
 */
export class OutputFifo {
  readonly #channel: Channel;
  readonly #owner: FifoOwner | undefined;
  #items: Item[] = [];
  #head = 0;
  /**
   * Strings pushed after the last item, joined as they come (a rope: no copy until written),
   * and moved into `#items` before anything else is queued or written. One reply per pipelined
   * command costs a concatenation, as in a hand-written server, not an array slot and a join.
   */
  #tail = '';
  /** Length of the plain items queued (string length for strings: an estimate is enough). */
  #plainQueued = 0;
  /** Producers queued, the one being drained included. */
  #producers = 0;
  #pumping = false;
  #scheduled = false;
  #drainWaiter: (() => void) | undefined;
  #idleWaiters: Array<() => void> | undefined;
  #onEmpty: (() => void) | undefined;
  #failed = false;

  /** @param owner told when queued output went out and `backlogged` may have cleared. */
  constructor(channel: Channel, owner?: FifoOwner) {
    this.#channel = channel;
    this.#owner = owner;
  }

  /** True when nothing is queued or being written. */
  get idle(): boolean {
    return !this.#pumping && this.#head >= this.#items.length && this.#tail.length === 0;
  }

  /**
   * True when nothing is queued, being written or waited for, and the FIFO did not fail: a new
   * FIFO would behave the same, so the owner may let this one go.
   */
  get disposable(): boolean {
    return (
      this.idle &&
      !this.#scheduled &&
      !this.#failed &&
      this.#drainWaiter === undefined &&
      this.#idleWaiters === undefined &&
      this.#onEmpty === undefined
    );
  }

  /**
   * True while the owner should not produce more output: the peer is not reading (the stream
   * waits for `drain`), a producer is still being drained, or more than {@link OUTPUT_HIGH_WATER}
   * of plain output waits to be written.
   */
  get backlogged(): boolean {
    return this.#producers > 0 || this.#plainQueued >= OUTPUT_HIGH_WATER || this.#channel.needsDrain;
  }

  /**
   * `backlogged` without asking the stream: true while a producer is queued or the plain output
   * queued passed {@link OUTPUT_HIGH_WATER}. For an owner that checked the stream before a burst
   * of pushes (which reach the stream only when written, after the burst).
   */
  get full(): boolean {
    return this.#producers > 0 || this.#plainQueued >= OUTPUT_HIGH_WATER;
  }

  /** Plain bytes (approximately) and producers waiting to be written. */
  get queued(): { bytes: number; producers: number } {
    return { bytes: this.#plainQueued, producers: this.#producers };
  }

  /**
   * Queues output that `value` will give, in its place. A rejection means the stream can no
   * longer be in step with the protocol: the connection is closed, as for a failed producer.
   */
  pushLate(value: Promise<Buffer | string>): void {
    const late: { late: true; value: Buffer | string | undefined; ready: Promise<void> } = {
      late: true,
      value: undefined,
      ready: value.then(
        (v) => {
          late.value = v;
        },
        (err: unknown) => {
          late.value = '';
          if (this.#failed) return;
          this.#channel.log.error({ event: 'producer-error' }, errorText(err));
          this.#channel.counters.errors++;
          this.#owner?.producerFailed?.(err);
          this.#channel.close({ flush: false });
          this.abort();
        },
      ),
    };
    this.push(late);
  }

  /** Queues data or a producer; on a closed connection a producer is released instead. */
  push(item: Item): void {
    if (this.#failed || this.#channel.isClosed) {
      if (isProducer(item)) release(item);
      return;
    }
    if (typeof item === 'string') {
      if (this.#tail.length + item.length > BATCH_BYTES) this.#flushTail();
      this.#tail += item;
      this.#plainQueued += item.length;
    } else {
      this.#flushTail();
      this.#items.push(item);
      if (isPlain(item)) this.#plainQueued += item.length;
      else if (!isLate(item)) this.#producers++;
    }
    this.#schedule();
  }

  /** Calls `fn` once, the next time the queue empties (closeWhenDone). */
  whenEmpty(fn: () => void): void {
    if (this.idle && !this.#scheduled) fn();
    else this.#onEmpty = fn;
  }

  /** Resolves when everything queued so far has been handed to the stream (or dropped on abort). */
  flush(): Promise<void> {
    if (this.idle && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiters ??= [];
      this.#idleWaiters.push(resolve);
    });
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
    this.#tail = '';
    this.#items = [];
    this.#head = 0;
    this.#plainQueued = 0;
    this.#producers = 0;
    for (const item of pending) if (isProducer(item)) release(item);
    this.drained();
    this.#settle();
  }

  /**
   * Writes now what the microtask `push` scheduled would write: for an owner that has finished a
   * burst of pushes (an AsyncChat at the end of a dispatch run). Plain data is written before
   * this returns; a producer is started and goes on asynchronously. False when nothing was due.
   */
  writeNow(): boolean {
    if (!this.#scheduled || this.#pumping) return false;
    this.#scheduled = false;
    this.#pump();
    return true;
  }

  #schedule(): void {
    if (this.#scheduled || this.#pumping) return;
    this.#scheduled = true;
    OutputFifo.#due.push(this);
    if (OutputFifo.#due.length === 1) queueMicrotask(OutputFifo.#writeDue);
  }

  /**
   * FIFOs with a write due at the end of this turn: one microtask writes them all, in the order
   * they were scheduled, rather than a closure and a microtask per push.
   */
  static #due: OutputFifo[] = [];

  static #writeDue(): void {
    const due = OutputFifo.#due;
    OutputFifo.#due = [];
    for (const fifo of due) {
      if (!fifo.#scheduled) continue; // written already by writeNow()
      fifo.#scheduled = false;
      fifo.#pump();
    }
  }

  /**
   * Writes what is queued. Plain data (the usual reply) is written here, synchronously, with no
   * promise made; the first item that has to be waited for (a producer, a late value, the
   * peer's `drain`) hands the rest to the asynchronous pump.
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    let handedOn = false;
    try {
      for (;;) {
        if (this.#exhausted()) break;
        if (this.#channel.needsDrain || plainOf(this.#items[this.#head]!) === undefined) {
          handedOn = true;
          void this.#pumpAsync(); // owns #pumping from here, and settles when done
          return;
        }
        this.#channel.write(this.#takeBatch());
      }
    } finally {
      if (!handedOn) this.#pumping = false;
    }
    this.#settle();
  }

  /**
   * Moves gathered strings into the queue; true when nothing more can be written now: the queue
   * is empty, the FIFO failed, or the connection closed under it (then everything is released).
   */
  #exhausted(): boolean {
    this.#flushTail();
    if (this.#head >= this.#items.length || this.#failed) return true;
    if (this.#channel.writable) return false;
    // Closed under us (close() with flush, EOF, reset): nothing more can go out.
    this.abort();
    return true;
  }

  async #pumpAsync(): Promise<void> {
    let written = 0;
    try {
      for (;;) {
        if (this.#exhausted()) break;
        if (this.#channel.needsDrain) {
          await new Promise<void>((resolve) => (this.#drainWaiter = resolve));
          written = 0;
          continue;
        }
        if (written >= YIELD_BYTES) {
          // Fairness: a producer whose chunks the kernel swallows must not starve other sessions.
          await new Promise<void>((resolve) => setImmediate(resolve));
          written = 0;
          continue;
        }
        const item = this.#items[this.#head]!;
        if (isLate(item) && item.value === undefined) {
          await item.ready;
          continue;
        }
        if (!isProducer(item)) {
          const batch = this.#takeBatch();
          written += batch.length;
          this.#channel.write(batch);
          continue;
        }
        let chunk: Chunk;
        try {
          const result = item.more();
          chunk = isPromise(result) ? await result : result;
        } catch (err) {
          if (!this.#failed) {
            // A producer that fails (a file removed mid-read) cannot finish its reply: the
            // stream is now out of step with the protocol, so the connection must close.
            this.#channel.log.error({ event: 'producer-error' }, errorText(err));
            this.#channel.counters.errors++;
            this.#owner?.producerFailed?.(err);
            this.#channel.close({ flush: false });
            this.abort();
          }
          break;
        }
        if (this.#failed) break;
        if (isEmptyChunk(chunk)) {
          this.#items[this.#head++] = '';
          this.#producers--;
          this.#compact();
          this.#owner?.progress();
        } else {
          written += chunk.length;
          const released = item.released;
          if (released) this.#channel.write(chunk, () => released.call(item, chunk));
          else this.#channel.write(chunk);
        }
      }
    } finally {
      this.#pumping = false;
    }
    this.#settle();
  }

  /** Moves the strings gathered in `#tail` into the queue, as one item. */
  #flushTail(): void {
    if (this.#tail.length === 0) return;
    this.#items.push(this.#tail);
    this.#tail = '';
  }

  /** Consecutive plain items (and late ones already known), joined into one write. */
  #takeBatch(): Buffer | string {
    const first = plainOf(this.#items[this.#head]!)!;
    let end = this.#head + 1;
    let size = first.length;
    let plainSize = isPlain(this.#items[this.#head]!) ? first.length : 0;
    let allStrings = typeof first === 'string';
    while (end < this.#items.length && size < BATCH_BYTES) {
      const item = this.#items[end]!;
      const next = plainOf(item);
      if (next === undefined) break;
      size += next.length;
      if (isPlain(item)) plainSize += next.length;
      if (typeof next !== 'string') allStrings = false;
      end++;
    }
    let batch: Buffer | string = first;
    if (end > this.#head + 1) {
      const parts = this.#items.slice(this.#head, end).map((i) => plainOf(i)!);
      if (allStrings) batch = (parts as string[]).join('');
      else batch = Buffer.concat(parts.map((b) => (typeof b === 'string' ? Buffer.from(b) : b)));
    }
    this.#head = end;
    this.#plainQueued -= plainSize;
    this.#compact();
    return batch;
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
    this.#idleWaiters = undefined;
    if (waiters) for (const w of waiters) w();
    const onEmpty = this.#onEmpty;
    this.#onEmpty = undefined;
    onEmpty?.();
    this.#owner?.progress();
  }
}

/** Lets a producer that will never be drained release its file handle or stream. */
function release(producer: Producer): void {
  try {
    Promise.resolve(producer.close?.()).catch(() => undefined);
  } catch {
    // a close() that throws has nothing left to release
  }
}
