import { closeSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { LentBuffers, outputBuffers, type Chunk, type Producer } from '@gorgon/core';
import { openMessage, openMessageSync } from './maildir-fs.js';
import type { KnownSize } from './maildir-size-cache.js';
import { WireSizeCounter } from './wire-size.js';

/** Largest read of a message file. */
const READ_CHUNK = 1024 * 1024;

/**
 * A message file of known size as a producer: reads sized to the message (a 2 KiB message does
 * not cost a 1 MiB buffer) and closes the handle in the background once the last byte is read,
 * so the reply's terminator does not wait for the close. Maildir message files never change,
 * so the size from the name (or one fstat) holds.
 */
export class MessageFileProducer implements Producer {
  readonly #handle: FileHandle;
  readonly #size: number;
  #position = 0;
  #done = false;
  /** Bytes read ahead from the start of the file, handed out first. */
  #first: Buffer | undefined;
  /** The memory of chunks handed out and not yet given back by their consumer. */
  readonly #lent = new LentBuffers();

  /** @param first the file's first bytes, read ahead into a buffer from `outputBuffers`. */
  constructor(handle: FileHandle, size: number, first?: Buffer) {
    this.#handle = handle;
    this.#size = size;
    if (first && first.length > 0) this.#first = first;
  }

  /** True once the last byte has been handed out: the next `more()` returns null. */
  get exhausted(): boolean {
    return this.#done;
  }

  async more(): Promise<Chunk> {
    if (this.#done) return null;
    const first = this.#first;
    if (first) {
      this.#first = undefined;
      this.#position = first.length;
      if (this.#position >= this.#size) this.close();
      return this.#lent.lend(first);
    }
    const want = Math.min(READ_CHUNK, this.#size - this.#position);
    if (want <= 0) {
      this.close();
      return null;
    }
    // From the process's recycled buffers: an escaping reply copies each chunk out at once and
    // gives it back (`released`), so the next read, this message's or another's, reuses it.
    const buffer = outputBuffers.take(want);
    const { bytesRead } = await this.#handle.read(buffer, 0, want, this.#position);
    if (bytesRead === 0) {
      outputBuffers.give(buffer);
      this.close();
      return null;
    }
    this.#position += bytesRead;
    if (this.#position >= this.#size) this.close();
    this.#lent.lend(buffer);
    return bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
  }

  /**
   * The consumer is done with `chunk`: its memory goes back to `outputBuffers` for the next
   * read (the core's producer contract; a consumer that never calls this leaves each read's
   * buffer to the collector).
   */
  released(chunk: Buffer | string): void {
    this.#lent.release(chunk);
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#handle.close().catch(() => undefined);
  }
}

/**
 * The descriptor of a reader's last small read (one reader per open maildrop: no descriptor is
 * the process's), closed once the reply has been written (a microtask, which runs after the
 * session's dispatch run and its write) or by the reader's next small read, whichever comes
 * first: the close is not on the way to the client's answer. One at most per reader. The
 * buffer of a recycled read goes back to `outputBuffers` at the same moment.
 */
export interface DeferredClose {
  fd: number;
  /** The buffer of the last recycled read (see {@link readKnownSize}), given back with the close. */
  recycled: Buffer | undefined;
  /** Closes `fd` if open and gives `recycled` back; bound, so it is queued as it is. */
  readonly close: () => void;
}

/** A reader's empty {@link DeferredClose} slot. */
export function deferredClose(): DeferredClose {
  const slot: DeferredClose = {
    fd: -1,
    recycled: undefined,
    close() {
      const buffer = slot.recycled;
      if (buffer !== undefined) {
        slot.recycled = undefined;
        outputBuffers.give(buffer);
      }
      const fd = slot.fd;
      if (fd < 0) return;
      slot.fd = -1;
      try {
        closeSync(fd);
      } catch {
        // nothing left to release
      }
    },
  };
  return slot;
}

/**
 * Room of a recycled small read: every message read at once (64 KiB at most) fits, so they all
 * share one size of `outputBuffers`' buffers.
 */
const SMALL_READ = 64 * 1024;

/**
 * Reads a small file whose size its name gives: open, one read (close deferred in `unclosed`). A file
 * longer than its name says is read whole: the bytes on disk are the message.
 *
 * `recycle`: read into a buffer of `outputBuffers`, given back with the deferred close, so the
 * bytes are good only until the current run of code ends or the reader reads again (a RETR
 * escapes them into its reply at once). A new buffer outside the V8 heap per small message made
 * the collector run whole-heap collections in a long-running server ("external memory
 * pressure", 6-7 a second under pipelined RETR); and an idle session keeps none.
 */
export function readKnownSize(path: string, size: number, unclosed: DeferredClose, recycle = false): Buffer {
  unclosed.close();
  const fd = openMessageSync(path);
  let read: number;
  let buffer = recycle ? outputBuffers.take(Math.max(size + 1, SMALL_READ)) : Buffer.allocUnsafe(size + 1);
  let recycled = recycle;
  try {
    read = readSync(fd, buffer, 0, buffer.length, 0);
    // Longer than its name says: read the rest from the same (checked) descriptor.
    while (read === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, read);
      if (recycled) outputBuffers.give(buffer);
      recycled = false;
      buffer = bigger;
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
  } catch (err) {
    closeSync(fd);
    if (recycled) outputBuffers.give(buffer);
    throw err;
  }
  unclosed.fd = fd;
  if (recycled) unclosed.recycled = buffer;
  queueMicrotask(unclosed.close);
  return buffer.subarray(0, read);
}

/**
 * Measures a file's wire size, in reads sized to it (1 MiB at most: a maildrop of 10,000 small
 * messages must not cost 10,000 MiB-sized buffers), and says which file it measured.
 */
export async function measure(path: string): Promise<KnownSize> {
  const { handle, size, ino, mtimeMs } = await openMessage(path);
  try {
    const counter = new WireSizeCounter();
    const buffer = Buffer.allocUnsafe(Math.min(1024 * 1024, size + 1));
    let raw = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      counter.update(buffer.subarray(0, bytesRead));
      raw += bytesRead;
      // A short read at the size fstat gave is the end: no extra read to see 0 bytes.
      if (bytesRead < buffer.length && raw >= size) break;
    }
    return { raw, wire: counter.size, ino, mtimeMs };
  } finally {
    await handle.close();
  }
}
