import { CoreError } from './errors.js';

/**
 * How input is cut into units (asynchat's terminator): a delimiter (string or Buffer), a byte
 * count, or `null` to read until the connection closes.
 */
export type Terminator = string | Buffer | number | null;

/** What one framing step found: data for `collectIncomingData`, and whether the unit ended. */
export interface FrameStep {
  data: Buffer | undefined;
  found: boolean;
}

/** Where {@link Framer.stepInto} puts the bytes of a step: `buffer[start, end)`, maybe empty. */
export interface FrameRange {
  buffer: Buffer;
  start: number;
  end: number;
}

/** What {@link Framer.stepInto} found: 0 more input needed, 1 part of a unit, 2 a unit's end. */
export type FrameStepKind = 0 | 1 | 2;

const EMPTY = Buffer.alloc(0);

/**
 * Delimiters given as strings are shared Buffers: a connection need not own a copy of CRLF. An
 * interning table, not state: each value is determined by its key and never written, and it is
 * bounded (64 entries; other delimiters get a Buffer of their own).
 */
const delimiters = new Map<string, Buffer>();
function delimiterBuffer(text: string): Buffer {
  let buf = delimiters.get(text);
  if (!buf) {
    buf = Buffer.from(text);
    if (delimiters.size < 64) delimiters.set(text, buf);
  }
  return buf;
}

/** Lines up to this long (without the LF) are looked for byte by byte; see Framer.#shortLines. */
const SHORT_LINE = 32;

/**
 * The framing half of asynchat, apart from any socket: bytes go in with `push`, and `step`
 * hands out what the current terminator allows. The terminator may change between steps (a
 * command that switches to a byte count), so nothing is cut ahead of time.
 *
 * Only the unmatched tail of a delimiter is kept back (the longest suffix that could begin the
 * delimiter), so a delimiter split across reads still matches and nothing is buffered without
 * bound while a unit is being collected. Reads are searched where they lie: bytes are copied
 * only to join such a tail to the next read, never to re-join a backlog of pipelined input.
 */
export class Framer {
  /** Reads not yet reached; `#chunks[#head]` is the next. */
  #chunks: Array<Buffer | undefined> = [];
  #head = 0;
  /** The read being cut, from `#offset`. */
  #buffer: Buffer = EMPTY;
  #offset = 0;
  #queued = 0;
  #delimiter: Buffer | undefined;
  /** A one-byte delimiter (LF) as a number: searching for a number is several times faster. */
  #byte = -1;
  /**
   * Whether the last line found was short (at most {@link SHORT_LINE} bytes): the next is then
   * looked for with a loop here first, as command lines are short; after a long line (a body,
   * a header) the search goes straight to indexOf.
   */
  #shortLines = true;
  #remaining = 0;
  #mode: 'delimiter' | 'count' | 'close' = 'delimiter';
  /** A byte count that has been reached reads like asynchat's terminator 0: everything. */
  #countDone = false;
  #terminator: Terminator = '\r\n';
  /** step()'s own range, so step() allocates only what it returns. */
  #scratch: FrameRange | undefined;

  constructor(terminator: Terminator = '\r\n') {
    this.setTerminator(terminator);
  }

  /** The current terminator; a byte count shows what is still to come. */
  get terminator(): Terminator {
    return this.#mode === 'count' ? this.#remaining : this.#terminator;
  }

  /**
   * Sets how the next units are cut. Throws a `bad-terminator` CoreError, leaving the current
   * terminator in place, for a negative or fractional count or an empty delimiter.
   */
  setTerminator(terminator: Terminator): void {
    if (terminator === null) {
      this.#mode = 'close';
      this.#delimiter = undefined;
      this.#byte = -1;
    } else if (typeof terminator === 'number') {
      if (!Number.isSafeInteger(terminator) || terminator < 0) {
        throw new CoreError('bad-terminator', `byte count must be a non-negative integer, got ${terminator}`);
      }
      this.#mode = 'count';
      this.#remaining = terminator;
      this.#delimiter = undefined;
      this.#byte = -1;
    } else {
      const delimiter = typeof terminator === 'string' ? delimiterBuffer(terminator) : terminator;
      if (delimiter.length === 0) throw new CoreError('bad-terminator', 'an empty delimiter never matches');
      this.#mode = 'delimiter';
      this.#delimiter = delimiter;
      this.#byte = delimiter.length === 1 ? delimiter[0]! : -1;
    }
    this.#terminator = terminator;
    this.#countDone = false;
  }

  /** True while the terminator is a byte count or `null`: units not cut by a delimiter. */
  get counted(): boolean {
    return this.#mode !== 'delimiter';
  }

  /** Bytes received and not yet handed out. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * True when this framer holds nothing a fresh one with the same terminator would not: no
   * input queued and a delimiter terminator (a byte count is state: bytes still expected).
   */
  get blank(): boolean {
    return this.#queued === 0 && this.#mode === 'delimiter';
  }

