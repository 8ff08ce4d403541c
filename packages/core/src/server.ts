import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { Channel } from './channel.js';
import type { Counters } from './counters.js';
import { errorText } from './errors.js';
import { ListenerHandoff } from './handoff.js';
import { createListener, type Listener, type ListenerOptions, type RejectReason } from './listener.js';
import { logsAt, type Logger } from './logger.js';
import { tickForTimeouts } from './loop.js';
import { tapLogger, type ServerEvents, type ConnectionInfo, type ServerEventMap, type ServerHooks } from './server-events.js';
import type { ProxyProtocolOptions, ServerLimits } from './server-options.js';
import { Registry } from './registry.js';

/** Options of {@link GorgonServer.accept}. */
export interface AcceptOptions {
  /** The client's address as the session and the logs see it. Default `local`. */
  remoteAddress?: string;
  remotePort?: number;
  /** The stream carries TLS from its first byte (the server does the handshake on it). */
  implicitTls?: boolean;
}

/**
 * The object every `createXServer(options)` returns: the same members in every protocol.
 * `Stats` are the protocol's own counts (POP3's logins, FTP's transfers), merged into `counters`.
 */
export interface GorgonServer<Stats extends object = object> extends AsyncDisposable {
  /** Binds the plain port (0 = any free one) on `host` (default 127.0.0.1). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Binds a Unix domain socket. */
  listen(path: string): Promise<string>;
  /**
   * Accepts on a socket another server handed off ({@link GorgonServer.handOff}): a reload that
   * builds a server with new settings keeps the port bound, so no client is refused.
   */
  listen(handoff: ListenerHandoff): Promise<AddressInfo>;
  /** Binds the implicit-TLS port (pop3s, ftps): every connection starts with a handshake. Needs `tls`. */
  listenTls(port: number, host?: string): Promise<AddressInfo>;
  /** Accepts implicit-TLS connections on a socket another server handed off. Needs `tls`. */
  listenTls(handoff: ListenerHandoff): Promise<AddressInfo>;
  /**
   * Gives up the plain (or implicit-TLS) listener's bound socket without unbinding it, for a new
   * server to `listen(handoff)` on: from then on new connections go to the new server, and this
   * one's open sessions go on. Null when that listener is not bound (or was handed off).
   */
  handOff(which?: 'plain' | 'tls'): ListenerHandoff | null;
  /**
   * Retirement after a reload: stops accepting (unbinding what was not handed off), lets every
   * open session run to its natural end (QUIT, a timeout; nobody is told to leave), then
   * releases what the server holds, as `close()` does. `close()` meanwhile turns it into a
   * graceful shutdown. Resolves once closed; idempotent.
   */
  retire(): Promise<void>;
  /**
   * Graceful shutdown of every listener and accepted stream: each session says the protocol's
   * goodbye, then whatever is left after `timeoutMs` (default `limits.shutdownTimeoutMs`) is
   * closed. Idempotent.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** The plain listener's TCP address, once listening (null before, or on a Unix socket). */
  address(): AddressInfo | null;
  /** The implicit-TLS listener's address, once listening. */
  tlsAddress(): AddressInfo | null;
  /** Connections open now: both listeners and the streams given to `accept`. */
  readonly connections: number;
  /** Counters of every listener added up, and the protocol's own counts. */
  readonly counters: Counters & Stats;
  /**
   * Serves one connection over any stream: an in-memory pair, a child's stdio joined into a
   * Duplex, a Unix socket accepted elsewhere, or a core Channel. It gets the same limits,
   * timeouts, counters, hooks and events as a listener's, and `close()` ends it too.
   */
  accept(stream: Duplex | Channel, options?: AcceptOptions): Channel;
  /** Watches an event; returns the function that stops watching. */
  on<K extends keyof ServerEventMap>(name: K, fn: (event: ServerEventMap[K]) => void): () => void;
  off<K extends keyof ServerEventMap>(name: K, fn: (event: ServerEventMap[K]) => void): void;
}

