import { isEmptyChunk, type Chunk, type Producer } from './producers.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const DOT_BUF = Buffer.from('.');
const END = Buffer.from('.\r\n');

/** Options of {@link LineEscapingProducer}. */
export interface LineEscapingOptions {
  /** Double a leading '.' on every line (RFC 1939 §3, RFC 3977 §3.1.1). Default true. */
  dotStuff?: boolean;
  /** Send the terminating ".\r\n" after the body. Default true. */
  terminate?: boolean;
}

/**
 * Turns a message body into a multi-line response body as POP3 and NNTP send it: bare LF
 * becomes CRLF, a line starting with '.' gets one more, a body that does not end in a line end
 * gets one, and ".\r\n" closes it. Works across chunk boundaries without copying whole lines.
 * @see RFC 1939 §3, RFC 3977 §3.1.1
 */
export class LineEscapingProducer implements Producer {
  readonly #inner: Producer;
  readonly #dotStuff: boolean;
  readonly #terminate: boolean;
  #atLineStart = true;
  #prevCr = false;
  #done = false;

  constructor(inner: Producer, options: LineEscapingOptions = {}) {
    this.#inner = inner;
    this.#dotStuff = options.dotStuff ?? true;
    this.#terminate = options.terminate ?? true;
  }

  async more(): Promise<Chunk> {
    if (this.#done) return null;
    for (;;) {
      const chunk = await this.#inner.more();
      if (isEmptyChunk(chunk)) return this.#finish();
      const out = this.#escape(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (out.length > 0) return out;
    }
  }

  /** Escapes one chunk; exported behaviour is tested at every split point. */
  #escape(buf: Buffer): Buffer {
    const parts: Buffer[] = [];
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      if (this.#atLineStart) {
        if (this.#dotStuff && buf[pos] === DOT) parts.push(DOT_BUF);
        this.#atLineStart = false;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        parts.push(buf.subarray(pos));
        this.#prevCr = buf[len - 1] === CR;
        break;
      }
      const crBefore = lf > pos ? buf[lf - 1] === CR : this.#prevCr;
      if (crBefore) parts.push(buf.subarray(pos, lf + 1));
      else parts.push(buf.subarray(pos, lf), CRLF);
      pos = lf + 1;
      this.#atLineStart = true;
      this.#prevCr = false;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  #finish(): Chunk {
    this.#done = true;
    const tail: Buffer[] = [];
    if (!this.#atLineStart) tail.push(CRLF);
    if (this.#terminate) tail.push(END);
    return tail.length === 0 ? null : Buffer.concat(tail);
  }

  close(): void | Promise<void> {
    this.#done = true;
    return this.#inner.close?.();
  }
}

/**
 * The whole multi-line response at once, for a body already in memory: `prefix` (the status
 * line, with its CRLF), then the body escaped as {@link LineEscapingProducer} does it, then
 * ".\r\n", in one Buffer sized exactly. A session pushes it as plain data, so pipelined
 * replies are gathered into few writes and the next command needs no wait for a producer.
 * A body that needs no escaping (the common case) is copied once, as it is.
 * @see RFC 1939 §3, RFC 3977 §3.1.1
 */
export function escapeMultiline(body: Buffer, prefix = '', options: LineEscapingOptions = {}): Buffer {
  const dotStuff = options.dotStuff ?? true;
  const end = (options.terminate ?? true) ? END.length : 0;
  const len = body.length;
  // First pass: how many bytes escaping adds (a '.' per dot line, a CR per bare LF).
  let extra = 0;
  for (let start = 0; start < len; ) {
    if (dotStuff && body[start] === DOT) extra++;
    const lf = body.indexOf(LF, start);
    if (lf === -1) {
      extra += 2; // the missing line end
      break;
    }
    if (lf === 0 || body[lf - 1] !== CR) extra++;
    start = lf + 1;
  }
  const head = Buffer.byteLength(prefix);
  const out = Buffer.allocUnsafe(head + len + extra + end);
  let at = head > 0 ? out.write(prefix, 0) : 0;
  if (extra === 0) at += body.copy(out, at);
  else {
    // Copy runs of lines as they are, breaking only where a byte is added (a CR before a bare
    // LF, a dot before a line that starts with one): most lines cost no copy call of their own.
    let from = 0;
    if (dotStuff && body[0] === DOT) out[at++] = DOT;
    let lf = body.indexOf(LF);
    for (; lf !== -1; lf = body.indexOf(LF, lf + 1)) {
      const bare = lf === 0 || body[lf - 1] !== CR;
      const dot = dotStuff && body[lf + 1] === DOT;
      if (!bare && !dot) continue;
      if (bare) {
        at += body.copy(out, at, from, lf);
        out[at++] = CR;
        out[at++] = LF;
      } else {
        at += body.copy(out, at, from, lf + 1);
      }
      from = lf + 1;
      if (dot) out[at++] = DOT;
    }
    if (from < len) at += body.copy(out, at, from, len);
    if (len > 0 && body[len - 1] !== LF) {
      out[at++] = CR;
      out[at++] = LF;
    }
  }
  if (end > 0) END.copy(out, at);
  return out;
}

/**
 * The size a body will have on the wire after CRLF normalisation (dot-stuffing excluded), as
 * POP3's LIST and STAT report it: every bare LF counts as two octets.
 */
export function crlfLength(buf: Buffer, prevCr = false): number {
  let extra = 0;
  let pos = buf.indexOf(LF);
  while (pos !== -1) {
    const cr = pos > 0 ? buf[pos - 1] === CR : prevCr;
    if (!cr) extra++;
    pos = buf.indexOf(LF, pos + 1);
  }
  return buf.length + extra;
}
