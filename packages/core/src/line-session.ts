import { AsyncChat, type ChatLimits } from './async-chat.js';
import type { Channel } from './channel.js';
import { isAscii, latin1Short, SHORT_STRING } from './short-strings.js';

/** Options of a {@link LineSession}. */
export interface LineSessionOptions extends Partial<ChatLimits> {
  /** Longest accepted line in bytes, terminator excluded. Default 4096. */
  maxLineLength?: number;
  /** How lines are decoded. Default 'utf8'; 'latin1' keeps every byte as one character. */
  encoding?: BufferEncoding;
  /**
   * How much of one over-long line is read and dropped before the connection is closed
   * (`onInputFlood`). Default 1 MiB; 0 = discard up to the line end however far it is.
   */
  maxDiscardBytes?: number;
}

/** The default of {@link LineSessionOptions.maxDiscardBytes}. */
export const DEFAULT_MAX_DISCARD_BYTES = 1024 * 1024;

const CR = 0x0d;

/**
 * Node's own decoders behind `Buffer#toString` (on every Buffer since Node 0.x, though not in
 * the typings). Called directly they skip `toString`'s argument checks and encoding lookup,
 * about a third of the cost of decoding a short line.
 */
interface Slicers {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
const proto = Buffer.prototype as unknown as Partial<Slicers>;
const HAS_SLICERS = typeof proto.utf8Slice === 'function' && typeof proto.latin1Slice === 'function';

/** `#state` bits. */
const RAW = 1;
const DISCARDING = 2;
/** RAW or DISCARDING: not reading plain lines. */
const MODE = RAW | DISCARDING;
/** Lines decoded with utf8Slice / latin1Slice. */
const UTF8 = 4;
const LATIN1 = 8;

/**
 * A line-oriented session: CRLF-terminated lines (a bare LF is accepted from lenient clients),
 * each at most `maxLineLength` bytes. A longer line is reported once through `onLineTooLong`
 * as soon as the limit is passed, and the rest of it is discarded up to the next line end; its
 * tail is never taken as a command (the CVE-2008-4242 pattern).
 */
export abstract class LineSession extends AsyncChat {
  readonly maxLineLength: number;
  readonly encoding: BufferEncoding;
  readonly maxDiscardBytes: number;
  /** The line so far when it lies in one read (the usual case): a range, decoded in place. */
  #buf: Buffer | undefined;
  #start = 0;
  #end = 0;
  /** The line's pieces when it spans reads. */
  #more: Buffer[] | undefined;
  #length = 0;
  /**
   * RAW while a protocol reads bytes rather than lines; DISCARDING the rest of a long line; and
   * how lines are decoded (UTF8 or LATIN1 slicer, else `toString`), in one field: idle
   * sessions are counted in thousands.
   */
  #state = 0;

  constructor(channel: Channel, options: LineSessionOptions = {}) {
    super(channel, options);
    this.maxLineLength = options.maxLineLength ?? 4096;
    this.encoding = options.encoding ?? 'utf8';
    this.maxDiscardBytes = options.maxDiscardBytes ?? DEFAULT_MAX_DISCARD_BYTES;
    const encoding = this.encoding;
    this.#state = !HAS_SLICERS
      ? 0
      : encoding === 'utf8' || encoding === 'utf-8'
        ? UTF8
        : encoding === 'latin1' || encoding === 'binary'
          ? LATIN1
          : 0;
    this.setTerminator('\n');
  }

  /** One complete line, without its line end. */
  protected abstract onLine(line: string): void | Promise<void>;

  /**
   * A line passed `maxLineLength`. Send the protocol's error here; the session goes on with the
   * line after it unless this closes the connection.
   */
  protected onLineTooLong(): void {}

  /**
   * An over-long line went on past `maxDiscardBytes` without a line end: a flood, not a
   * mistake. The default logs a warning and drops the connection at once. Not a flushing
   * close: that reads (and drops) until the peer stops sending, and every read of a socket
   * allocates a fresh buffer in Node (a server socket cannot be given a reusable one on
   * Node 20), so a 100 MiB line would cost tens of MiB of garbage however little is kept.
   * The line's error reply went out when the line passed `maxLineLength`.
   */
  protected onInputFlood(discarded: number): void {
    this.channel.log.warn({ event: 'input-flood', discarded }, `over-long line: ${discarded} bytes without a line end; closing`);
    this.close({ flush: false });
  }

  /**
   * Raw data while a protocol has switched to a byte count or read-until-close terminator
   * (`readBytes`, `readUntilClose`); line mode resumes with `readLines`.
   */
  protected onRawData(_data: Buffer): void {}

