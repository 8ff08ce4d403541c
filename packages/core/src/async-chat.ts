import type { Channel, ChannelHandler, TlsUpgradeOptions } from './channel.js';
import { DeflateStream, type DeflateStreamOptions } from './compress.js';
import { errorText } from './errors.js';
import { isTlsHandshakeFailure, logTlsFailure } from './tls-failure.js';
import { Framer, type FrameRange, type Terminator } from './framer.js';
import { OutputFifo, type FifoOwner } from './output-fifo.js';
import type { Producer } from './producers.js';

/** Input limits of an {@link AsyncChat}. */
export interface ChatLimits {
  /** Pause reading once this many received bytes wait to be dispatched. Default 64 KiB. */
  inputHighWater: number;
  /** Resume reading once queued input falls below this. Default 16 KiB. */
  inputLowWater: number;
}

/** Default input limits. */
export const defaultChatLimits: ChatLimits = { inputHighWater: 64 * 1024, inputLowWater: 16 * 1024 };

const EMPTY = Buffer.alloc(0);

/**
 * Where the framer leaves each step. One for all sessions: its fields are read into arguments
 * before any handler runs, so a handler that makes another session dispatch cannot disturb it.
 */
const range: FrameRange = { buffer: EMPTY, start: 0, end: 0 };

/** `#flags` bits. */
const BUSY = 1;
const PAUSED = 2;
const DROP_INPUT = 4;
const CLOSING = 8;
const RUNNING = 16;
/** EOF stage, two bits: 0 not seen, 1 seen, 2 last unit dispatched (handleEnd next), 3 handleEnd called. */
const EOF_SHIFT = 5;
const EOF_MASK = 3 << EOF_SHIFT;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}

/**
 * The asynchat contract over a {@link Channel}: input is cut by a terminator and handed to
 * `collectIncomingData` / `foundTerminator`; output is queued with `push` and
 * `pushWithProducer` and written in order, honouring backpressure.
 *
 * Units are dispatched strictly in order. When `foundTerminator` returns a Promise, later input
 * waits until it settles, and so it does while our output is backlogged: the peer is not
 * reading, a producer is still being drained, or more than 64 KiB of replies wait to be written
 * (a client that pipelines commands but never reads cannot make the server queue replies
 * without bound). Reading pauses once `inputHighWater` bytes are queued and resumes below
 * `inputLowWater`.
 *
 * At EOF, whatever is left of the current unit goes to `collectIncomingData`; with a `null`
 * terminator `foundTerminator` then ends that unit, as asynchat does; then `handleEnd` runs.
 * The connection is half-open meanwhile, so replies to pipelined input still go out.
 *
 * An idle session is small (idle connections are counted in thousands): the framer exists only
 * while input is queued or a byte count is being read, and the output FIFO only while output
 * is queued or being written.
 */
export abstract class AsyncChat {
  readonly channel: Channel;
  /** Cuts queued input; made when input arrives, dropped when it holds nothing. */
  #framer: Framer | undefined;
  /** The terminator while there is no framer (always a delimiter then). */
  #terminator: Terminator = '\r\n';
  /** Queued output; made by the first push, dropped once everything went out. */
  #out: OutputFifo | undefined;
  readonly #handler: ChannelHandler & FifoOwner;
  /** `defaultChatLimits` itself unless the options change them. */
  readonly #limits: ChatLimits;
  /** BUSY, PAUSED, DROP_INPUT, CLOSING, RUNNING and the EOF stage. */
  #flags = 0;

  constructor(channel: Channel, options: Partial<ChatLimits> = {}) {
    this.channel = channel;
    const { inputHighWater, inputLowWater } = options;
    this.#limits =
      inputHighWater === undefined && inputLowWater === undefined
        ? defaultChatLimits
        : {
            inputHighWater: inputHighWater ?? defaultChatLimits.inputHighWater,
            inputLowWater: inputLowWater ?? defaultChatLimits.inputLowWater,
          };
    const handler = new AsyncChat.#Handler(this);
    this.#handler = handler;
    channel.attach(handler);
  }

