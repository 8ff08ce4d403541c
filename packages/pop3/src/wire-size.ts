const LF = 0x0a;
const CR = 0x0d;

/**
 * Counts the octets a message takes on the wire as RETR sends it through the core's
 * LineEscapingProducer: every bare LF becomes CRLF, and a message that does not end with a
 * line end gets one. Dot-stuffing is not counted. Fed chunk by chunk, so a 100 MiB message is
 * measured while it is written, never held whole.
 * @see RFC 1939 §5 (LIST sizes), §11
 */
export class WireSizeCounter {
  #octets = 0;
  #prevCr = false;
  #last = -1;

  update(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let extra = 0;
    let pos = chunk.indexOf(LF);
    while (pos !== -1) {
      const cr = pos > 0 ? chunk[pos - 1] === CR : this.#prevCr;
      if (!cr) extra++;
      pos = chunk.indexOf(LF, pos + 1);
    }
    this.#octets += chunk.length + extra;
    this.#last = chunk[chunk.length - 1]!;
    this.#prevCr = this.#last === CR;
  }

  /** The wire size of everything fed so far. */
  get size(): number {
    return this.#last === -1 || this.#last === LF ? this.#octets : this.#octets + 2;
  }
}

/** The wire size of a whole message in memory. */
export function wireSize(message: Buffer): number {
  const counter = new WireSizeCounter();
  counter.update(message);
  return counter.size;
}
