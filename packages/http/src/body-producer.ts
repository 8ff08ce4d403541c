import type { Producer } from '@gorgon/core';
import type { StoreFile } from './store.js';

/** One piece of a response body: a prefix (the header, a multipart part header), then file bytes. */
export interface BodySegment {
  prefix: Buffer;
  /** First byte of the file to send, inclusive. */
  start: number;
  /** End of the file bytes, exclusive. */
  end: number;
}

/**
 * A response from an open file: each segment's prefix goes out in the same write as the first
 * file chunk after it (the header and the first 1 MiB in one write), then reads of `chunkSize`;
 * `trailer` ends the body (a multipart boundary). The file is closed when done or when the
 * connection goes first. Whole chunks without a prefix are read into two reused buffers, one
 * read into while the other is written, each read into again only once the output path has
 * released it (`released`: the stream's write callback ran): no fresh 1 MiB per chunk.
 */
export class FileBodyProducer implements Producer {
  readonly #file: StoreFile;
  readonly #segments: BodySegment[];
  readonly #chunkSize: number;
  #trailer: Buffer | undefined;
  #index = 0;
  #position: number;
  #prefixSent = false;
  /** The two reused buffers (made on first use), and which of them the output path still holds. */
  #pool: Buffer[] | undefined;
  readonly #held = [false, false];
  readonly #waiters: Array<() => void> = [];
  #closed = false;

  constructor(file: StoreFile, segments: BodySegment[], trailer: Buffer | undefined, chunkSize: number) {
    this.#file = file;
    this.#segments = segments;
    this.#trailer = trailer;
    this.#chunkSize = chunkSize;
    this.#position = segments[0]?.start ?? 0;
  }

  /** The next chunk, read ahead while the previous one is being written (one at most). */
  #ahead: Promise<Buffer | null> | undefined;

  more(): Promise<Buffer | null> {
    const chunk = this.#ahead ?? this.#produce();
    this.#ahead = undefined;
    return chunk.then((buf) => {
      // Read the next chunk while this one goes out: disk and socket work at the same time.
      if (buf && this.#index < this.#segments.length) {
        this.#ahead = this.#produce();
        this.#ahead.catch(() => undefined);
      }
      return buf;
    });
  }

  /** Takes the next piece (state advanced at once, so a read ahead never overlaps), then reads it. */
  async #produce(): Promise<Buffer | null> {
    for (;;) {
      const seg = this.#segments[this.#index];
      if (!seg) {
        const t = this.#trailer;
        this.#trailer = undefined;
        if (t) return t;
        this.#closed = true;
        this.#wake();
        await this.#file.close();
        return null;
      }
      const prefix = this.#prefixSent ? undefined : seg.prefix;
      this.#prefixSent = true;
      const position = this.#position;
      const want = Math.min(this.#chunkSize, seg.end - position);
      this.#position += want;
      if (this.#position >= seg.end) {
        this.#index++;
        this.#prefixSent = false;
        this.#position = this.#segments[this.#index]?.start ?? 0;
      }
      const head = prefix?.length ?? 0;
      if (head + want === 0) continue;
      const buf = head === 0 && want === this.#chunkSize ? await this.#reusable() : Buffer.allocUnsafe(head + want);
      if (this.#closed) return null;
      if (prefix) prefix.copy(buf, 0);
      let got = 0;
      while (got < want) {
        const n = await this.#file.read(buf, head + got, want - got, position + got);
        if (n === 0) throw new Error('file shrank while being sent');
        got += n;
      }
      return buf;
    }
  }

  /** A free buffer of the pool, waiting for the output path to release one when both are out. */
  async #reusable(): Promise<Buffer> {
    this.#pool ??= [Buffer.allocUnsafe(this.#chunkSize), Buffer.allocUnsafe(this.#chunkSize)];
    for (;;) {
      const i = this.#held[0] ? (this.#held[1] ? -1 : 1) : 0;
      if (i >= 0) {
        this.#held[i] = true;
        return this.#pool[i]!;
      }
      if (this.#closed) return this.#pool[0]!; // not read into: #produce sees #closed
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
      });
    }
  }

  released(chunk: Buffer | string): void {
    const i = this.#pool ? this.#pool.indexOf(chunk as Buffer) : -1;
    if (i < 0) return;
    this.#held[i] = false;
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    // The file is closed only once no read into it is under way.
    await this.#ahead?.catch(() => null);
    await this.#file.close();
  }
}
