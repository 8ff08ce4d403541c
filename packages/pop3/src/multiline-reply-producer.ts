import { isEmptyChunk, type Chunk, type Producer } from '@gorgon/core';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const END = Buffer.from('.\r\n');
const NO_BODY: Producer = { more: () => null };

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

  constructor(statusLine: string, body: Producer) {
    this.#prefix = statusLine;
    this.#body = body;
  }

  /**
   * The whole reply at once for a body in memory (a small message read synchronously), as
   * the producer would send it: one buffer, pushed as plain data.
   */
  static whole(statusLine: string, body: Buffer): Buffer {
    return new MultilineReplyProducer(statusLine, NO_BODY).#escape(body, true);
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
    return this.#escape(raw, ended);
  }

  /** `raw` escaped, after the status line if not yet sent, and with the reply's end if `last`. */
  #escape(raw: Buffer, last: boolean): Buffer {
    const len = raw.length;
    const head = this.#prefix === undefined ? 0 : Buffer.byteLength(this.#prefix);
    const endsLine = len > 0 ? raw[len - 1] === LF : this.#atLineStart;
    const tail = last ? (endsLine ? 0 : 2) + END.length : 0;
    // One pass, into a buffer with room for one added byte per 16 (mail lines are longer than
    // that); only when that is not enough, the added bytes are counted first and sized exactly.
    let out = this.#escapeInto(raw, Buffer.allocUnsafe(head + len + (len >> 4) + 8 + tail), head, tail);
    if (!out) {
      let extra = 0;
      if (len > 0 && this.#atLineStart && raw[0] === DOT) extra++;
      for (let lf = raw.indexOf(LF); lf !== -1; lf = raw.indexOf(LF, lf + 1)) {
        if (lf === 0 ? !this.#prevCr : raw[lf - 1] !== CR) extra++;
        if (lf + 1 < len && raw[lf + 1] === DOT) extra++;
      }
      out = this.#escapeInto(raw, Buffer.allocUnsafe(head + len + extra + tail), head, tail)!;
    }
    this.#prefix = undefined;
    if (len > 0) {
      this.#atLineStart = endsLine;
      this.#prevCr = raw[len - 1] === CR;
    }
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

  /**
   * The status line (if not yet sent) and `raw` escaped into `out`, leaving `tail` bytes at the
   * end; undefined when `out` has too little room. Runs of lines that need nothing are copied
   * as they are; a copy breaks only where a byte is added. The state is not changed.
   */
  #escapeInto(raw: Buffer, out: Buffer, head: number, tail: number): Buffer | undefined {
    const len = raw.length;
    const room = out.length - head - len - tail;
    let added = 0;
    let at = head > 0 ? out.write(this.#prefix!, 0) : 0;
    let from = 0;
    if (len > 0 && this.#atLineStart && raw[0] === DOT) {
      if (room < 1) return undefined;
      out[at++] = DOT;
      added++;
    }
    for (let lf = raw.indexOf(LF); lf !== -1; lf = raw.indexOf(LF, lf + 1)) {
      const bare = lf === 0 ? !this.#prevCr : raw[lf - 1] !== CR;
      const dot = lf + 1 < len && raw[lf + 1] === DOT;
      if (!bare && !dot) continue;
      if (added + (bare ? 1 : 0) + (dot ? 1 : 0) > room) return undefined;
      if (bare) {
        at += raw.copy(out, at, from, lf);
        out[at++] = CR;
        out[at++] = LF;
        added++;
      } else at += raw.copy(out, at, from, lf + 1);
      from = lf + 1;
      if (dot) {
        out[at++] = DOT;
        added++;
      }
    }
    if (from < len) at += raw.copy(out, at, from, len);
    const end = at + tail;
    return end === out.length ? out : out.subarray(0, end);
  }

  close(): void | Promise<void> {
    this.#done = true;
    return this.#body.close?.();
  }
}
