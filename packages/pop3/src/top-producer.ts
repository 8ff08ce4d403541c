import { isEmptyChunk, type Chunk, type Producer } from '@gorgon/core';

const LF = 0x0a;
const CR = 0x0d;

/**
 * The part of a message TOP sends: the header, the blank line that ends it, and the first
 * `bodyLines` lines of the body, cut from the raw stream without reading further (the inner
 * producer is closed at the cut, so `TOP n 0` on a 100 MiB message reads one chunk). A message
 * without a blank line is all header. Escaping and the terminator are added by the caller's
 * LineEscapingProducer.
 * @see RFC 1939 §7 (TOP)
 */
export class TopProducer implements Producer {
  readonly #inner: Producer;
  #remaining: number;
  #inHeader = true;
  /** Bytes of the current line so far, its line end excluded. */
  #lineBytes = 0;
  #lastWasCr = false;
  #done = false;

  constructor(inner: Producer, bodyLines: number) {
    this.#inner = inner;
    this.#remaining = bodyLines;
  }

  async more(): Promise<Chunk> {
    if (this.#done) return null;
    const chunk = await this.#inner.more();
    if (isEmptyChunk(chunk)) {
      this.#done = true;
      return null;
    }
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const cut = this.#scan(buf);
    if (cut === -1) return buf;
    await this.close();
    return buf.subarray(0, cut);
  }

  /** Follows line ends through `buf`; returns where to cut it, or -1 to send all of it. */
  #scan(buf: Buffer): number {
    let pos = 0;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        if (buf.length > pos) {
          this.#lineBytes += buf.length - pos;
          this.#lastWasCr = buf[buf.length - 1] === CR;
        }
        return -1;
      }
      const before = this.#lineBytes + (lf - pos);
      const endsCr = lf > pos ? buf[lf - 1] === CR : this.#lastWasCr;
      const empty = before === 0 || (before === 1 && endsCr);
      this.#lineBytes = 0;
      this.#lastWasCr = false;
      pos = lf + 1;
      if (this.#inHeader) {
        if (empty) {
          this.#inHeader = false;
          if (this.#remaining === 0) return pos;
        }
      } else if (--this.#remaining <= 0) {
        return pos;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#inner.close?.();
  }
}
