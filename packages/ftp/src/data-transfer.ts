import type { Duplex } from 'node:stream';
import { CoreError, isEmptyChunk, OutputChannel, SimpleProducer, type Producer } from '@gorgon/core';
import { endedCleanly } from './data-channel.js';
import type { WritableFile } from './fs.js';

import { canReadIntoBlocks, receiveIntoBlocks } from './receive-blocks.js';
import { TransferError } from './transfer-error.js';

export { TransferError, type TransferFailure } from './transfer-error.js';

/** Options of one transfer. */
export interface TransferOptions {
  /** TYPE A: convert line ends (LF → CRLF out, CRLF → LF in). @see RFC 959 §3.1.1.1 */
  ascii: boolean;
  signal: AbortSignal;
  /** Abort when no byte moved for this long. */
  stalledMs: number;
  /** Called with each chunk's size (STAT during a transfer shows the count). */
  onProgress(bytes: number): void;
  /** Ends the data connection with a reset at once (a download whose file failed mid-read). */
  reset?(): void;
}

/** LF → CRLF for TYPE A output; `prev` is the last byte of the previous chunk. */
export function toNetworkAscii(data: Buffer, prev: number): Buffer {
  let extra = 0;
  for (let i = 0; i < data.length; i++) if (data[i] === 0x0a && (i > 0 ? data[i - 1] : prev) !== 0x0d) extra++;
  if (extra === 0) return data;
  const out = Buffer.allocUnsafe(data.length + extra);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x0a && (i > 0 ? data[i - 1] : prev) !== 0x0d) out[j++] = 0x0d;
    out[j++] = b;
  }
  return out;
}

/**
 * CRLF → LF for TYPE A input. A CR at the end of a chunk is held back (returned as `held`)
 * until the next chunk shows whether an LF follows.
 */
export function fromNetworkAscii(data: Buffer, heldCr: boolean): { out: Buffer; held: boolean } {
  const input = heldCr ? Buffer.concat([Buffer.from([0x0d]), data]) : data;
  const out = Buffer.allocUnsafe(input.length);
  let j = 0;
  let held = false;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b === 0x0d) {
      if (i === input.length - 1) {
        held = true;
        break;
      }
      if (input[i + 1] === 0x0a) continue;
    }
    out[j++] = b;
  }
  return { out: out.subarray(0, j), held };
}

