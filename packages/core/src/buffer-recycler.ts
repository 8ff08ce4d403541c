/** Smallest size kept: below it Node's own 8 KiB pool already shares memory between buffers. */
const MIN_BYTES = 16 * 1024;
/** Largest size kept: a 1 MiB file read, or its escaped copy, fits. */
const MAX_BYTES = 3 * 1024 * 1024;
/** Bytes kept for reuse, all sizes together, at most. */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

/**
 * The sizes kept: 16 KiB, 24 KiB, 32 KiB, 48 KiB, 64 KiB, … (each power of two and one and a half
 * times it), so a buffer handed out is at most half as large again as asked for.
 */
function classOf(size: number): number {
  const bits = 32 - Math.clz32(size - 1); // 2^bits >= size
  const power = 2 ** bits;
  return size <= power * 0.75 ? power * 0.75 : power;
}

/**
 * Buffers of a few sizes, given back once written and handed out again: for output made fresh
 * for every message (a file read, its escaped copy) that lives only until the socket has taken
 * it. Each such buffer is memory outside V8's heap; allocated at the rate mail goes out (a
 * hundred MB a second), V8 counts it as "external memory pressure" and, in a server that has
 * run a while, answers with a whole-heap collection every few milliseconds (issue 9.1: 30
 * mark-compacts in 5 s under pipelined RETR of mixed-size mail, the server's throughput down to
 * Dovecot's). Reused buffers cost none of that.
 *
 * The rule that makes it safe: `give` a buffer only when nothing reads or writes it any more: a
 * socket write of it has called back, its bytes have been copied out. A buffer given while still
 * in use would be handed to another connection's output. `give` takes only buffers of the sizes
 * `take` makes, whole or any view of them; anything else is left to the collector.
 */
export class BufferRecycler {
  /** Free buffers by size. */
  readonly #free = new Map<number, ArrayBuffer[]>();
  #keptBytes = 0;
  readonly #maxKeptBytes: number;

  /** @param maxKeptBytes free bytes kept for reuse, all sizes together, at most. */
  constructor(maxKeptBytes = MAX_KEPT_BYTES) {
    this.#maxKeptBytes = maxKeptBytes;
  }

  /** Free bytes kept now. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /**
   * A buffer of `size` bytes, uninitialised (as `Buffer.allocUnsafe`), a view of a kept one when
   * there is one of its size class. Sizes outside 16 KiB – 3 MiB get a plain new buffer.
   */
  take(size: number): Buffer {
    if (size < MIN_BYTES || size > MAX_BYTES) return Buffer.allocUnsafe(size);
    const bytes = classOf(size);
    const kept = this.#free.get(bytes)?.pop();
    if (kept === undefined) return Buffer.from(Buffer.allocUnsafeSlow(bytes).buffer, 0, size);
    this.#keptBytes -= bytes;
    return Buffer.from(kept, 0, size);
  }

  /**
   * `buffer`'s memory is free again: nothing will read or write it (see the class's rule). A
   * buffer `take` did not make is left to the collector, as is one over the bound on kept bytes.
   */
  give(buffer: Uint8Array): void {
    const memory = buffer.buffer as ArrayBuffer;
    const bytes = memory.byteLength;
    if (bytes < MIN_BYTES || bytes > MAX_BYTES || classOf(bytes) !== bytes) return;
    if (this.#keptBytes + bytes > this.#maxKeptBytes) return;
    let free = this.#free.get(bytes);
    if (free === undefined) {
      free = [];
      this.#free.set(bytes, free);
    }
    // Given twice, it would be handed to two writers at once: keep it once.
    if (free.includes(memory)) return;
    free.push(memory);
    this.#keptBytes += bytes;
  }
}

/**
 * The process's recycler for output buffers (the core's escaping producers and POP3's message
 * reads use it). One is enough: the event loop runs one connection's code at a time.
 */
export const outputBuffers = new BufferRecycler();

/**
 * The recycled buffers a producer has handed out as chunks and not yet got back: `lend` as a
 * chunk goes out, `release` from the producer's `released(chunk)` (the consumer is done with it),
 * which gives the buffer back to its recycler. A chunk that was not lent here is ignored.
 */
export class LentBuffers {
  readonly #memory: ArrayBufferLike[] = [];
  readonly #recycler: BufferRecycler;

  constructor(recycler: BufferRecycler = outputBuffers) {
    this.#recycler = recycler;
  }

  /** Notes `chunk` (from the recycler) as out; returns it. */
  lend(chunk: Buffer): Buffer {
    this.#memory.push(chunk.buffer);
    return chunk;
  }

  /** `chunk` is free again: back to the recycler if it was lent here. */
  release(chunk: Buffer | string): void {
    if (typeof chunk === 'string') return;
    const at = this.#memory.indexOf(chunk.buffer);
    if (at === -1) return;
    this.#memory.splice(at, 1);
    this.#recycler.give(chunk);
  }
}
