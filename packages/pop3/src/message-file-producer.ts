import type { FileHandle } from 'node:fs/promises';
import type { Chunk, Producer } from '@gorgon/core';

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

  constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.#size = size;
  }

  async more(): Promise<Chunk> {
    if (this.#done) return null;
    const want = Math.min(READ_CHUNK, this.#size - this.#position);
    if (want <= 0) {
      this.close();
      return null;
    }
    const buffer = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.#handle.read(buffer, 0, want, this.#position);
    if (bytesRead === 0) {
      this.close();
      return null;
    }
    this.#position += bytesRead;
    if (this.#position >= this.#size) this.close();
    return bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#handle.close().catch(() => undefined);
  }
}