/** Settles with `work`, or rejects as a TransferError first on error/close/abort/stall. */
function guarded(stream: Duplex, options: TransferOptions, work: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('error', fail);
      stream.off('close', closed);
      stream.off('timeout', stalled);
      options.signal.removeEventListener('abort', aborted);
    };
    const fail = (err: Error): void => {
      cleanup();
      reject(new TransferError('connection-lost', err.message, { cause: err }));
    };
    const closed = (): void => fail(new Error('data connection closed'));
    const stalled = (): void => {
      cleanup();
      reject(new TransferError('stalled', `no progress for ${options.stalledMs} ms`));
    };
    const aborted = (): void => {
      cleanup();
      reject(new TransferError('aborted', 'transfer aborted'));
    };
    if (options.signal.aborted) return aborted();
    stream.once('error', fail);
    stream.once('close', closed);
    stream.once('timeout', stalled);
    options.signal.addEventListener('abort', aborted, { once: true });
    work.then(
      () => {
        cleanup();
        resolve();
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}

/** Resolves on `event`, rejects as a TransferError on error/close/abort/stall. */
function waitFor(stream: Duplex, event: 'drain' | 'finish', options: TransferOptions): Promise<void> {
  return guarded(stream, options, new Promise<void>((resolve) => stream.once(event, () => resolve())));
}

function setStallTimer(stream: Duplex, ms: number): void {
  (stream as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(ms);
}

/**
 * Sends a file or a listing over the data connection through the core's output path (an
 * {@link OutputChannel}: its FIFO writes while the stream takes data and waits for `drain`),
 * then ends the connection (EOF marks the end of the file in stream mode) once the last
 * write's callback has run, and waits for the flush. A file held in memory goes in one write;
 * a large binary file in reads of up to 1 MiB into two reused buffers, the next read going on
 * while the current buffer is written. @see RFC 959 §3.4.1
 */
export async function sendData(stream: Duplex, producer: ReadableProducer, options: TransferOptions): Promise<number> {
  setStallTimer(stream, options.stalledMs);
  const source = new SendProducer(sourceOf(producer, options.ascii), options);
  try {
    if (options.signal.aborted) throw new TransferError('aborted', 'transfer aborted');
    if (stream.destroyed) throw new TransferError('connection-lost', 'data connection closed');
    // A failed read must end the connection with a reset, not the FIN the FIFO would send.
    const out = new OutputChannel(stream, { onProducerError: () => options.reset?.() });
    out.push(source);
    await endWhenWritten(stream, out.written().catch(lostUnlessOwn), options);
    return source.sent;
  } finally {
    await source.close();
    if (producer.data) await producer.close?.(); // sent through a SimpleProducer of its bytes
  }
}

/** A `closed` error from the output path is the data connection going away; a producer's own error passes. */
function lostUnlessOwn(err: unknown): never {
  if (err instanceof CoreError && err.code === 'closed') throw new TransferError('connection-lost', err.message, { cause: err });
  throw err;
}

/**
 * Ends the data connection once its last write has been handed on, then waits for the flush.
 * Under TLS 1.3, ending right behind a write that is still queued sends the close_notify in a
 * state strict clients reject (Python's upstream ssl: SHUTDOWN_WHILE_IN_INIT on a listing or a
 * file under one record); after the write's callback, the close_notify follows the data.
 * @see RFC 8446 §6.1, RFC 4217 §12.6
 */
async function endWhenWritten(stream: Duplex, lastWrite: Promise<void>, options: TransferOptions): Promise<void> {
  lastWrite.catch(() => undefined);
  await guarded(stream, options, lastWrite);
  stream.end();
  await waitFor(stream, 'finish', options);
}

/** A producer that may also read into the caller's buffers or hold its bytes (see ReadableFile). */
export type ReadableProducer = Producer & { readonly size?: number; readInto?(buffer: Buffer): Promise<number>; readonly data?: Buffer };

const SEND_CHUNK = 1024 * 1024;

/** The producer the output path drains for `producer`: its bytes in one chunk, reused buffers, or its own chunks. */
function sourceOf(producer: ReadableProducer, ascii: boolean): Producer {
  const whole = producer.data;
  if (whole) return new SimpleProducer(whole, Math.max(1, whole.length)); // one write, however large
  if (producer.readInto && !ascii) {
    // Buffers no larger than the file: a 4 KiB RETR must not allocate 2 MiB.
    const chunk = Math.max(1, Math.min(SEND_CHUNK, producer.size ?? SEND_CHUNK));
    return new ReusedBuffersProducer(producer, producer.readInto.bind(producer), chunk);
  }
  return producer;
}

/**
 * The chunks of a transfer as they go out: TYPE A conversion, the byte count and progress
 * (which touches the control connection's idle timer), and the release of reused buffers
 * passed on to the producer that owns them.
 */
class SendProducer implements Producer {
  sent = 0;
  readonly #inner: Producer;
  readonly #ascii: boolean;
  readonly #onProgress: (bytes: number) => void;
  #prev = -1;
  readonly released: ((chunk: Buffer | string) => void) | undefined;

  constructor(inner: Producer, options: TransferOptions) {
    this.#inner = inner;
    this.#ascii = options.ascii;
    this.#onProgress = options.onProgress;
    // Converted chunks are new buffers: only the unconverted ones are the inner producer's.
    const release = inner.released;
    this.released = release && !options.ascii ? (chunk) => release.call(inner, chunk) : undefined;
  }

  async more(): Promise<Buffer | null> {
    const chunk = await this.#inner.more();
    if (isEmptyChunk(chunk)) return null;
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#ascii) {
      const last = data[data.length - 1]!;
      data = toNetworkAscii(data, this.#prev);
      this.#prev = last;
    }
    this.sent += data.length;
    this.#onProgress(data.length);
    return data;
  }

  close(): void | Promise<void> {
    return this.#inner.close?.();
  }
}

/**
 * RETR without an allocation per chunk: two buffers, the next read going into one while the
 * other is written; a buffer is read into again only once the output path released it (the
 * stream's write callback ran).
 */
class ReusedBuffersProducer implements Producer {
  readonly #file: Producer;
  readonly #readInto: (buffer: Buffer) => Promise<number>;
  readonly #buffers: [Buffer, Buffer];
  readonly #busy = [false, false];
  readonly #waiters: Array<(() => void) | undefined> = [undefined, undefined];
  /** Indices of the buffers handed out and not yet released, in write order. */
  readonly #inFlight: number[] = [];
  #which = 0;
  #reading: Promise<number> | undefined;
  #closed = false;

  constructor(file: Producer, readInto: (buffer: Buffer) => Promise<number>, chunk: number) {
    this.#file = file;
    this.#readInto = readInto;
    this.#buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
  }

  async more(): Promise<Buffer | null> {
    if (this.#closed) return null;
    const reading = this.#reading ?? this.#read(this.#which);
    this.#reading = undefined;
    const n = await reading;
    if (n === 0 || this.#closed) return null;
    const i = this.#which;
    const buffer = this.#buffers[i]!;
    this.#busy[i] = true;
    this.#inFlight.push(i);
    this.#which = i ^ 1;
    this.#reading = this.#read(this.#which); // read ahead while this chunk is written
    this.#reading.catch(() => undefined);
    return n === buffer.length ? buffer : buffer.subarray(0, n);
  }

  released(): void {
    const i = this.#inFlight.shift();
    if (i === undefined) return;
    this.#busy[i] = false;
    const waiter = this.#waiters[i];
    this.#waiters[i] = undefined;
    waiter?.();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (let i = 0; i < 2; i++) {
      const waiter = this.#waiters[i];
      this.#waiters[i] = undefined;
      waiter?.();
    }
    // The file is closed only once no read into it is under way.
    await this.#reading?.catch(() => 0);
    await this.#file.close?.();
  }

  async #read(i: number): Promise<number> {
    if (this.#busy[i]) await new Promise<void>((resolve) => (this.#waiters[i] = resolve));
    if (this.#closed) return 0;
    return this.#readInto(this.#buffers[i]!);
  }
}

/**
 * Receives the data connection's bytes into a file until EOF, gathering them into writes of
 * `chunkBytes`; fails with `too-large` past `maxBytes` (0 = no limit), and with
 * `connection-lost` when the input ended without a clean close ({@link endedCleanly}). The
 * caller commits or aborts the file. @see RFC 959 §3.4.1, RFC 4217 §12.6
 */
export async function receiveData(
  stream: Duplex,
  file: WritableFile,
  options: TransferOptions & { maxBytes: number; chunkBytes: number; startAt: number },
): Promise<number> {
  setStallTimer(stream, options.stalledMs);
  // Binary over plain TCP: read straight into a few reused blocks (no buffer per read).
  if (!options.ascii && canReadIntoBlocks(stream)) return receiveIntoBlocks(stream, file, options);
  let received = 0;
  let parts: Buffer[] = [];
  let pending = 0;
  let heldCr = false;
  const flush = async (): Promise<void> => {
    if (pending === 0) return;
    const batch = parts;
    const size = pending;
    parts = [];
    pending = 0;
    try {
      if (batch.length > 1 && file.writev) await file.writev(batch);
      else await file.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, size));
    } catch (err) {
      throw new TransferError('storage', (err as Error).message, { cause: err });
    }
  };
  const body = new Promise<void>((resolve, reject) => {
    // One write in flight while the socket keeps filling the next chunk (network and disk
    // overlap); reading pauses only when several chunks are waiting.
    let writing = false;
    let ended = false;
    let paused = false;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      cleanup();
      stream.destroy();
      reject(err);
    };
    const pump = (): void => {
      if (writing || failed) return;
      if (pending === 0 || (!ended && pending < options.chunkBytes)) {
        if (ended) resolve();
        return;
      }
      writing = true;
      flush().then(
        () => {
          writing = false;
          if (paused && pending < 2 * options.chunkBytes) {
            paused = false;
            stream.resume();
          }
          pump();
        },
        (err: unknown) => fail(err),
      );
    };
    const onData = (chunk: Buffer): void => {
      let data = chunk;
      if (options.ascii) ({ out: data, held: heldCr } = fromNetworkAscii(chunk, heldCr));
      received += data.length;
      options.onProgress(chunk.length);
      if (options.maxBytes > 0 && options.startAt + received > options.maxBytes) {
        fail(new TransferError('too-large', `upload passed ${options.maxBytes} bytes`));
        return;
      }
      parts.push(data);
      pending += data.length;
      if (!paused && pending >= 4 * options.chunkBytes) {
        paused = true;
        stream.pause();
      }
      pump();
    };
    const onEnd = (): void => {
      cleanup();
      // An end of input is the end of the file only if the connection ended cleanly: a reset
      // read as EOF, or a TLS stream cut without close_notify, is a truncated upload.
      void endedCleanly(stream).then((clean) => {
        if (failed) return;
        if (!clean) {
          fail(new TransferError('connection-lost', 'data connection ended without a clean close (reset, or no TLS close_notify)'));
          return;
        }
        if (heldCr) {
          parts.push(Buffer.from([0x0d]));
          pending += 1;
          received += 1;
        }
        ended = true;
        pump();
      });
    };
    const onClose = (): void => fail(new TransferError('connection-lost', 'data connection closed before the end'));
    const onError = (err: Error): void => fail(new TransferError('connection-lost', err.message, { cause: err }));
    const onTimeout = (): void => fail(new TransferError('stalled', `no progress for ${options.stalledMs} ms`));
    const onAbort = (): void => fail(new TransferError('aborted', 'transfer aborted'));
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      stream.off('error', onError);
      stream.off('timeout', onTimeout);
      options.signal.removeEventListener('abort', onAbort);
    };
    if (options.signal.aborted) return onAbort();
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onClose);
    stream.once('error', onError);
    stream.once('timeout', onTimeout);
    options.signal.addEventListener('abort', onAbort, { once: true });
    // An empty upload can end (close_notify in the handshake's last flight) before we listen.
    if (stream.readableEnded) onEnd();
    else if (stream.destroyed) onClose();
  });
  await body;
  return received;
}
