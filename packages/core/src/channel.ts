import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { createCounters, type Counters } from './counters.js';
import { CoreError, errorText } from './errors.js';
import { logsAt, silentLogger, type Logger } from './logger.js';
import { Loop, tickForTimeouts } from './loop.js';
import { wrapInTls, type TlsUpgradeOptions } from './tls.js';

export type { TlsUpgradeOptions } from './tls.js';

/** What a channel tells its owner (an AsyncChat) about the connection. */
export interface ChannelHandler {
  /** Bytes arrived. */
  data(chunk: Buffer): void;
  /** The peer finished sending (EOF). */
  end(): void;
  /** The connection is gone; called once. */
  close(error?: Error): void;
  /** The peer read enough of our output that we may write again. */
  drain(): void;
  /** A timeout fired: the handler sends the protocol's reply and closes. */
  timeout(kind: 'idle' | 'total'): void;
  /** The listener is shutting down: the handler says the protocol's goodbye and closes. */
  shutdown(): void;
  /**
   * The shutdown's bound passed and the connection is still open (a transfer still running):
   * the handler ends what it waited for (FTP: 426 and 421), at once. Optional.
   */
  shutdownDeadline?(): void;
}

/** Options of a {@link Channel}. */
export interface ChannelOptions {
  /** Connection id that appears on every log line. Default: a per-loop counter. */
  id?: string;
  logger?: Logger;
  /**
   * Close after this long without activity: a complete unit of input (its owner calls
   * `touch()`), output progress, or `touch()` by a session whose work happens elsewhere. Bytes
   * that complete nothing are not activity. 0 = never (default).
   */
  idleTimeoutMs?: number;
  /** Close after this long in all. 0 = never (default). */
  totalTimeoutMs?: number;
  /**
   * After `close()` with flush, destroy if the peer has not taken our output (and closed its
   * side) by then. Also the grace a session gets to close after a timeout. Default 10 s.
   */
  closeTimeoutMs?: number;
  /** The real client address when a trusted PROXY header gave one. */
  remoteAddress?: string;
  remotePort?: number;
  /** Counters shared with the listener. */
  counters?: Counters;
  /** The loop that sweeps this channel's timeouts. Default: a private one. */
  loop?: Loop;
  /** Called once when the connection is gone: cheaper than a promise per connection. */
  onClose?: (channel: Channel) => void;
  /** Set TCP_NODELAY on TCP sockets. Default true: lock-step exchanges stall ~40 ms without it. */
  noDelay?: boolean;
  /** Called when an `upgradeToTls` handshake ended, with whether it succeeded. */
  onTls?: (channel: Channel, kind: 'upgrade', ok: boolean) => void;
}

/**
 * Serial numbers of channels made outside a listener (no listener serial, no `id` given):
 * process-wide so that such ids never repeat within the process's logs. Only a counter.
 */
let fallbackIds = 0;

/**
 * What every channel of one listener has in common, held once and referenced by each channel:
 * seven fields per connection become one (idle connections are counted in thousands).
 */
export interface ChannelSettings {
  readonly logger: Logger;
  readonly counters: Counters;
  readonly loop: Loop;
  readonly idleTimeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly onClose: ((channel: Channel) => void) | undefined;
  readonly noDelay: boolean;
  readonly onTls: ((channel: Channel, kind: 'upgrade', ok: boolean) => void) | undefined;
  /** Ids given as serial numbers are `${idPrefix}-${serial in base 36}`. */
  readonly idPrefix: string;
}

/** The settings `options` describe; the listener makes them once for all its channels. */
export function channelSettings(options: ChannelOptions, idPrefix = 'c'): ChannelSettings {
  const closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
  return {
    logger: options.logger ?? silentLogger,
    counters: options.counters ?? createCounters(),
    loop: options.loop ?? new Loop({ tickMs: tickForTimeouts(options.idleTimeoutMs, options.totalTimeoutMs, closeTimeoutMs) }),
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    totalTimeoutMs: options.totalTimeoutMs ?? 0,
    closeTimeoutMs,
    onClose: options.onClose,
    noDelay: options.noDelay !== false,
    onTls: options.onTls,
    idPrefix,
  };
}

