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

  /**
   * `raw` escaped, after the status line if not yet sent, and with the reply's end if `last`:
   * the added bytes are counted first (a CR for each bare LF, a dot for each line starting with
   * one), the buffer is sized exactly, `raw` is copied once to its end part, and the lines that
   * need a byte are moved left into place with `copyWithin` (memmove, no view allocated per
   * line, as `Buffer.copy` of a slice does: that was a third of RETR's CPU on LF Maildirs).
   */
  #escape(raw: Buffer, last: boolean): Buffer {
    const len = raw.length;
    const prefix = this.#prefix;
    const head = prefix === undefined ? 0 : Buffer.byteLength(prefix);
    const endsLine = len > 0 ? raw[len - 1] === LF : this.#atLineStart;
    const tail = last ? (endsLine ? 0 : 2) + END.length : 0;
    const leadingDot = len > 0 && this.#atLineStart && raw[0] === DOT;
    let extra = leadingDot ? 1 : 0;
    for (let lf = raw.indexOf(LF); lf !== -1; lf = raw.indexOf(LF, lf + 1)) {
      if (lf === 0 ? !this.#prevCr : raw[lf - 1] !== CR) extra++;
      if (lf + 1 < len && raw[lf + 1] === DOT) extra++;
    }
    const out = Buffer.allocUnsafe(head + len + extra + tail);
    if (prefix !== undefined) out.write(prefix, 0);
    // The raw bytes go to [base, base + len); each line then moves left by the bytes added
    // before it. The tests read `raw`, never `out`, whose front is being overwritten.
    const base = head + extra;
    raw.copy(out, base);
    let at = head;
    let from = base;
    if (leadingDot) out[at++] = DOT;
    if (extra > (leadingDot ? 1 : 0)) {
      for (let lf = raw.indexOf(LF); lf !== -1; lf = raw.indexOf(LF, lf + 1)) {
        const bare = lf === 0 ? !this.#prevCr : raw[lf - 1] !== CR;
        const dot = lf + 1 < len && raw[lf + 1] === DOT;
        if (!bare && !dot) continue;
        const stop = base + (bare ? lf : lf + 1);
        if (at !== from) out.copyWithin(at, from, stop);
        at += stop - from;
        if (bare) {
          out[at++] = CR;
          out[at++] = LF;
        }
        from = base + lf + 1;
        if (dot) out[at++] = DOT;
      }
    }
    const end = base + len;
    if (from < end && at !== from) out.copyWithin(at, from, end);
    at += end - from;
    this.#prefix = undefined;
    if (len > 0) {
      this.#atLineStart = endsLine;
      this.#prevCr = raw[len - 1] === CR;
    }
    if (last) {
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
