import { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';

/** Options of a {@link DeflateStream}. */
export interface DeflateStreamOptions {
  /** Compression level, 0–9. Default 6 (zlib's default; INN uses the same). */
  level?: number;
  /** Window bits of both directions, 8–15. Default 15 (RFC 1951's 32 KiB window). */
  windowBits?: number;
  /** Decompressed bytes one inflate step may produce before they are handed on. Default 16 KiB. */
  chunkSize?: number;
  /** Compressed input already received (read before the layer was put in place): inflated first. */
  initial?: Buffer;
}

/**
 * A compression layer over any byte stream: what is written is compressed with raw DEFLATE
 * (RFC 1951, no zlib or gzip header) and written to the stream under it; what the stream under
 * it delivers is inflated and read from this one. It is a `Duplex`, so a Channel can carry it
 * as it carries a TLS socket (`Channel.wrapStream`, `AsyncChat.startCompress`).
 *
 * - **Flush**: every write batch (one `write`, or the chunks `writev` gathers) ends with
 *   `Z_SYNC_FLUSH`, so the peer can inflate each reply as soon as it arrives: a response is
 *   never left in the compressor waiting for more. @see RFC 8054 §2.2.2 ("the server MUST use
 *   Z_SYNC_FLUSH or Z_PARTIAL_FLUSH … after each response")
 * - **Memory**: inflated data is pushed only while the reader asks for it; when it does not,
 *   the inflater is paused and the stream under it is paused behind it, so a small compressed
 *   input that inflates to gigabytes (a decompression bomb) costs one chunk, not its size.
 * - **Errors**: input that is not DEFLATE destroys this stream with zlib's error (the owner
 *   sees `error` then `close`); the stream under it is destroyed too.
 * - **End**: `end()` finishes the DEFLATE stream (a final block) and ends the stream under it;
 *   the end of the stream under it ends reading here once everything is inflated.
 * @see RFC 8054 §2.2 (COMPRESS), RFC 1951 (DEFLATE)
 */
export class DeflateStream extends Duplex {
  readonly #raw: Duplex;
  readonly #inflate: zlib.InflateRaw;
  readonly #deflate: zlib.DeflateRaw;

  constructor(raw: Duplex, options: DeflateStreamOptions = {}) {
    super({ allowHalfOpen: true });
    this.#raw = raw;
    const windowBits = options.windowBits ?? 15;
    const chunkSize = options.chunkSize ?? 16 * 1024;
    this.#inflate = zlib.createInflateRaw({ windowBits, chunkSize });
    this.#deflate = zlib.createDeflateRaw({ level: options.level ?? 6, windowBits });
    const inflate = this.#inflate;
    const deflate = this.#deflate;

    if (options.initial && options.initial.length > 0) inflate.write(options.initial);
    // Pull, not push: inflated data is read from the inflater only when this stream's reader
    // asks (`_read`), so the inflater's buffer fills, its input backs up, and `pipe` pauses the
    // stream under it: a decompression bomb costs one buffer.
    raw.pipe(inflate);
    inflate.on('readable', () => this.#pull());
    let inflated = false;
    inflate.on('end', () => {
      inflated = true;
      this.push(null);
    });
    inflate.on('error', (err) => this.destroy(err));
    // The peer's FIN: `pipe` ends the inflater, which still holds (or is still inflating) the
    // last bytes. A close that follows at once must not destroy this stream before they are
    // read (a reply followed by the server closing, "205 bye" then FIN, was lost that way).
    let rawEnded = false;
    raw.once('end', () => {
      rawEnded = true;
    });

    deflate.on('data', (out: Buffer) => {
      if (!raw.write(out)) {
        deflate.pause();
        raw.once('drain', () => deflate.resume());
      }
    });
    deflate.on('error', (err) => this.destroy(err));
    raw.on('error', (err) => this.destroy(err));
    raw.on('close', () => {
      if (this.destroyed) return;
      if (!rawEnded) return void this.destroy(); // reset or destroyed: nothing more will come
      // Ended cleanly: finish reading what the inflater gives, then go.
      const done = (): void => {
        if (!this.destroyed) this.destroy();
      };
      if (inflated && this.readableEnded) return done();
      this.once('end', done);
      inflate.once('close', () => {
        if (!inflated) done(); // the inflater went without an end (an error destroys us already)
      });
    });
  }

  /** The stream under the compression layer (a socket or a TLS socket). */
  get raw(): Duplex {
    return this.#raw;
  }

  override _read(): void {
    this.#pull();
  }

  #pull(): void {
    for (let chunk = this.#inflate.read() as Buffer | null; chunk !== null; chunk = this.#inflate.read() as Buffer | null) {
      if (!this.push(chunk)) return;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#deflate.write(chunk);
    this.#deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => callback());
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    for (const { chunk } of chunks) this.#deflate.write(chunk);
    this.#deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => callback());
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#deflate.once('end', () => {
      this.#raw.end(() => callback());
    });
    this.#deflate.end();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#inflate.destroy();
    this.#deflate.destroy();
    this.#raw.destroy();
    callback(err);
  }

  /** Socket-like: the address of the stream under it, for logs. */
  get remoteAddress(): string | undefined {
    return (this.#raw as Partial<{ remoteAddress: string }>).remoteAddress;
  }
  get localAddress(): string | undefined {
    return (this.#raw as Partial<{ localAddress: string }>).localAddress;
  }
  get localPort(): number | undefined {
    return (this.#raw as Partial<{ localPort: number }>).localPort;
  }
}