/**
 * Internal: how the listener gives a channel shared settings and a serial number (the id is
 * formatted only when asked for) instead of per-connection options. Not part of the API.
 */
export const kSettings = Symbol('gorgon.channel.settings');
export const kSerial = Symbol('gorgon.channel.serial');
/** Internal: the peer's address is asked of the socket on first use, not at construction. */
export const kLazyPeer = Symbol('gorgon.channel.lazyPeer');
export interface ListenerChannelOptions extends ChannelOptions {
  [kSettings]: ChannelSettings;
  [kSerial]: number;
  [kLazyPeer]?: true;
}

/** The channel that owns a stream: lets one set of listener functions serve every connection. */
const kChannel = Symbol('gorgon.channel');
type Owned = Duplex & { [kChannel]?: Channel };

/**
 * Times are kept as 32-bit ms counts since this module loaded, wrapping every 49.7 days: small
 * integers (Smis) stored in the object, where a Date.now() value would be a separate 16-byte
 * heap number per field. Intervals are taken with `since`, which is exact for any interval
 * under 24.8 days (2^31 ms), longer than any timeout worth setting.
 */
const EPOCH = Date.now();
function clock(now = Date.now()): number {
  return (now - EPOCH) | 0;
}
function since(then: number, at: number): number {
  return (at - then) | 0;
}

/** `#flags` bits: six booleans in one field. */
const SECURE = 1;
const CLOSED = 2;
/** close() with flush was called: FIN sent, waiting for the peer's. */
const ENDED = 4;
/** The data/end/drain listeners are bound. */
const ATTACHED = 8;
/**
 * A TLS handshake is under way (implicit TLS, or `upgradeToTls`): its failure is reported by
 * whoever started it, with the reason (the listener, or the session's `startTls` caller), so
 * the stream's error is not logged again here.
 */
const HANDSHAKING = 16;
/**
 * The `drain` listener is bound to the stream. A channel attached for output only (`attach(handler,
 * { input: false })`) binds it at once; any other binds it only once a write returns false (the
 * only time the stream emits `drain`): most connections never fill the kernel's buffer, and idle
 * ones are counted in thousands.
 */
const DRAIN_BOUND = 32;

/** Channel state that most connections never need, made on first use. */
interface ChannelExtra {
  log: Logger | undefined;
  closedPromise: Promise<void> | undefined;
  resolveClosed: (() => void) | undefined;
  local: { address: string; port: number } | undefined;
  /** When the handler was told of a timeout (clock()); it has `closeTimeoutMs` to close. */
  timedOutAt: number | undefined;
  timedOutKind: 'idle' | 'total' | undefined;
}

/**
 * One connection: a byte stream (TCP socket, TLS socket, Unix socket, pipe, or the in-memory
 * pair), its addresses, timeouts, counters and logger. The asyncore dispatcher of the design,
 * reduced to what a Duplex needs on top of Node's own events.
 *
 * Its fields are few on purpose: what a listener's channels share lives in one settings object,
 * rare state (timeouts fired, the closed promise, the logger) in an object made on first use.
 */
