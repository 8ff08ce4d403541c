import {
  AFTER_CR,
  escapeLines,
  isEmptyChunk,
  LentBuffers,
  LINE_START,
  outputBuffers,
  stateAfter,
  type Chunk,
  type Producer,
} from '@gorgon/core';

const CR = 0x0d;
const LF = 0x0a;
const END = Buffer.from('.\r\n');
const NO_BODY: Producer = { more: () => null };
/** Output buffers from the process's recycler, given back once written (`released`). */
const recycled = (size: number): Buffer => outputBuffers.take(size);

/** Raw body gathered before one escaping pass (and one write), as the core's GlobbingProducer does. */
const GLOB_BYTES = 64 * 1024;

/**
 * A whole multi-line reply from a message body of raw bytes: the status line, the body with
 * bare LF made CRLF and lines starting with '.' dot-stuffed, a line end if the body lacks a
 * final one, and ".\r\n"; the same bytes as the core's
 * `GlobbingProducer(CompositeProducer([status, LineEscapingProducer(body)]))`, made with fewer
 * copies: each gathered piece of body is escaped in one pass into one buffer sized exactly
 * (counted first), the status line written at the head of the first and the terminator at the
 * end of the last. Maildirs written by Postfix or procmail have LF line ends, so every line of
 * a message needs a CR: per line, the core's producer made a slice and Buffer.concat copied
 * them all, and the glob copied the result again (a third of RETR's CPU on 1 MiB messages).
 * @see RFC 1939 §3 (multi-line responses), §11
 */
export class MultilineReplyProducer implements Producer {
  readonly #body: Producer;
  #prefix: string | undefined;
  #atLineStart = true;
  #prevCr = false;
  #done = false;
  /** The memory of pieces handed out from `outputBuffers` and not yet written. */
  #lent: LentBuffers | undefined;

  constructor(statusLine: string, body: Producer) {
    this.#prefix = statusLine;
    this.#body = body;
  }

  /**
   * The whole reply at once for a body in memory (a small message read synchronously), as
   * the producer would send it: one buffer, pushed as plain data.
   */
  static whole(statusLine: string, body: Buffer): Buffer {
    return new MultilineReplyProducer(statusLine, NO_BODY).#escape(body, true, Buffer.allocUnsafe);
  }

  async more(): Promise<Chunk> {
    if (this.#done) return null;
    const parts: Buffer[] = [];
    let size = 0;
    let ended = false;
    while (size < GLOB_BYTES) {
      const chunk = await this.#body.more();
      if (isEmptyChunk(chunk)) {
        ended = true;
        break;
      }
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(buf);
      size += buf.length;
    }
    // A body that knows it has nothing left (a message file read to its size) ends the reply
    // in this piece: the terminator does not cost a write (and a client wake-up) of its own.
    if (!ended && (this.#body as { readonly exhausted?: boolean }).exhausted === true) ended = true;
    const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    if (ended) this.#done = true;
    const out = this.#escape(raw, ended, recycled);
    this.#lent ??= new LentBuffers();
    this.#lent.lend(out);
    // Escaping copied the body's bytes out: its producer may read into their memory again.
    const release = this.#body.released;
    if (release) for (const part of parts) release.call(this.#body, part);
    return out;
  }

  /**
   * `chunk` was written (the output FIFO calls this once the socket has taken it): its memory
   * goes back to `outputBuffers` for the next reply.
   */
  released(chunk: Buffer | string): void {
    this.#lent?.release(chunk);
  }

  /**
   * `raw` escaped (the core's `escapeLines`: bare LF made CRLF, leading dots doubled, into one
   * buffer sized exactly), after the status line if not yet sent, and with the reply's end if
   * `last`.
   */
  #escape(raw: Buffer, last: boolean, allocate: (size: number) => Buffer): Buffer {
    const len = raw.length;
    const prefix = this.#prefix;
    const head = prefix === undefined ? 0 : Buffer.byteLength(prefix);
    const endsLine = len > 0 ? raw[len - 1] === LF : this.#atLineStart;
    const tail = last ? (endsLine ? 0 : 2) + END.length : 0;
    const state = (this.#atLineStart ? LINE_START : 0) | (this.#prevCr ? AFTER_CR : 0);
    const out = escapeLines(raw, state, head, tail, allocate);
    if (prefix !== undefined) out.write(prefix, 0);
    this.#prefix = undefined;
    const after = stateAfter(raw, state);
    this.#atLineStart = (after & LINE_START) !== 0;
    this.#prevCr = (after & AFTER_CR) !== 0;
    if (last) {
      let at = out.length - tail;
      if (!endsLine) {
        out[at++] = CR;
        out[at++] = LF;
      }
      END.copy(out, at);
    }
    return out;
  }

  close(): void | Promise<void> {
    this.#done = true;
    return this.#body.close?.();
  }
}
