import { open, type FileHandle } from 'node:fs/promises';

/** One piece of output. `null`, `undefined` or an empty value means the producer is exhausted. */
export type Chunk = Buffer | string | null | undefined;

/**
 * The asynchat producer contract: `more()` returns the next chunk, or an empty result when done.
 * It may return a Promise (a file read). `close()` is called if the connection goes away before
 * the producer is exhausted, so it can release a file handle or a stream.
 */
export interface Producer {
  more(): Chunk | Promise<Chunk>;
  close?(): void | Promise<void>;
  /**
   * Optional: the FIFO calls this with each chunk once the stream's write callback has run
   * (the bytes were handed on, or the write failed), in the order the chunks were written. A
   * producer that implements it may read into the chunk's memory again from then on (a few
   * reused buffers instead of one per chunk); one without it must never touch a chunk it
   * returned. Wrapping producers that do not forward it make the inner one's chunks unreleased.
   */
  released?(chunk: Buffer | string): void;
}

/** True when `chunk` ends the producer. */
export function isEmptyChunk(chunk: Chunk): chunk is null | undefined | '' {
  return chunk === null || chunk === undefined || chunk.length === 0;
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

/**
 * The seed's simple_producer: a fixed buffer handed out in fixed-size chunks, so one huge reply
 * cannot monopolise the loop.
 */
export class SimpleProducer implements Producer {
  #data: Buffer;
  #offset = 0;
  readonly #chunkSize: number;
  constructor(data: Buffer | string, chunkSize = 64 * 1024) {
    this.#data = toBuffer(data);
    this.#chunkSize = chunkSize;
  }
  more(): Buffer | null {
    if (this.#offset >= this.#data.length) return null;
    const end = Math.min(this.#offset + this.#chunkSize, this.#data.length);
    const chunk = this.#data.subarray(this.#offset, end);
    this.#offset = end;
    return chunk;
  }
}

/** Options of {@link FileProducer}. */
export interface FileProducerOptions {
  /** First byte to send (REST, ranges). Default 0. */
  start?: number;
  /** One past the last byte to send. Default: the end of the file. */
  end?: number;
  /** Bytes per read. Default 1 MiB: 64 KiB reads were measured at half the throughput. */
  chunkSize?: number;
}

/** A file read in large chunks from an offset; the handle is closed at the end or on close(). */
export class FileProducer implements Producer {
  #handle: FileHandle | undefined;
  #opening: Promise<FileHandle> | undefined;
  #position: number;
  readonly #end: number;
  readonly #chunkSize: number;
  /** The file's size when first read: sizes buffers only, so a growing file is still read to EOF. */
  #sizeHint = -1;
  #done = false;

  constructor(file: string | FileHandle, options: FileProducerOptions = {}) {
    if (typeof file === 'string') {
      this.#opening = open(file, 'r');
      // A failed open surfaces from more(); if more() is never called, it must not surface as
      // an unhandled rejection that takes the process down.
      this.#opening.catch(() => undefined);
    } else this.#handle = file;
    this.#position = options.start ?? 0;
    this.#end = options.end ?? Number.POSITIVE_INFINITY;
    this.#chunkSize = options.chunkSize ?? 1024 * 1024;
  }

  async more(): Promise<Buffer | null> {
    if (this.#done) return null;
    if (!this.#handle) this.#handle = await this.#opening!;
    // A 1 MiB buffer per read of a 4 KiB file made GC a third of a server's CPU: when no end is
    // given, size the buffers by the file (at least 64 KiB, so an appended tail still comes).
    if (this.#sizeHint < 0 && this.#end === Number.POSITIVE_INFINITY) this.#sizeHint = (await this.#handle.stat()).size;
    const bySize = this.#sizeHint < 0 ? this.#chunkSize : Math.max(this.#sizeHint - this.#position, 64 * 1024);
    const want = Math.min(this.#chunkSize, this.#end - this.#position, bySize);
    if (want <= 0) return this.#finish();
    const buffer = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.#handle.read(buffer, 0, want, this.#position);
    if (bytesRead === 0) return this.#finish();
    this.#position += bytesRead;
    return bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
  }

  async #finish(): Promise<null> {
    await this.close();
    return null;
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const handle = this.#handle ?? (await this.#opening?.catch(() => undefined));
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Output from any iterable or async iterable of chunks: a generator, a Node Readable
 * (file stream, child process stdout), a database cursor.
 */
export class IterableProducer implements Producer {
  readonly #iterator: AsyncIterator<Buffer | string> | Iterator<Buffer | string>;
  readonly #source: unknown;
  #done = false;

  constructor(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>) {
    this.#source = source;
    this.#iterator =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]()
        : (source as Iterable<Buffer | string>)[Symbol.iterator]();
  }

  async more(): Promise<Chunk> {
    while (!this.#done) {
      const step = await this.#iterator.next();
      if (step.done) {
        this.#done = true;
        return null;
      }
      if (step.value.length > 0) return step.value;
    }
    return null;
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const source = this.#source as { destroy?: () => void };
    if (typeof source.destroy === 'function') source.destroy();
    await this.#iterator.return?.();
  }
}

/** A readable stream as a producer (the seed's file_producer for any stream). */
export function streamProducer(stream: AsyncIterable<Buffer | string>): Producer {
  return new IterableProducer(stream);
}

/** Several producers one after the other: a header, a body, a trailer. */
export class CompositeProducer implements Producer {
  readonly #producers: Producer[];
  #index = 0;
  constructor(producers: Array<Producer | Buffer | string>) {
    this.#producers = producers.map((p) => (typeof p === 'string' || Buffer.isBuffer(p) ? new SimpleProducer(p) : p));
  }
  async more(): Promise<Chunk> {
    while (this.#index < this.#producers.length) {
      const chunk = await this.#producers[this.#index]!.more();
      if (!isEmptyChunk(chunk)) return chunk;
      this.#index++;
    }
    return null;
  }
  async close(): Promise<void> {
    for (const p of this.#producers.slice(this.#index)) await p.close?.();
    this.#index = this.#producers.length;
  }
}

/**
 * Coalesces the small chunks of another producer into writes of about `bufferSize` bytes
 * (Medusa's globbing_producer): fewer syscalls for chatty producers.
 */
export class GlobbingProducer implements Producer {
  readonly #inner: Producer;
  readonly #bufferSize: number;
  #done = false;
  constructor(inner: Producer, bufferSize = 64 * 1024) {
    this.#inner = inner;
    this.#bufferSize = bufferSize;
  }
  async more(): Promise<Chunk> {
    if (this.#done) return null;
    const parts: Buffer[] = [];
    let size = 0;
    while (size < this.#bufferSize) {
      const chunk = await this.#inner.more();
      if (isEmptyChunk(chunk)) {
        this.#done = true;
        break;
      }
      const buf = toBuffer(chunk);
      parts.push(buf);
      size += buf.length;
    }
    if (parts.length === 1) return parts[0];
    return size === 0 ? null : Buffer.concat(parts, size);
  }
  close(): void | Promise<void> {
    this.#done = true;
    return this.#inner.close?.();
  }
}

/**
 * Calls `onDone(bytes)` once when the inner producer is exhausted (Medusa's hooked_producer):
 * log a transfer, send a completion reply, release a lock. `onDone` gets `aborted = true`
 * instead when the connection closed before the end.
 */
export class HookedProducer implements Producer {
  readonly #inner: Producer;
  readonly #onDone: (bytes: number, aborted: boolean) => void;
  #bytes = 0;
  #fired = false;
  constructor(inner: Producer, onDone: (bytes: number, aborted: boolean) => void) {
    this.#inner = inner;
    this.#onDone = onDone;
  }
  async more(): Promise<Chunk> {
    const chunk = await this.#inner.more();
    if (isEmptyChunk(chunk)) this.#fire(false);
    else this.#bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return chunk;
  }
  async close(): Promise<void> {
    await this.#inner.close?.();
    this.#fire(true);
  }
  #fire(aborted: boolean): void {
    if (this.#fired) return;
    this.#fired = true;
    this.#onDone(this.#bytes, aborted);
  }
}