export class Channel {
  /** The peer's address and port; undefined until asked when the listener made it lazy. */
  #remoteAddress: string | undefined;
  #remotePort = 0;
  /** Bytes received and sent on this connection. */
  bytesIn = 0;
  bytesOut = 0;
  /** A string id, or a serial number formatted with the listener's prefix when asked for. */
  readonly #id: string | number;
  readonly #settings: ChannelSettings;
  #stream: Duplex;
  #handler: ChannelHandler | undefined;
  #flags = 0;
  /** clock() when the connection was made. */
  readonly #openedAt = clock();
  /**
   * clock() at the last activity: a complete unit (`touch()`) or output progress. Once a
   * flushing close began (ENDED), when it began: the loop destroys the stream `closeTimeoutMs`
   * later, and activity no longer moves it.
   */
  #lastActivity = this.#openedAt;
  #extra: ChannelExtra | undefined;
  /**
   * Stream listeners shared by every channel: `this` is the stream, which carries its channel,
   * so a connection costs no closures here (idle connections are counted in thousands).
   */
  static readonly #listeners = {
    data(this: Owned, chunk: Buffer): void {
      const channel = this[kChannel];
      if (channel) channel.#onData(chunk);
    },
    end(this: Owned): void {
      const channel = this[kChannel];
      if (channel) channel.#handler?.end();
    },
    close(this: Owned): void {
      const channel = this[kChannel];
      if (channel) channel.#onClose();
    },
    error(this: Owned, err: Error): void {
      const channel = this[kChannel];
      if (channel) channel.#onError(err);
    },
    drain(this: Owned): void {
      const channel = this[kChannel];
      if (!channel) return;
      channel.#active();
      channel.#handler?.drain();
    },
    secure(this: Owned): void {
      const channel = this[kChannel];
      if (channel) channel.#flags &= ~HANDSHAKING;
    },
  };

  constructor(stream: Duplex, options: ChannelOptions = {}) {
    this.#stream = stream;
    const socket = stream as Partial<tls.TLSSocket>;
    if (socket.encrypted === true) {
      // Implicit TLS: a server-side TLSSocket whose handshake has not happened yet.
      this.#flags = SECURE | HANDSHAKING;
      stream.once('secure', Channel.#listeners.secure);
    }
    const internal = options as Partial<ListenerChannelOptions>;
    if (options.remoteAddress !== undefined) {
      this.#remoteAddress = options.remoteAddress;
      this.#remotePort = options.remotePort ?? 0;
    } else if (internal[kLazyPeer] !== true) this.#askPeer();
    const settings = internal[kSettings] ?? channelSettings(options);
    this.#settings = settings;
    this.#id = options.id ?? internal[kSerial] ?? `c${(++fallbackIds).toString(36)}`;
    (stream as Owned)[kChannel] = this;
    if (settings.noDelay && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    // Input waits in the stream until an owner attaches; only close and error are watched now.
    stream.on('close', Channel.#listeners.close);
    stream.on('error', Channel.#listeners.error);
    if (stream.destroyed) queueMicrotask(() => this.#onClose());
    settings.loop.add(this);
  }

  /** Connection id, on every log line ("pop3-1a"). */
  get id(): string {
    const id = this.#id;
    return typeof id === 'string' ? id : `${this.#settings.idPrefix}-${id.toString(36)}`;
  }

  /**
   * The client's address: from a trusted PROXY header, else the socket's; "local" for pipes and
   * the memory pair. A listener that needs it for nothing at accept (no per-address limit, no
   * PROXY header, no logger or event that records it) asks the socket on first use, saving a
   * system call per connection; asked first after the socket closed, it is "unknown".
   */
  get remoteAddress(): string {
    if (this.#remoteAddress === undefined) this.#askPeer();
    return this.#remoteAddress!;
  }

  get remotePort(): number {
    if (this.#remoteAddress === undefined) this.#askPeer();
    return this.#remotePort;
  }

  #askPeer(): void {
    const socket = this.#stream as Partial<net.Socket>;
    const address = normaliseAddress(socket.remoteAddress);
    this.#remoteAddress = address ?? (typeof socket.setNoDelay === 'function' && socket.destroyed ? 'unknown' : 'local');
    this.#remotePort = socket.remotePort ?? 0;
    // Node's cached copy (an object and a string per socket) is made again if anything asks.
    (socket as { _peername?: unknown })._peername = undefined;
  }

  /**
   * Whether this connection's logger keeps lines of `level`, asked of the listener's logger:
   * a hot path checks it before building a line, and before `log` makes the connection's child
   * logger (an object, its bindings and the id's text) for a line that would be dropped.
   */
  logs(level: 'debug' | 'info' | 'warn' | 'error'): boolean {
    return logsAt(this.#settings.logger, level);
  }

  /** This connection's logger: every line carries `conn` and `remote`. Made on first use. */
  get log(): Logger {
    const logger = this.#settings.logger;
    // The silent logger's children are itself: no need to remember one per connection.
    if (logger === silentLogger) return logger;
    const extra = this.#more();
    extra.log ??= logger.child({ conn: this.id, remote: this.remoteAddress });
    return extra.log;
  }

  /** When the connection was made (ms since the epoch): the total timeout counts from here. */
  get openedAt(): number {
    const now = Date.now();
    return now - since(this.#openedAt, clock(now));
  }

  /** The loop that sweeps this channel: a channel made for the same connection's work can share it. */
  get loop(): Loop {
    return this.#settings.loop;
  }

  /** Counters shared with the listener (or this channel's own). */
  get counters(): Counters {
    return this.#settings.counters;
  }

  /** The stream now carrying the connection (a TLSSocket after an upgrade). */
  get stream(): Duplex {
    return this.#stream;
  }

  /** True once the connection is encrypted (implicit TLS, or after `upgradeToTls`). */
  get secure(): boolean {
    return (this.#flags & SECURE) !== 0;
  }

  /** True once the stream has closed; no event follows. */
  get isClosed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }

  /** Resolves when the connection is fully closed. */
  get closed(): Promise<void> {
    const extra = this.#more();
    extra.closedPromise ??= this.isClosed ? Promise.resolve() : new Promise((resolve) => (extra.resolveClosed = resolve));
    return extra.closedPromise;
  }

  /** Our address on this connection ("local" for pipes); asked of the socket on first use. */
  get localAddress(): string {
    const extra = this.#more();
    extra.local ??= this.#localInfo();
    return extra.local.address;
  }

  get localPort(): number {
    const extra = this.#more();
    extra.local ??= this.#localInfo();
    return extra.local.port;
  }

  /** True while the stream's buffer is above its high-water mark: wait for `drain`. */
  get needsDrain(): boolean {
    return this.#stream.writableNeedDrain;
  }

  /** Bytes accepted by `write` and not yet handed to the kernel. */
  get writableLength(): number {
    return this.#stream.writableLength;
  }

  /** True while output can still be written: not closed, and `close()` not yet called. */
  get writable(): boolean {
    return (this.#flags & (CLOSED | ENDED)) === 0 && this.#stream.writable;
  }

  /**
   * Sets the owner that receives this channel's events. Input received so far waits in the
   * stream and flows from here on; a later call only replaces the owner. With `input: false`
   * only output events (`drain`, `close`) reach the owner and the input is left unread.
   */
  attach(handler: ChannelHandler, options: { input?: boolean } = {}): void {
    this.#handler = handler;
    if ((this.#flags & (ATTACHED | CLOSED)) !== 0) return;
    if (options.input === false) {
      // A connection that only carries output (an FTP download's data connection): its
      // input is not read, so a peer's early FIN cannot end our side under a transfer.
      if ((this.#flags & DRAIN_BOUND) === 0) this.#stream.on('drain', Channel.#listeners.drain);
      this.#flags |= DRAIN_BOUND;
      return;
    }
    this.#flags |= ATTACHED;
    this.#bindFlow(this.#stream);
    this.#stream.resume();
  }

  /**
   * Counts as activity for the idle timeout. Received bytes alone are not activity (a peer
   * trickling a line that never ends must not hold the connection: the slowloris pattern), so
   * the owner calls this for what is: AsyncChat for every complete unit and for the bytes of a
   * byte-count or read-to-close unit, a session for work that happens elsewhere (an FTP data
   * transfer while the control connection is quiet). Also withdraws an idle timeout notice,
   * which is how a session that was told of one declines to close; a total timeout cannot be
   * declined.
   */
  touch(): void {
    this.#active();
    const extra = this.#extra;
    if (extra?.timedOutKind === 'idle') {
      extra.timedOutAt = undefined;
      extra.timedOutKind = undefined;
    }
  }

  /**
   * Writes and returns false when the caller should wait for `drain` (stream semantics).
   * `written` is the stream's write callback: the data has been handed on (its buffer may be
   * reused), or the write failed.
   */
  write(data: Buffer | string, written?: (err?: Error | null) => void): boolean {
    if (!this.writable) return false;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.bytesOut += size;
    this.#settings.counters.bytesOut += size;
    this.#lastActivity = clock();
    const ok = written ? this.#stream.write(data, written) : this.#stream.write(data);
    if (!ok && (this.#flags & DRAIN_BOUND) === 0) {
      this.#stream.on('drain', Channel.#listeners.drain);
      this.#flags |= DRAIN_BOUND;
    }
    return ok;
  }

  /**
   * Holds writes in the stream until `uncork()`, so several small ones leave in one syscall
   * (`writev`). Every `cork()` needs its `uncork()`; they nest, as the stream's do.
   */
  cork(): void {
    this.#stream.cork();
  }

  /** Ends one `cork()`: at the outermost one the held writes go out. */
  uncork(): void {
    this.#stream.uncork();
  }

  /** Stops reading (input backpressure); the peer's writes then back up in the kernel. */
  pause(): void {
    this.#stream.pause();
  }

  /** Reads again after `pause()`. */
  resume(): void {
    this.#stream.resume();
  }

  /**
   * Closes the connection. With `flush` (the default) output already written is delivered
   * first, bounded by `closeTimeoutMs`; without it the socket is destroyed at once.
   *
   * A flushing close sends FIN and keeps reading (and discarding) until the peer closes too:
   * destroying a socket with unread input makes the kernel send RST, and a peer that gets RST
   * may lose our last reply unread (the "lingering close" of Apache and Dovecot).
   */
  close(options: { flush?: boolean } = {}): void {
    if (this.isClosed) return;
    if (options.flush === false) {
      this.#stream.destroy();
      return;
    }
    if ((this.#flags & ENDED) !== 0) return;
    this.#flags |= ENDED;
    this.#lastActivity = clock();
    const stream = this.#stream;
    stream.end();
    if ((this.#flags & ATTACHED) === 0) {
      // Nobody reads this stream: drain it so the peer's FIN is seen.
      this.#flags |= ATTACHED;
      this.#bindFlow(stream);
    }
    stream.resume();
  }

  /**
   * Asks the owner to say goodbye and close (listener shutdown). As after a timeout notice, the
   * owner has `closeTimeoutMs` to do so (a peer that does not read the goodbye cannot hold the
   * connection), then the loop's sweep destroys it: no timer per session.
   */
  requestShutdown(options: { bounded?: boolean } = {}): void {
    if (this.isClosed) return;
    if (this.#handler) {
      // A listener's shutdown bounds the goodbye with its own timeout (`bounded: false` here).
      if (options.bounded !== false) this.expectClose();
      this.#handler.shutdown();
    } else this.close();
  }

  /**
   * The shutdown's bound passed with this connection still open: the owner ends what it let
   * finish (a running transfer) and closes now. The listener destroys what is left shortly after.
   */
  shutdownDeadline(): void {
    if (this.isClosed) return;
    this.expectClose();
    if (this.#handler?.shutdownDeadline) this.#handler.shutdownDeadline();
    else this.close();
  }

  /**
   * The owner has said goodbye (a login or autologout timeout of its own, a shutdown): if the
   * connection is not closed, or closing, `closeTimeoutMs` from now, the loop's sweep destroys
   * it, as after a timeout notice. A peer that never reads the goodbye cannot hold the
   * connection, and the owner needs no timer of its own. `touch()` does not withdraw it.
   */
  expectClose(): void {
    if (this.isClosed) return;
    const extra = this.#more();
    extra.timedOutAt = clock();
    extra.timedOutKind = undefined;
  }

  /**
   * Replaces the stream by a TLS socket over it and waits for the handshake. Input that arrives
   * from here on is decrypted; the owner must already have dropped any plaintext it had queued.
   * Plaintext the stream itself still buffers (it was paused) is discarded here: it was sent
   * before the peer could have seen the go-ahead, so it is never handshake data. On failure
   * the connection is closed and a `tls-failed` CoreError is thrown.
   * @see RFC 2595 §4, RFC 3207 §4, RFC 4217 §4
   */
  async upgradeToTls(options: TlsUpgradeOptions): Promise<void> {
    if ((this.#flags & (CLOSED | ENDED)) !== 0) throw new CoreError('closed', 'cannot upgrade a closed channel');
    if (this.#remoteAddress === undefined) this.#askPeer(); // while the TCP socket is the stream
    const raw = this.#stream;
    this.#unbind(raw);
    this.#flags |= HANDSHAKING;
    let socket: tls.TLSSocket;
    try {
      socket = await wrapInTls(raw, options, (wrapped) => {
        // Watch close at once, so a handshake that fails or stalls still closes the channel.
        this.#stream = wrapped;
        (wrapped as Owned)[kChannel] = this;
        wrapped.on('close', Channel.#listeners.close);
        wrapped.on('error', Channel.#listeners.error);
      });
    } catch (err) {
      this.#settings.onTls?.(this, 'upgrade', false);
      throw err;
    } finally {
      this.#flags &= ~HANDSHAKING;
    }
    this.#flags |= SECURE;
    this.#settings.onTls?.(this, 'upgrade', true);
    this.#active();
    if ((this.#flags & ATTACHED) !== 0) this.#bindFlow(socket);
    if ((this.#flags & ENDED) !== 0) {
      // close() was called during the handshake: finish it on the new stream.
      socket.end();
      socket.resume();
    }
  }

  /**
   * Puts a layer under the connection: `wrap` gets the stream now carrying it, and the input
   * that stream had buffered but not yet delivered (it belongs to the layer: a compression
   * layer must inflate it), and returns the stream that carries the connection from here on
   * (`DeflateStream`). The channel keeps its state (`secure` stays as it was); the new stream's
   * close and errors are the channel's.
   * @see RFC 8054 §2.2.2 (compression starts right after the 206 response)
   */
  wrapStream(wrap: (raw: Duplex, buffered: Buffer | undefined) => Duplex): void {
    if ((this.#flags & (CLOSED | ENDED)) !== 0) throw new CoreError('closed', 'cannot add a layer to a closed channel');
    if (this.#remoteAddress === undefined) this.#askPeer();
    const raw = this.#stream;
    this.#unbind(raw);
    raw.pause();
    const held: Buffer[] = [];
    for (let chunk = raw.read() as Buffer | null; chunk !== null; chunk = raw.read() as Buffer | null) held.push(chunk);
    const wrapped = wrap(raw, held.length === 0 ? undefined : Buffer.concat(held));
    this.#stream = wrapped;
    (wrapped as Owned)[kChannel] = this;
    wrapped.on('close', Channel.#listeners.close);
    wrapped.on('error', Channel.#listeners.error);
    this.#lastActivity = clock();
    if ((this.#flags & ATTACHED) !== 0) this.#bindFlow(wrapped);
    if (raw.destroyed) wrapped.destroy();
  }

  /**
   * Called by the loop's tick: fires the idle or total timeout when due. The handler is told
   * once; if it has neither closed nor called `touch()` within `closeTimeoutMs`, the
   * connection is destroyed. Also bounds a flushing close by `closeTimeoutMs` (one sweep for
   * every connection, not a timer per close).
   */
  checkTimeouts(now: number): void {
    const flags = this.#flags;
    if ((flags & CLOSED) !== 0) return;
    const settings = this.#settings;
    const at = clock(now);
    const extra = this.#extra;
    const ended = (flags & ENDED) !== 0;
    if (ended && since(this.#lastActivity, at) >= settings.closeTimeoutMs) {
      this.#stream.destroy();
      return;
    }
    if (extra?.timedOutAt !== undefined) {
      if (!ended && since(extra.timedOutAt, at) >= settings.closeTimeoutMs) {
        this.log.info({ event: 'timeout-close' }, 'session ignored its timeout: closing');
        this.#stream.destroy();
      }
      return;
    }
    if (ended) return; // already closing, bounded by the close timer
    if (settings.totalTimeoutMs > 0 && since(this.#openedAt, at) >= settings.totalTimeoutMs) {
      this.#timedOut('total', at);
    } else if (settings.idleTimeoutMs > 0 && since(this.#lastActivity, at) >= settings.idleTimeoutMs) {
      this.#timedOut('idle', at);
    }
  }

  /** Activity now, unless a flushing close began: its bound counts from the close. */
  #active(): void {
    if ((this.#flags & ENDED) === 0) this.#lastActivity = clock();
  }

  #timedOut(kind: 'idle' | 'total', at: number): void {
    this.#settings.counters.timeouts++;
    this.log.info({ event: 'timeout', kind }, `${kind} timeout`);
    const extra = this.#more();
    extra.timedOutAt = at;
    extra.timedOutKind = kind;
    // Nobody to say goodbye: a connection whose session was never made just goes.
    if (this.#handler) this.#handler.timeout(kind);
    else this.close({ flush: false });
  }

  #more(): ChannelExtra {
    this.#extra ??= {
      log: undefined,
      closedPromise: undefined,
      resolveClosed: undefined,
      local: undefined,
      timedOutAt: undefined,
      timedOutKind: undefined,
    };
    return this.#extra;
  }

  /** The events that carry the conversation; bound once an owner is attached (`drain` when first needed). */
  #bindFlow(stream: Duplex): void {
    stream.on('data', Channel.#listeners.data);
    stream.on('end', Channel.#listeners.end);
  }

  #unbind(stream: Duplex): void {
    stream.off('data', Channel.#listeners.data);
    stream.off('end', Channel.#listeners.end);
    stream.off('close', Channel.#listeners.close);
    stream.off('error', Channel.#listeners.error);
    stream.off('drain', Channel.#listeners.drain);
    this.#flags &= ~DRAIN_BOUND;
  }

  #localInfo(): { address: string; port: number } {
    const socket = this.#stream as Partial<tls.TLSSocket>;
    return { address: normaliseAddress(socket.localAddress) ?? 'local', port: socket.localPort ?? 0 };
  }

  #onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.#settings.counters.bytesIn += chunk.length;
    // Not activity by itself: the owner says when these bytes complete something (`touch()`).
    this.#handler?.data(chunk);
  }

  #onError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    // A peer that resets or vanishes is routine; anything else is worth a warning. A failed
    // handshake is reported, with its reason, by whoever started it.
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || (this.#flags & HANDSHAKING) !== 0) {
      this.log.debug({ event: 'socket-error', code }, errorText(err));
    } else {
      this.log.warn({ event: 'socket-error', code }, errorText(err));
    }
  }

  #onClose(): void {
    if (this.isClosed) return;
    this.#flags |= CLOSED;
    this.#settings.loop.delete(this);
    this.#handler?.close();
    this.#extra?.resolveClosed?.();
    this.#settings.onClose?.(this);
  }
}

/** Strips the IPv4-mapped IPv6 prefix so per-address limits and logs see one form. */
export function normaliseAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