  /**
   * The channel's (and the FIFO's) view of a session: one object with prototype methods rather
   * than a closure per event per connection, as idle connections are counted in thousands.
   */
  static readonly #Handler = class implements ChannelHandler {
    readonly chat: AsyncChat;
    constructor(chat: AsyncChat) {
      this.chat = chat;
    }
    data(chunk: Buffer): void {
      this.chat.#onData(chunk);
    }
    end(): void {
      this.chat.#onEnd();
    }
    close(): void {
      this.chat.#onClose();
    }
    drain(): void {
      this.chat.#onDrain();
    }
    timeout(kind: 'idle' | 'total'): void {
      const chat = this.chat;
      chat.#guard(() => chat.handleTimeout(kind));
    }
    shutdown(): void {
      const chat = this.chat;
      chat.#guard(() => chat.handleShutdown());
    }
    shutdownDeadline(): void {
      const chat = this.chat;
      chat.#guard(() => chat.handleShutdownDeadline());
    }
    /** Queued output went out: dispatching may go on. */
    progress(): void {
      this.chat.#run();
    }
  };

  /** The current terminator (a byte count shows how many bytes are still expected). */
  get terminator(): Terminator {
    return this.#framer ? this.#framer.terminator : this.#terminator;
  }

  /** Sets how the next units are cut: a delimiter, a byte count, or `null` (until close). */
  setTerminator(terminator: Terminator): void {
    if (this.#framer) this.#framer.setTerminator(terminator);
    else if ((typeof terminator === 'string' || Buffer.isBuffer(terminator)) && terminator.length > 0) this.#terminator = terminator;
    else this.#framer = new Framer(terminator); // a count or null is state; a bad one throws here
  }

  /** Bytes received and not yet dispatched (bounded by about `inputHighWater` plus one read). */
  get queuedInput(): number {
    return this.#framer ? this.#framer.queued : 0;
  }

  /** True while output waits for the peer or a producer: later input is not dispatched. */
  get outputBacklogged(): boolean {
    return this.#out ? this.#out.backlogged : this.channel.needsDrain;
  }

  /** Part of the current unit, without its terminator. May be called several times per unit. */
  protected abstract collectIncomingData(data: Buffer): void;

  /**
   * The zero-copy form of `collectIncomingData`: the data is `buffer[start, end)`, a view of what
   * was received, which stays valid. The default makes a Buffer view of it and calls
   * `collectIncomingData`; a session on a hot path overrides this instead (LineSession does).
   */
  protected collectIncomingRange(buffer: Buffer, start: number, end: number): void {
    this.collectIncomingData(buffer.subarray(start, end));
  }

  /** The current unit is complete. A returned Promise holds back later input until it settles. */
  protected abstract foundTerminator(): void | Promise<void>;

  /**
   * The last part of a unit, `buffer[start, end)` (possibly empty), and its end: by default
   * `collectIncomingRange` then `foundTerminator`. A session on a hot path overrides it to
   * handle a unit that lies whole in one read in one call (LineSession does), keeping to
   * the same contract; what it returns is treated as `foundTerminator`'s result.
   */
  protected foundUnit(buffer: Buffer, start: number, end: number): void | Promise<void> {
    if (end > start) this.collectIncomingRange(buffer, start, end);
    return this.foundTerminator();
  }

  /** The connection closed (either side). Release what the session holds. */
  protected handleClose(): void {}

  /**
   * The peer sent EOF and every unit before it has been handled (with a `null` terminator,
   * `foundTerminator` has just ended the last one). By default the session closes once its
   * output is flushed; replies still go out, as the connection is half-open until then.
   */
  protected handleEnd(): void | Promise<void> {
    this.closeWhenDone();
  }

  /**
   * A handler threw or rejected. The default logs it and closes; protocols send a reply. A
   * failed TLS upgrade (`startTls`) is the peer's doing far more often than ours (a client that
   * does not trust the certificate): a warning with the reason, and the connection dropped.
   */
  protected handleError(err: unknown): void {
    this.channel.counters.errors++;
    if (isTlsHandshakeFailure(err)) {
      logTlsFailure(this.channel, err);
      this.close({ flush: false });
      return;
    }
    this.channel.log.error({ event: 'handler-error' }, errorText(err));
    this.close({ flush: true });
  }

  /** The idle or total timeout fired. Protocols override to send their reply first. */
  protected handleTimeout(_kind: 'idle' | 'total'): void {
    this.close({ flush: true });
  }

  /** The listener is shutting down. Protocols override to say goodbye first. */
  protected handleShutdown(): void {
    this.closeWhenDone();
  }

  /**
   * The shutdown's bound passed and the session is still open (its goodbye waits on a
   * transfer, or the peer does not read it). Protocols that let work finish end it here; the
   * default closes once the queued output is written.
   */
  protected handleShutdownDeadline(): void {
    this.closeWhenDone();
  }

  /** Queues data for output. Strings are sent as UTF-8. */
  push(data: Buffer | string): void {
    if (data.length > 0) this.#fifo().push(data);
  }

  /** Queues a producer; its output follows everything pushed before it. */
  pushWithProducer(producer: Producer): void {
    this.#fifo().push(producer);
  }

  /**
   * Queues output known later (a reply waiting for a read or a commit) in its place, without
   * holding later input back as a producer does: the session dispatches on, and the owner
   * bounds how many it keeps waiting. A rejected value closes the connection.
   */
  pushLater(value: Promise<Buffer | string>): void {
    this.#fifo().pushLate(value);
  }

  /**
   * Closes the connection once everything queued has been written; `last` (a goodbye, or a
   * one-reply protocol's whole answer) is queued first. With nothing else queued, `last` and
   * the close go to the stream at once, with no queue made for them.
   */
  closeWhenDone(last?: Buffer | string): void {
    if ((this.#flags & CLOSING) !== 0) return;
    if (last !== undefined && (this.#out === undefined || this.#out.disposable)) {
      this.#flags |= CLOSING | DROP_INPUT;
      if (last.length > 0) this.channel.write(last);
      this.channel.close({ flush: true });
      return;
    }
    if (last !== undefined) this.push(last);
    this.#flags |= CLOSING | DROP_INPUT;
    const out = this.#out;
    if (out) {
      // Input is dropped from here on, so nothing will join this output: write it now rather
      // than after a microtask, and the close usually follows at once (a one-reply protocol
      // such as finger pays for no extra turn and closure).
      out.writeNow();
      if (out.idle) {
        this.channel.close({ flush: true });
        return;
      }
      out.whenEmpty(() => this.channel.close({ flush: true }));
    } else this.channel.close({ flush: true });
  }

  /** Closes now; with `flush` output already handed to the stream is still delivered. */
  close(options: { flush?: boolean } = {}): void {
    this.#flags |= CLOSING | DROP_INPUT;
    if (options.flush === false) this.#out?.abort();
    this.channel.close(options);
  }

  /** True once the session asked to close or the connection closed. */
  get closing(): boolean {
    return (this.#flags & CLOSING) !== 0 || this.channel.isClosed;
  }

  /** Resolves when all output queued so far has been handed to the stream. */
  flush(): Promise<void> {
    return this.#out ? this.#out.flush() : Promise.resolve();
  }

  /** Drops input received but not yet dispatched. */
  discardInput(): void {
    this.#framer?.clear();
    this.#maybeResume();
  }

  /**
   * Upgrades the connection to TLS in place, for STLS/STARTTLS/AUTH TLS. Call it from the
   * command's handler after pushing the "go ahead" reply: that reply is flushed in plaintext,
   * every byte the client sent after the command is discarded unread (the plaintext-injection
   * attack of CVE-2011-0411), and input resumes over TLS.
   */
  async startTls(options: TlsUpgradeOptions): Promise<void> {
    this.#flags |= DROP_INPUT;
    this.#framer?.clear();
    try {
      await this.flush();
      await this.channel.upgradeToTls(options);
    } finally {
      this.#framer?.clear();
      if ((this.#flags & CLOSING) === 0) this.#flags &= ~DROP_INPUT;
      this.#maybeResume();
    }
  }

  /**
   * Puts a compression layer (`DeflateStream`) under the connection, for NNTP's COMPRESS
   * DEFLATE. A server calls it from the command's handler right after pushing the go-ahead
   * (206); a client once it has read the go-ahead. The go-ahead is flushed uncompressed; from
   * then on both directions are compressed. Input that arrived after the command line is
   * compressed data (the peer may send it as soon as it reads the go-ahead, which can be
   * before our write completes), so it is inflated, not dropped; plaintext a client pipelined
   * after COMPRESS (RFC 8054 §2.2.2 forbids it) therefore fails to inflate and closes the
   * connection: it is never executed. Dispatch is held during the switch.
   * @see RFC 8054 §2.2.2
   */
  async startCompress(options: DeflateStreamOptions = {}): Promise<void> {
    const wasBusy = (this.#flags & BUSY) !== 0;
    this.#flags |= BUSY;
    try {
      await this.flush();
      const early = this.#framer?.rest();
      this.channel.wrapStream((raw, buffered) => {
        const initial = early && buffered ? Buffer.concat([early, buffered]) : (early ?? buffered);
        return new DeflateStream(raw, { ...options, ...(initial ? { initial } : {}) });
      });
    } finally {
      if (!wasBusy) this.#flags &= ~BUSY;
      this.#maybeResume();
    }
  }

  get #eof(): number {
    return (this.#flags & EOF_MASK) >> EOF_SHIFT;
  }

  #setEof(stage: 1 | 2 | 3): void {
    this.#flags = (this.#flags & ~EOF_MASK) | (stage << EOF_SHIFT);
  }

  #fifo(): OutputFifo {
    this.#out ??= new OutputFifo(this.channel, this.#handler);
    return this.#out;
  }

  #onData(chunk: Buffer): void {
    if ((this.#flags & DROP_INPUT) !== 0) return;
    this.#framer ??= new Framer(this.#terminator);
    const framer = this.#framer;
    framer.push(chunk);
    // Bytes of a byte-count or read-to-close unit are a transfer moving: activity. Bytes of a
    // delimited unit are activity only once the unit is complete (see #run): a line that never
    // ends, trickled a byte at a time, must not keep the connection alive (slowloris).
    if (framer.counted) this.channel.touch();
    if ((this.#flags & PAUSED) === 0 && framer.queued > this.#limits.inputHighWater) {
      this.#flags |= PAUSED;
      this.channel.pause();
    }
    this.#run();
  }

  #onEnd(): void {
    if (this.#eof === 0) this.#setEof(1);
    this.#run();
  }

  #onDrain(): void {
    this.#out?.drained();
    this.#run();
  }

  #onClose(): void {
    this.#flags |= DROP_INPUT;
    this.#out?.abort();
    this.#guard(() => this.handleClose());
  }

  /** Dispatches queued input until a handler goes async, output backs up, or input runs out. */
  #run(): void {
    if ((this.#flags & (RUNNING | BUSY)) !== 0) return;
    this.#flags |= RUNNING;
    /** Units completed in this pass: one `touch()` for all of them, not a clock read each. */
    let units = 0;
    try {
      // Resumed by the FIFO's progress (drain, a producer done) or a handler settling.
      for (;;) {
        // The stream is asked once per pass: what this pass pushes reaches it only when written
        // (writeNow, below), so within the pass the FIFO's own measure is enough.
        if (this.channel.needsDrain) break;
        while ((this.#flags & (BUSY | DROP_INPUT)) === 0 && !this.#out?.full) {
          const kind = this.#framer ? this.#framer.stepInto(range) : 0;
          if (kind === 0) {
            if (this.#eof !== 0) this.#endOfInput();
            break;
          }
          if (kind === 2 && units++ === 0) this.channel.touch();
          try {
            // Read into arguments now: a handler may make another session use `range`.
            if (kind === 2) {
              const result = this.foundUnit(range.buffer, range.start, range.end);
              if (result !== undefined && isPromise(result)) {
                this.#settle(result);
                break;
              }
            } else if (range.end > range.start) this.collectIncomingRange(range.buffer, range.start, range.end);
          } catch (err) {
            this.#fail(err); // one unit failed; the session goes on with the next
          }
        }
        range.buffer = EMPTY; // do not keep the last read alive
        // The replies to everything dispatched from this read go out now, in one write, rather
        // than after the stream's own deferred work: a lock-step client gets its answer sooner.
        if (!this.#out?.writeNow()) break;
        // That write may have relieved a backlog: go on with input still queued, if any.
        if ((this.#flags & (BUSY | DROP_INPUT)) !== 0 || this.outputBacklogged || this.queuedInput === 0) break;
      }
    } finally {
      this.#flags &= ~RUNNING;
    }
    this.#maybeResume();
    this.#shed();
  }

  /** Lets go of a framer and a FIFO that hold nothing: an idle session keeps neither. */
  #shed(): void {
    const framer = this.#framer;
    if (framer?.blank) {
      this.#terminator = framer.terminator!;
      this.#framer = undefined;
    }
    if (this.#out?.disposable) this.#out = undefined;
  }

  /** EOF and no complete unit left: the partial unit, then handleEnd (once each). */
  #endOfInput(): void {
    if (this.#eof === 1) {
      this.#setEof(2);
      try {
        const rest = this.#framer?.rest();
        if (rest) this.collectIncomingRange(rest, 0, rest.length);
        if (this.terminator === null && this.#dispatch()) return;
      } catch (err) {
        this.#fail(err);
      }
    }
    if (this.#eof === 2 && (this.#flags & (BUSY | DROP_INPUT)) === 0) {
      this.#setEof(3);
      this.#settle(this.#call(() => this.handleEnd()));
    }
  }

  /** Runs foundTerminator; returns true when it went async (the loop must stop). */
  #dispatch(): boolean {
    const result = this.foundTerminator();
    if (!isPromise(result)) return false;
    this.#settle(result);
    return true;
  }

  #settle(result: unknown): void {
    if (!isPromise(result)) return;
    this.#flags |= BUSY;
    result.then(
      () => {
        this.#flags &= ~BUSY;
        this.#run();
      },
      (err: unknown) => {
        this.#flags &= ~BUSY;
        this.#fail(err);
        this.#run();
      },
    );
  }

  #call(fn: () => unknown): unknown {
    try {
      return fn();
    } catch (err) {
      this.#fail(err);
      return undefined;
    }
  }

  #guard(fn: () => unknown): void {
    const result = this.#call(fn);
    if (isPromise(result)) result.catch((err: unknown) => this.#fail(err));
  }

  #fail(err: unknown): void {
    try {
      this.handleError(err);
    } catch (again) {
      this.channel.log.error({ event: 'handler-error' }, errorText(again));
      this.channel.close({ flush: false });
    }
  }

  #maybeResume(): void {
    if ((this.#flags & PAUSED) !== 0 && this.queuedInput < this.#limits.inputLowWater && !this.channel.isClosed) {
      this.#flags &= ~PAUSED;
      this.channel.resume();
    }
  }
}
