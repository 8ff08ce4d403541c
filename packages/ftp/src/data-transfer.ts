import type { Duplex } from 'node:stream';
import { isEmptyChunk, type Producer } from '@gorgon/core';
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
 * Sends a producer's output over the data connection: the next chunk is read while the current
 * one is written, writes wait for `drain`, and the connection is ended (EOF marks the end of
 * the file in stream mode) and flushed before this resolves. @see RFC 959 §3.4.1
 */
export async function sendData(stream: Duplex, producer: ReadableProducer, options: TransferOptions): Promise<number> {
  setStallTimer(stream, options.stalledMs);
  if (producer.data) return sendWhole(stream, producer, producer.data, options);
  if (producer.readInto && !options.ascii) {
    // Buffers no larger than the file: a 4 KiB RETR must not allocate 2 MiB.
    const chunk = Math.max(1, Math.min(SEND_CHUNK, producer.size ?? SEND_CHUNK));
    return sendReused(stream, producer, producer.readInto.bind(producer), chunk, options);
  }
  let sent = 0;
  let prev = -1;
  let lastWrite = Promise.resolve();
  let next = Promise.resolve(producer.more());
  next.catch(() => undefined);
  try {
    for (;;) {
      if (options.signal.aborted) throw new TransferError('aborted', 'transfer aborted');
      const chunk = await next;
      if (isEmptyChunk(chunk)) break;
      next = Promise.resolve(producer.more());
      next.catch(() => undefined);
      let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (options.ascii) {
        const last = data[data.length - 1]!;
        data = toNetworkAscii(data, prev);
        prev = last;
      }
      sent += data.length;
      options.onProgress(data.length);
      if (stream.destroyed) throw new TransferError('connection-lost', 'data connection closed');
      let ready = true;
      lastWrite = new Promise<void>((resolve, reject) => {
        ready = stream.write(data, (err) => (err ? reject(new TransferError('connection-lost', err.message, { cause: err })) : resolve()));
      });
      lastWrite.catch(() => undefined);
      if (!ready) await waitFor(stream, 'drain', options);
    }
    await endWhenWritten(stream, lastWrite, options);
    return sent;
  } finally {
    await producer.close?.();
  }
}

/**
 * Ends the data connection once its last write has been handed on, then waits for the flush.
 * Under TLS 1.3, ending right behind a write that is still queued sends the close_notify in a
 * state strict clients reject (Python's upstream ssl: SHUTDOWN_WHILE_IN_INIT on a listing or a
 * file under one record); after the write's callback, the close_notify follows the data.
 * @see RFC 8446 §6.1, RFC 4217 §12.6
 */
async function endWhenWritten(stream: Duplex, lastWrite: Promise<void>, options: TransferOptions): Promise<void> {
  await guarded(stream, options, lastWrite);
  stream.end();
  await waitFor(stream, 'finish', options);
}

/** A producer that may also read into the caller's buffers or hold its bytes (see ReadableFile). */
export type ReadableProducer = Producer & { readonly size?: number; readInto?(buffer: Buffer): Promise<number>; readonly data?: Buffer };

/** A file already in memory: one write that also ends the connection, then wait for the flush. */
async function sendWhole(stream: Duplex, producer: Producer, whole: Buffer, options: TransferOptions): Promise<number> {
  try {
    if (options.signal.aborted) throw new TransferError('aborted', 'transfer aborted');
    if (stream.destroyed) throw new TransferError('connection-lost', 'data connection closed');
    const data = options.ascii ? toNetworkAscii(whole, -1) : whole;
    options.onProgress(data.length);
    await endWhenWritten(stream, data.length > 0 ? writeChunk(stream, data, options) : Promise.resolve(), options);
    return data.length;
  } finally {
    await producer.close?.();
  }
}

const SEND_CHUNK = 1024 * 1024;

/** Resolves when the stream's write callback says `chunk` was handed on (the buffer is free again). */
function writeChunk(stream: Duplex, chunk: Buffer, options: TransferOptions): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    stream.write(chunk, (err) => (err ? reject(new TransferError('connection-lost', err.message, { cause: err })) : resolve()));
  });
  const watched = guarded(stream, options, done);
  watched.catch(() => undefined);
  return watched;
}

/**
 * RETR without an allocation per chunk: two 1 MiB buffers, the next read going into one while the
 * other is written; a buffer is read into again only after its write callback.
 */
async function sendReused(
  stream: Duplex,
  producer: Producer,
  readInto: (b: Buffer) => Promise<number>,
  chunk: number,
  options: TransferOptions,
): Promise<number> {
  const buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)] as const;
  let which = 0;
  let sent = 0;
  let reading = readInto(buffers[0]);
  reading.catch(() => undefined);
  let writing: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      if (options.signal.aborted) throw new TransferError('aborted', 'transfer aborted');
      const n = await reading;
      if (n === 0) break;
      const current = buffers[which]!;
      await writing; // the other buffer must be free before the next read goes into it
      which ^= 1;
      reading = readInto(buffers[which]!);
      reading.catch(() => undefined);
      if (stream.destroyed) throw new TransferError('connection-lost', 'data connection closed');
      sent += n;
      options.onProgress(n);
      writing = writeChunk(stream, n === current.length ? current : current.subarray(0, n), options);
    }
    await endWhenWritten(stream, writing, options);
    return sent;
  } finally {
    await reading.catch(() => 0);
    await producer.close?.();
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