/** A session with a login deadline (the slowloris guard of `limits.loginTimeoutMs`). */
export interface LoginDeadline {
  /**
   * Called on each housekeeping tick until it returns false: closes the session (with the
   * protocol's reply) once `loginTimeoutMs` passed since the connection was made without a
   * login. Returns false once it no longer needs checking (logged in, closing, closed).
   */
  checkLoginTimeout(now: number): boolean;
}

/** What a protocol gives {@link createProtocolServer}: everything but the shape itself. */
export interface ProtocolServerSpec<Stats extends object> {
  /** Short name ("pop3"): connection-id prefix and log field. The TLS listener is `${name}s`. */
  name: string;
  logger: Logger;
  limits: ServerLimits;
  secureContext: tls.SecureContext | undefined;
  proxyProtocol?: ProxyProtocolOptions | undefined;
  hooks?: ServerHooks | undefined;
  events: ServerEvents;
  /** The protocol's "try later" / "not available" line for a refused connection. */
  rejectReply(reason: RejectReason): string | Buffer | undefined;
  /** Runs on every housekeeping tick of every listener (login deadlines). */
  onTick?(now: number): void;
  /**
   * Makes the protocol's session for an admitted connection. A session that can log in returns
   * itself (a {@link LoginDeadline}): the server then checks `limits.loginTimeoutMs` on its
   * housekeeping tick, one tick for all, with no timer per connection.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: protocols whose session has no login deadline implement this as a `void` function
  createSession(channel: Channel, how: { implicitTls: boolean }): LoginDeadline | void;
  /** The protocol's own counts, merged into `counters`. */
  stats?(): Stats;
  /** Runs before the first bind (FTP's sweep of stale uploads). */
  beforeListen?(): void;
  /**
   * Runs once every session is gone, at the end of `close()`: releases what the server made
   * (a store's lock templates, a lister's helper threads), so nothing outlives it.
   */
  afterClose?(): void | Promise<void>;
}

/** Whether `logger` keeps lines of any level. */
function keepsLines(logger: Logger): boolean {
  return logsAt(logger, 'error') || logsAt(logger, 'warn') || logsAt(logger, 'info') || logsAt(logger, 'debug');
}

/**
 * The one server shape, written once: a plain listener, an implicit-TLS listener made on
 * demand, `accept()` for any stream, the `connect` hook, the events, and counters over all of
 * them. Every protocol's `createXServer` is its options' checks plus a call to this.
 */
