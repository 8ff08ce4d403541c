import { Duplex } from 'node:stream';

/** Options of {@link memoryStreamPair}. */
export interface MemoryPairOptions {
  /**
   * Whether each side stays writable after the other ended (`[first, second]`), as
   * `net.Socket`'s `allowHalfOpen`. Default `[false, false]`: ending one side ends both.
   */
  allowHalfOpen?: readonly [boolean, boolean];
  /** Bytes a side buffers for its reader before the writer must wait. Default 64 KiB. */
  highWaterMark?: number;
}

/**
 * Two linked Duplex streams: what one side writes, the other reads on the next tick. A writer
 * waits (its `write` returns false and `drain` follows) while the reader has `highWaterMark`
 * bytes unread, as with a socket whose peer does not read. Ending one side ends the other's
 * input; destroying one destroys both, as a socket reset would.
 */
export function memoryStreamPair(options: MemoryPairOptions = {}): [Duplex, Duplex] {
  const halfOpen = options.allowHalfOpen ?? [false, false];
  const highWaterMark = options.highWaterMark ?? 64 * 1024;
  const sides: Duplex[] = [];
  /** Per side: the peer's write callback held until this side's reader wants more. */
  const held: Array<(() => void) | undefined> = [undefined, undefined];
  const make = (self: 0 | 1): Duplex => {
    const peer = (): Duplex => sides[1 - self]!;
    return new Duplex({
      allowHalfOpen: halfOpen[self],
      readableHighWaterMark: highWaterMark,
      writableHighWaterMark: highWaterMark,
      read() {
        const callback = held[self];
        held[self] = undefined;
        callback?.();
      },
      write(chunk: Buffer, _encoding, callback) {
        // Delivered on the next tick, as a socket would: a synchronous hand-over re-enters the
        // reader from inside the writer (a TLS engine over the pair loses its handshake).
        process.nextTick(() => {
          const other = peer();
          if (other.destroyed) return callback();
          // A copy, as the kernel makes: once called back, the writer may reuse its buffer
          // (the core's recycled output buffers), and the reader keeps what it read.
          if (other.push(Buffer.from(chunk))) callback();
          else held[1 - self] = callback; // released by the peer's read()
        });
      },
      final(callback) {
        process.nextTick(() => {
          const other = peer();
          if (!other.destroyed) other.push(null);
          callback();
        });
      },
      destroy(err, callback) {
        const other = peer();
        const release = held[self];
        held[self] = undefined;
        release?.();
        if (!other.destroyed) other.destroy();
        callback(err);
      },
    });
  };
  sides.push(make(0), make(1));
  return [sides[0]!, sides[1]!];
}