  /**
   * The byte count of `readBytes` is complete, or the peer closed during `readUntilClose`.
   * Call `readLines()` here (before any await) to read lines again.
   */
  protected onRawEnd(): void | Promise<void> {}

  /** Switches to raw mode for `count` bytes (a literal, a fixed-size body). */
  protected readBytes(count: number): void {
    this.#state |= RAW;
    this.setTerminator(count);
  }

  /** Switches to raw mode until the peer closes its side (a body sent before a half-close). */
  protected readUntilClose(): void {
    this.#state |= RAW;
    this.setTerminator(null);
  }

  /** Back to line mode after a raw read. */
  protected readLines(): void {
    this.#state &= ~RAW;
    this.setTerminator('\n');
  }

  protected override collectIncomingData(data: Buffer): void {
    this.collectIncomingRange(data, 0, data.length);
  }

  protected override collectIncomingRange(buffer: Buffer, start: number, end: number): void {
    if ((this.#state & MODE) !== 0) {
      if ((this.#state & RAW) !== 0) this.onRawData(buffer.subarray(start, end));
      else {
        this.#length += end - start;
        if (this.#length > this.maxDiscardBytes && this.maxDiscardBytes > 0) this.onInputFlood(this.#length);
      }
      return; // RAW, or DISCARDING a long line
    }
    this.#length += end - start;
    // The CR of a CRLF may sit at the end of the limit: allow for it.
    if (this.#length > this.maxLineLength + 1) {
      this.#buf = undefined;
      this.#more = undefined;
      // From here #length counts what is discarded, for maxDiscardBytes.
      this.#state |= DISCARDING;
      this.onLineTooLong();
      return;
    }
    if (this.#buf === undefined && this.#more === undefined) {
      this.#buf = buffer;
      this.#start = start;
      this.#end = end;
      return;
    }
    if (this.#more === undefined) {
      this.#more = [this.#buf!.subarray(this.#start, this.#end)];
      this.#buf = undefined;
    }
    this.#more.push(buffer.subarray(start, end));
  }

  /** A line that lies whole in one read, with nothing collected before it: one call, no state. */
  protected override foundUnit(buffer: Buffer, start: number, end: number): void | Promise<void> {
    const state = this.#state;
    if ((state & MODE) !== 0 || this.#buf !== undefined || this.#more !== undefined) return super.foundUnit(buffer, start, end);
    // As collectIncomingRange + foundTerminator would: the CR of a CRLF is not part of the
    // line, and a longer line than the limit is reported once and not taken as a command.
    const last = end > start && buffer[end - 1] === CR ? end - 1 : end;
    if (last - start > this.maxLineLength) {
      this.onLineTooLong();
      return undefined;
    }
    this.channel.counters.commands++;
    const short = last - start <= SHORT_STRING;
    const line =
      (state & UTF8) !== 0
        ? short && isAscii(buffer, start, last)
          ? latin1Short(buffer, start, last)
          : (buffer as unknown as Slicers).utf8Slice(start, last)
        : (state & LATIN1) !== 0
          ? short
            ? latin1Short(buffer, start, last)
            : (buffer as unknown as Slicers).latin1Slice(start, last)
          : buffer.toString(this.encoding, start, last);
    return this.onLine(line);
  }

  protected override foundTerminator(): void | Promise<void> {
    if ((this.#state & RAW) !== 0) return this.onRawEnd();
    if ((this.#state & DISCARDING) !== 0) {
      this.#state &= ~DISCARDING;
      this.#length = 0;
      return undefined;
    }
    let buf = this.#buf;
    let start = this.#start;
    let end = this.#end;
    if (this.#more) {
      buf = Buffer.concat(this.#more, this.#length);
      start = 0;
      end = buf.length;
    }
    this.#buf = undefined;
    this.#more = undefined;
    this.#length = 0;
    if (buf === undefined) start = end = 0;
    else if (end > start && buf[end - 1] === CR) end--;
    if (end - start > this.maxLineLength) {
      this.onLineTooLong();
      return undefined;
    }
    this.channel.counters.commands++;
    if (buf === undefined) return this.onLine('');
    const state = this.#state;
    const line =
      (state & UTF8) !== 0
        ? (buf as unknown as Slicers).utf8Slice(start, end)
        : (state & LATIN1) !== 0
          ? (buf as unknown as Slicers).latin1Slice(start, end)
          : buf.toString(this.encoding, start, end);
    return this.onLine(line);
  }
}