export function createProtocolServer<Stats extends object>(spec: ProtocolServerSpec<Stats>): GorgonServer<Stats> {
  const { limits, events } = spec;
  // Warnings and errors of every connection also become `error` events, for whoever watches.
  const logger = tapLogger(spec.logger, events);
  const connectHook = spec.hooks?.connect;
  // Sessions not logged in yet; one leaves at the first sweep after it logged in or closed.
  const awaitingLogin = limits.loginTimeoutMs > 0 ? new Registry<LoginDeadline>() : undefined;
  const userTick = spec.onTick;
  const onTick = awaitingLogin
    ? (now: number): void => {
        for (const session of awaitingLogin) if (!session.checkLoginTimeout(now)) awaitingLogin.delete(session);
        userTick?.(now);
      }
    : userTick;
  const createSession = (channel: Channel, how: { implicitTls: boolean }): void => {
    const session = spec.createSession(channel, how);
    if (awaitingLogin && session) awaitingLogin.add(session);
  };
  const listenerOptions: ListenerOptions = {
    logger,
    maxConnections: limits.maxConnections,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    rejectReply: spec.rejectReply,
    idleTimeoutMs: limits.idleTimeoutMs,
    totalTimeoutMs: limits.totalTimeoutMs,
    closeTimeoutMs: limits.closeTimeoutMs,
    // Login deadlines are checked on the same tick as the timeouts, within 25% of them.
    tickMs: tickForTimeouts(limits.idleTimeoutMs, limits.totalTimeoutMs, limits.loginTimeoutMs, limits.closeTimeoutMs),
    ...(onTick ? { onTick } : {}),
    ...(spec.proxyProtocol ? { proxyProtocol: spec.proxyProtocol } : {}),
    onRelease: released,
    onRefuse: refusedBy(spec.name),
    onTls,
    // After a connection closed, only the `close` event and log lines (a session's, bound to
    // the connection) read its address; the `connect` event and hook run while it is open.
    peerAtAccept: () => events.wants.close || keepsLines(spec.logger),
  };
  let closing: Promise<void> | undefined;
  let retiring: Promise<void> | undefined;
  let listened = false;
  let acceptSerial = 0;
  /** Channels handed over ready-made (`accept(channel)`): no listener's loop owns them. */
  const foreign = new Set<Channel>();

  function refusedBy(listener: string): ListenerOptions['onRefuse'] {
    return (reason, remoteAddress) => {
      if (events.wants.refused) events.emit('refused', { listener, remoteAddress, reason });
    };
  }

  function onTls(channel: Channel, kind: 'implicit' | 'upgrade', ok: boolean): void {
    if (events.wants.tls) events.emit('tls', { id: channel.id, kind, ok });
  }

  function released(channel: Channel): void {
    if (events.wants.close) {
      const { id, remoteAddress, bytesIn, bytesOut } = channel;
      events.emit('close', { id, remoteAddress, bytesIn, bytesOut });
    }
  }

  function refuse(channel: Channel): void {
    channel.counters.rejected++;
    channel.log.info({ event: 'reject', reason: 'refused' }, 'connection refused by the connect hook');
    if (events.wants.refused) events.emit('refused', { listener: spec.name, remoteAddress: channel.remoteAddress, reason: 'refused' });
    const reply = spec.rejectReply('refused');
    if (reply !== undefined && channel.writable) channel.write(reply);
    channel.close();
  }

  function open(channel: Channel, how: { implicitTls: boolean }, info: ConnectionInfo | undefined): void {
    if (channel.isClosed) return;
    if (info && events.wants.connect) events.emit('connect', info);
    createSession(channel, how);
  }

  /** Every admitted connection, from any door: the hook, the event, then the session. */
  function admit(channel: Channel, via: ConnectionInfo['via'], implicitTls: boolean): void {
    const how = { implicitTls };
    if (!connectHook && !events.wants.connect) {
      createSession(channel, how);
      return;
    }
    const info: ConnectionInfo = {
      id: channel.id,
      remoteAddress: channel.remoteAddress,
      remotePort: channel.remotePort,
      secure: implicitTls,
      via,
    };
    if (!connectHook) {
      open(channel, how, info);
      return;
    }
    let verdict: ReturnType<NonNullable<ServerHooks['connect']>>;
    try {
      verdict = connectHook(info);
    } catch (err) {
      channel.log.error({ event: 'hook-error', hook: 'connect' }, errorText(err));
      refuse(channel);
      return;
    }
    if (verdict === false) {
      refuse(channel);
      return;
    }
    if (verdict === undefined || verdict === true) {
      open(channel, how, info);
      return;
    }
    // Input waits in the stream until the session attaches: nothing is read before the answer.
    verdict.then(
      (ok) => (ok === false ? refuse(channel) : open(channel, how, info)),
      (err: unknown) => {
        channel.log.error({ event: 'hook-error', hook: 'connect' }, errorText(err));
        refuse(channel);
      },
    );
  }

  const plain: Listener = createListener({ ...listenerOptions, name: spec.name }, (channel) => admit(channel, 'listen', false));
  let secure: Listener | undefined;

  const bound = (): void => {
    if (closing || retiring) throw new Error(`${spec.name} server is closed`);
    if (!listened) {
      listened = true;
      spec.beforeListen?.();
    }
  };

  const addressOf = (listener: Listener | undefined): AddressInfo | null => {
    const address = listener?.address();
    return address && typeof address === 'object' ? address : null;
  };

  function accept(stream: Duplex | Channel, options: AcceptOptions = {}): Channel {
    if (closing) throw new Error(`${spec.name} server is closed`);
    const implicitTls = options.implicitTls === true;
    if (stream instanceof Channel) {
      foreign.add(stream);
      void stream.closed.then(() => {
        foreign.delete(stream);
        released(stream);
      });
      admit(stream, 'accept', implicitTls);
      return stream;
    }
    if (implicitTls && !spec.secureContext) throw new Error(`${spec.name} accept with implicitTls needs the tls option`);
    const carrier = implicitTls
      ? new tls.TLSSocket(stream as unknown as import('node:net').Socket, {
          isServer: true,
          secureContext: spec.secureContext!,
          requestCert: false,
          rejectUnauthorized: false,
        })
      : stream;
    const counters = plain.counters;
    counters.connections++;
    counters.active++;
    // The plain listener's loop sweeps its timeouts and its close() ends it; its counters count it.
    const channel = new Channel(carrier, {
      id: `${spec.name}-a${(++acceptSerial).toString(36)}`,
      logger: logger.child({ listener: spec.name }),
      idleTimeoutMs: limits.idleTimeoutMs,
      totalTimeoutMs: limits.totalTimeoutMs,
      closeTimeoutMs: limits.closeTimeoutMs,
      counters,
      loop: plain.loop,
      remoteAddress: options.remoteAddress ?? 'local',
      remotePort: options.remotePort ?? 0,
      onClose: (ch) => {
        counters.active--;
        released(ch);
      },
      onTls,
    });
    admit(channel, 'accept', implicitTls);
    return channel;
  }

  function close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = closeOptions.timeoutMs ?? limits.shutdownTimeoutMs;
    closing ??= (async () => {
      for (const channel of foreign) channel.requestShutdown();
      const left = [...foreign].map((c) => c.closed);
      await Promise.all([plain.close({ timeoutMs }), secure?.close({ timeoutMs }), ...left]);
      await spec.afterClose?.();
    })();
    return closing;
  }

  async function listen(portOrPath: number | string | ListenerHandoff, host = '127.0.0.1'): Promise<AddressInfo | string> {
    bound();
    if (portOrPath instanceof ListenerHandoff) return (await plain.listen(portOrPath)) as AddressInfo;
    if (typeof portOrPath === 'string') return plain.listen(portOrPath);
    return (await plain.listen(portOrPath, host)) as AddressInfo;
  }

  const server: GorgonServer<Stats> = {
    listen: listen as GorgonServer<Stats>['listen'],
    async listenTls(port: number | ListenerHandoff, host: string = '127.0.0.1') {
      if (!spec.secureContext) throw new Error(`${spec.name} listenTls needs the tls option (certificate and key)`);
      bound();
      secure ??= createListener(
        { ...listenerOptions, name: `${spec.name}s`, onRefuse: refusedBy(`${spec.name}s`), tls: { secureContext: spec.secureContext } },
        (channel) => admit(channel, 'listenTls', true),
      );
      if (port instanceof ListenerHandoff) return (await secure.listen(port)) as AddressInfo;
      return (await secure.listen(port, host)) as AddressInfo;
    },
    handOff(which: 'plain' | 'tls' = 'plain') {
      const listener = which === 'tls' ? secure : plain;
      if (!listener || closing || retiring || addressOf(listener) === null) return null;
      return listener.handOff();
    },
    retire() {
      retiring ??= (async () => {
        await Promise.all([plain.drain(), secure?.drain(), ...[...foreign].map((c) => c.closed)]);
        await close();
      })();
      return retiring;
    },
    close,
    address: () => addressOf(plain),
    tlsAddress: () => addressOf(secure),
    get connections() {
      return plain.connections + (secure?.connections ?? 0) + foreign.size;
    },
    get counters() {
      const sum = { ...plain.counters };
      if (secure) for (const key of Object.keys(sum) as Array<keyof Counters>) sum[key] += secure.counters[key];
      return { ...sum, ...spec.stats?.() } as Counters & Stats;
    },
    accept,
    on: (name, fn) => events.on(name, fn),
    off: (name, fn) => events.off(name, fn),
    [Symbol.asyncDispose]: () => close({ timeoutMs: 1000 }),
  } as GorgonServer<Stats>;
  return server;
}
