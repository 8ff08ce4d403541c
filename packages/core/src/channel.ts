import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { createCounters, type Counters } from './counters.js';
import { CoreError, errorText } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
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
}

/** Options of a {@link Channel}. */
export interface ChannelOptions {
  /** Connection id that appears on every log line. Default: a per-loop counter. */
  id?: string;
  logger?: Logger;
  /** Close after this long without input or output progress. 0 = never (default). */
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
}

let fallbackIds = 0;

/** The channel that owns a stream: lets one set of listener functions serve every connection. */
const kChannel = Symbol('gorgon.channel');
type Owned = Duplex & { [kChannel]?: Channel };

/**
 * One connection: a byte stream (TCP socket, TLS socket, Unix socket, pipe, or the in-memory
 * pair), its addresses, timeouts, counters and logger. The asyncore dispatcher of the design,
 * reduced to what a Duplex needs on top of Node's own events.
 */
export class Channel {
  /** Connection id, on every log line ("pop3-1a"). */
  readonly id: string;
  /** This connection's logger: every line carries `conn` and `remote`. */
  readonly log: Logger;
  /** The client's address: from a trusted PROXY header, else the socket's; "local" for pipes. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** When the connection was made (ms since the epoch): the total timeout counts from here. */
  readonly openedAt = Date.now();
  /** Counters shared with the listener (or this channel's own). */
  readonly counters: Counters;
  /** Bytes received and sent on this connection. */
  bytesIn = 0;
  bytesOut = 0;
  #stream: Duplex;
  #secure: boolean;
  #handler: ChannelHandler | undefined;
  #closed = false;
  #ended = false;
  #attached = false;
  #lastActivity = Date.now();
  /** When a flushing close began; the loop destroys the stream `closeTimeoutMs` later. */
  #endedAt = 0;
  /** When the handler was told of a timeout; it has `closeTimeoutMs` to close. */
  #timedOutAt: number | undefined;
  #timedOutKind: 'idle' | 'total' | undefined;
  readonly #idleTimeoutMs: number;
  readonly #totalTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #loop: Loop;
  /** Made on first use of `closed`: most channels never need a promise. */
  #closedPromise: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  readonly #onClosed: ((channel: Channel) => void) | undefined;
  #local: { address: string; port: number } | undefined;
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
      channel.#lastActivity = Date.now();
      channel.#handler?.drain();
    },
  };

  constructor(stream: Duplex, options: ChannelOptions = {}) {
    this.#stream = stream;
    const socket = stream as Partial<tls.TLSSocket>;
    this.#secure = socket.encrypted === true;
    this.remoteAddress = options.remoteAddress ?? normaliseAddress(socket.remoteAddress) ?? 'local';
    this.remotePort = options.remotePort ?? socket.remotePort ?? 0;
    this.#loop =
      options.loop ?? new Loop({ tickMs: tickForTimeouts(options.idleTimeoutMs, options.totalTimeoutMs, options.closeTimeoutMs ?? 10_000) });
    this.id = options.id ?? `c${(++fallbackIds).toString(36)}`;
    this.log = (options.logger ?? silentLogger).child({ conn: this.id, remote: this.remoteAddress });
    this.counters = options.counters ?? createCounters();
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.#totalTimeoutMs = options.totalTimeoutMs ?? 0;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#onClosed = options.onClose;
    (stream as Owned)[kChannel] = this;
    if (options.noDelay !== false && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    // Input waits in the stream until an owner attaches; only close and error are watched now.
    stream.on('close', Channel.#listeners.close);
    stream.on('error', Channel.#listeners.error);
    if (stream.destroyed) queueMicrotask(() => this.#onClose());
    this.#loop.add(this);
  }

  /** The stream now carrying the connection (a TLSSocket after an upgrade). */
  get stream(): Duplex {
    return this.#stream;
  }

  /** True once the connection is encrypted (implicit TLS, or after `upgradeToTls`). */
  get secure(): boolean {
    return this.#secure;
  }

  /** True once the stream has closed; no event follows. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection is fully closed. */
  get closed(): Promise<void> {
    this.#closedPromise ??= this.#closed ? Promise.resolve() : new Promise((resolve) => (this.#resolveClosed = resolve));
    return this.#closedPromise;
  }

  /** Our address on this connection ("local" for pipes); asked of the socket on first use. */
  get localAddress(): string {
    return (this.#local ??= this.#localInfo()).address;
  }

  get localPort(): number {
    return (this.#local ??= this.#localInfo()).port;
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
    return !this.#closed && !this.#ended && this.#stream.writable;
  }

  /**
   * Sets the owner that receives this channel's events. Input received so far waits in the
   * stream and flows from here on; a later call only replaces the owner.
   */
  attach(handler: ChannelHandler): void {
    this.#handler = handler;
    if (this.#attached || this.#closed) return;
    this.#attached = true;
    this.#bindFlow(this.#stream);
    this.#stream.resume();
  }

  /**
   * Counts as activity for the idle timeout: for a session whose work happens elsewhere (an FTP
   * data transfer while the control connection is quiet). Also withdraws an idle timeout
   * notice, which is how a session that was told of one declines to close; a total timeout
   * cannot be declined.
   */
  touch(): void {
    this.#lastActivity = Date.now();
    if (this.#timedOutKind === 'idle') {
      this.#timedOutAt = undefined;
      this.#timedOutKind = undefined;
    }
  }

  /** Writes and returns false when the caller should wait for `drain` (stream semantics). */
  write(data: Buffer | string): boolean {
    if (!this.writable) return false;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.bytesOut += size;
    this.counters.bytesOut += size;
    this.#lastActivity = Date.now();
    return this.#stream.write(data);
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
    if (this.#closed) return;
    if (options.flush === false) {
      this.#stream.destroy();
      return;
    }
    if (this.#ended) return;
    this.#ended = true;
    this.#endedAt = Date.now();
    const stream = this.#stream;
    stream.end();
    if (!this.#attached) {
      // Nobody reads this stream: drain it so the peer's FIN is seen.
      this.#attached = true;
      this.#bindFlow(stream);
    }
    stream.resume();
  }

  /** Asks the owner to say goodbye and close (listener shutdown). */
  requestShutdown(): void {
    if (this.#closed) return;
    if (this.#handler) this.#handler.shutdown();
    else this.close();
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
    if (this.#closed || this.#ended) throw new CoreError('closed', 'cannot upgrade a closed channel');
    const raw = this.#stream;
    this.#unbind(raw);
    const socket = await wrapInTls(raw, options, (wrapped) => {
      // Watch close at once, so a handshake that fails or stalls still closes the channel.
      this.#stream = wrapped;
      (wrapped as Owned)[kChannel] = this;
      wrapped.on('close', Channel.#listeners.close);
      wrapped.on('error', Channel.#listeners.error);
    });
    this.#secure = true;
    this.#lastActivity = Date.now();
    if (this.#attached) this.#bindFlow(socket);
    if (this.#ended) {
      // close() was called during the handshake: finish it on the new stream.
      socket.end();
      socket.resume();
    }
  }

  /**
   * Called by the loop's tick: fires the idle or total timeout when due. The handler is told
   * once; if it has neither closed nor called `touch()` within `closeTimeoutMs`, the
   * connection is destroyed. Also bounds a flushing close by `closeTimeoutMs` (one sweep for
   * every connection, not a timer per close).
   */
  checkTimeouts(now: number): void {
    if (this.#closed) return;
    if (this.#ended && now - this.#endedAt >= this.#closeTimeoutMs) {
      this.#stream.destroy();
      return;
    }
    if (this.#timedOutAt !== undefined) {
      if (!this.#ended && now - this.#timedOutAt >= this.#closeTimeoutMs) {
        this.log.info({ event: 'timeout-close' }, 'session ignored its timeout: closing');
        this.#stream.destroy();
      }
      return;
    }
    if (this.#ended) return; // already closing, bounded by the close timer
    if (this.#totalTimeoutMs > 0 && now - this.openedAt >= this.#totalTimeoutMs) {
      this.#timedOut('total', now);
    } else if (this.#idleTimeoutMs > 0 && now - this.#lastActivity >= this.#idleTimeoutMs) {
      this.#timedOut('idle', now);
    }
  }

  #timedOut(kind: 'idle' | 'total', now: number): void {
    this.counters.timeouts++;
    this.log.info({ event: 'timeout', kind }, `${kind} timeout`);
    this.#timedOutAt = now;
    this.#timedOutKind = kind;
    // Nobody to say goodbye: a connection whose session was never made just goes.
    if (this.#handler) this.#handler.timeout(kind);
    else this.close({ flush: false });
  }

  /** The events that carry the conversation; bound once an owner is attached. */
  #bindFlow(stream: Duplex): void {
    stream.on('data', Channel.#listeners.data);
    stream.on('end', Channel.#listeners.end);
    stream.on('drain', Channel.#listeners.drain);
  }

  #unbind(stream: Duplex): void {
    stream.off('data', Channel.#listeners.data);
    stream.off('end', Channel.#listeners.end);
    stream.off('close', Channel.#listeners.close);
    stream.off('error', Channel.#listeners.error);
    stream.off('drain', Channel.#listeners.drain);
  }

  #localInfo(): { address: string; port: number } {
    const socket = this.#stream as Partial<tls.TLSSocket>;
    return { address: normaliseAddress(socket.localAddress) ?? 'local', port: socket.localPort ?? 0 };
  }

  #onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.counters.bytesIn += chunk.length;
    this.#lastActivity = Date.now();
    this.#handler?.data(chunk);
  }

  #onError(err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    // A peer that resets or vanishes is routine; anything else is worth a warning.
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
      this.log.debug({ event: 'socket-error', code }, errorText(err));
    } else {
      this.log.warn({ event: 'socket-error', code }, errorText(err));
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.delete(this);
    this.#handler?.close();
    this.#resolveClosed?.();
    this.#onClosed?.(this);
  }
}

/** Strips the IPv4-mapped IPv6 prefix so per-address limits and logs see one form. */
export function normaliseAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