  /** Queues received bytes; nothing is cut until `step`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#queued === 0) {
      // Nothing queued (so no read waits in #chunks): this read is the one to cut, at once.
      this.#buffer = chunk;
      this.#offset = 0;
    } else this.#chunks.push(chunk);
    this.#queued += chunk.length;
  }

  /** Drops everything queued (plaintext pipelined before a TLS upgrade). */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#buffer = EMPTY;
    this.#offset = 0;
    this.#queued = 0;
  }

  /**
   * Takes out everything still queued as plain data that ends no unit: at EOF, the partial
   * delimiter held back (a last line without its line end). `undefined` when nothing is left.
   */
  rest(): Buffer | undefined {
    if (this.#queued === 0) return undefined;
    const parts: Buffer[] = [];
    if (this.#offset < this.#buffer.length) parts.push(this.#buffer.subarray(this.#offset));
    for (let i = this.#head; i < this.#chunks.length; i++) parts.push(this.#chunks[i]!);
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.#queued);
    this.clear();
    return out;
  }

  /**
   * The next step, or `undefined` when more input is needed. A step with `found` ends one unit;
   * a step without it carries part of a unit that is still being collected.
   */
  step(): FrameStep | undefined {
    this.#scratch ??= { buffer: EMPTY, start: 0, end: 0 };
    const range = this.#scratch;
    const kind = this.stepInto(range);
    if (kind === 0) return undefined;
    const data = range.end > range.start ? range.buffer.subarray(range.start, range.end) : undefined;
    range.buffer = EMPTY;
    return { data, found: kind === 2 };
  }

  /**
   * The allocation-free form of {@link step}: the step's bytes are left in `range` (a view of
   * the received data, valid until the caller lets go of it), and the kind of step returned.
   */
  stepInto(range: FrameRange): FrameStepKind {
    // The common case first: a one-byte delimiter (LF) found in the read being cut.
    const byte = this.#byte;
    if (byte >= 0) {
      const buf = this.#buffer;
      const start = this.#offset;
      const length = buf.length;
      let index: number;
      if (this.#shortLines) {
        // A call into C++ (indexOf) costs about as much as reading 30-odd bytes here.
        const stop = Math.min(start + SHORT_LINE, length);
        index = start;
        while (index < stop && buf[index] !== byte) index++;
        if (index === stop) {
          index = stop < length ? buf.indexOf(byte, stop) : -1;
          if (index !== -1) this.#shortLines = false;
        }
      } else {
        index = start < length ? buf.indexOf(byte, start) : -1;
        if (index !== -1 && index - start <= SHORT_LINE) this.#shortLines = true;
      }
      if (index !== -1) {
        range.buffer = buf;
        range.start = start;
        range.end = index;
        this.#advance(index + 1);
        return 2;
      }
    }
    for (;;) {
      if (this.#queued === 0) {
        // A zero-byte count is complete without input.
        if (this.#mode === 'count' && this.#remaining === 0 && !this.#countDone) {
          this.#countDone = true;
          range.buffer = EMPTY;
          range.start = range.end = 0;
          return 2;
        }
        return 0;
      }
      if (this.#offset >= this.#buffer.length) this.#nextChunk();
      const buf = this.#buffer;
      const start = this.#offset;
      switch (this.#mode) {
        case 'close':
          return this.#take(range, buf.length, 1);
        case 'count': {
          if (this.#countDone) return this.#take(range, buf.length, 1);
          const available = buf.length - start;
          if (available >= this.#remaining) {
            const kind = this.#take(range, start + this.#remaining, 2);
            this.#remaining = 0;
            this.#countDone = true;
            return kind;
          }
          this.#remaining -= available;
          return this.#take(range, buf.length, 1);
        }
        case 'delimiter': {
          const delimiter = this.#delimiter!;
          const index = this.#byte >= 0 ? buf.indexOf(this.#byte, start) : buf.indexOf(delimiter, start);
          if (index !== -1) {
            range.buffer = buf;
            range.start = start;
            range.end = index;
            this.#advance(index + delimiter.length);
            return 2;
          }
          const end = buf.length - partialSuffix(buf, start, delimiter);
          if (end > start) return this.#take(range, end, 1);
          // Only the start of a delimiter is left here: join it to the next read, if any.
          if (this.#head >= this.#chunks.length) return 0;
          const tail = buf.subarray(start);
          const next = this.#shift();
          this.#buffer = Buffer.concat([tail, next], tail.length + next.length);
          this.#offset = 0;
        }
      }
    }
  }

  #take(range: FrameRange, end: number, kind: 1 | 2): FrameStepKind {
    range.buffer = this.#buffer;
    range.start = this.#offset;
    range.end = end;
    this.#advance(end);
    return kind;
  }

  #advance(to: number): void {
    this.#queued -= to - this.#offset;
    this.#offset = to;
    if (to >= this.#buffer.length) {
      this.#buffer = EMPTY;
      this.#offset = 0;
    }
  }

  /** Makes the next read the one being cut (the current one is used up). */
  #nextChunk(): void {
    this.#buffer = this.#shift();
    this.#offset = 0;
  }

  #shift(): Buffer {
    const chunk = this.#chunks[this.#head]!;
    this.#chunks[this.#head++] = undefined;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    }
    return chunk;
  }
}

/** Length of the longest suffix of buf[start..] that is a proper prefix of the delimiter. */
function partialSuffix(buf: Buffer, start: number, delimiter: Buffer): number {
  const max = Math.min(delimiter.length - 1, buf.length - start);
  for (let n = max; n > 0; n--) {
    if (buf.compare(delimiter, 0, n, buf.length - n, buf.length) === 0) return n;
  }
  return 0;
}
