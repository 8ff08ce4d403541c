import * as net from 'node:net';
import * as tls from 'node:tls';
import { Channel, channelSettings, kLazyPeer, kSerial, kSettings, normaliseAddress, type ListenerChannelOptions } from './channel.js';
import { createCounters, type Counters } from './counters.js';
import { errorText } from './errors.js';
import { FdWatch } from './fd-watch.js';
import { ListenerHandoff } from './handoff.js';
import { logsDebug, silentLogger, type Logger } from './logger.js';
import { Loop, tickForTimeouts, type Sweepable } from './loop.js';
import { isTrusted, readProxyHeader, trustList, type ProxyInfo } from './proxy-protocol.js';
import { Registry } from './registry.js';
import { toSecureContext, type TlsServerOptions } from './tls.js';
import { describeTlsFailure, handshakeClosed } from './tls-failure.js';

/** Why a connection was refused before a session was made for it. */
export type RejectReason = 'max-connections' | 'max-per-ip' | 'refused';

/** Options of {@link createListener}. */
export interface ListenerOptions {
  /** Short protocol name: prefixes connection ids and log lines ("finger", "pop3"). */
  name?: string;
  logger?: Logger;
  /** Connections open at once; more get `rejectReply` and are closed. 0 = no limit. Default 10,000. */
  maxConnections?: number;
  /** Connections open at once from one address. 0 = no limit. Default 0. */
  maxConnectionsPerIp?: number;
  /** The protocol's "too many connections" line, sent before closing a refused connection. */
  rejectReply?: (reason: RejectReason) => string | Buffer | undefined;
  /** Per-channel idle timeout (ms). 0 = none. */
  idleTimeoutMs?: number;
  /** Per-channel total lifetime (ms). 0 = none. */
  totalTimeoutMs?: number;
  /** How long a flushing close may take before the socket is destroyed. Default 10 s. */
  closeTimeoutMs?: number;
  /**
   * Housekeeping tick (ms): how often timeouts are checked and `onTick` runs. Default: a
   * quarter of the shortest timeout, between 10 and 1000.
   */
  tickMs?: number;
  /** Runs on every housekeeping tick. */
  onTick?: (now: number) => void;
  /** Implicit TLS: every connection starts with a handshake (pop3s, ftps, nntps). */
  tls?: TlsServerOptions;
  /**
   * Expect a PROXY v1/v2 header from these addresses or subnets ("127.0.0.1", "10.0.0.0/8")
   * and take the client address from it. Connections from other addresses are served as they
   * are, with their own address; a PROXY line from them is just input to the protocol.
   */
  proxyProtocol?: { trusted: readonly string[]; timeoutMs?: number };
  /** Runs when a channel of this listener closed (after the counters are updated). */
  onRelease?: (channel: Channel) => void;
  /**
   * Runs when a connection is refused before any session: a limit, or (address `''`) the
   * process out of descriptors, once per burst.
   */
  onRefuse?: (reason: RejectReason | 'fd-exhausted', remoteAddress: string) => void;
  /** Runs when a TLS handshake of one of its channels ended: implicit TLS here, or an upgrade. */
  onTls?: (channel: Channel, kind: 'implicit' | 'upgrade', ok: boolean) => void;
  /**
   * Whether a connection's address must be known at accept: something may read it after the
   * connection closed, when the socket can no longer tell (a `close` event, a logger that keeps
   * lines). Default: always. When it answers false, a plain TCP connection with no per-address
   * limit and no PROXY header has its address asked of the socket on first use (one system
   * call fewer per connection when nothing asks); asked first after the close, it is "unknown".
   */
  peerAtAccept?: () => boolean;
}

/** A bound listener: the accept side of the loop. */
export interface Listener extends AsyncDisposable {
  /** Binds a TCP port (0 = any free one) on `host` (default 127.0.0.1). */
  listen(port: number, host?: string): Promise<net.AddressInfo>;
  /** Binds a Unix domain socket. */
  listen(path: string): Promise<string>;
  /**
   * Accepts on a socket another listener handed off (a reload): the port was never unbound, so
   * no connection is refused, and those that arrived meanwhile are accepted here first.
   */
  listen(handoff: ListenerHandoff): Promise<net.AddressInfo | string>;
  /**
   * Gives the bound socket up without unbinding it, for another listener to `listen(handoff)`
   * on: from now on this one accepts nothing, and its open connections go on untouched. Throws
   * when not listening.
   */
  handOff(): ListenerHandoff;
  /**
   * Stops accepting (unbinding the socket unless it was handed off) and resolves once every
   * open connection has ended by itself: nobody is asked to leave. `close()` meanwhile turns it
   * into a graceful shutdown. Call `close()` after it to release the housekeeping tick.
   */
  drain(): Promise<void>;
  /**
   * Graceful shutdown: stop accepting, ask every session to say its goodbye and close, wait up
   * to `timeoutMs` (default 5000), then close what is left.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** The bound address, once listening. */
  address(): net.AddressInfo | string | null;
  /** Connections open now (sessions made; refused connections are not counted). */
  readonly connections: number;
  readonly counters: Counters;
  readonly channels: ReadonlySet<Channel>;
  readonly loop: Loop;
}

/**
 * Creates a listener that accepts connections on TCP (IPv4, IPv6) or a Unix socket, enforces
 * the connection limits, reads a trusted PROXY header, does the implicit TLS handshake, and
 * hands each connection as a {@link Channel} to `accept`, which makes the protocol's session.
 */
export function createListener(options: ListenerOptions, accept: (channel: Channel) => void): Listener {
  const name = options.name ?? 'conn';
  const logger = (options.logger ?? silentLogger).child({ listener: name });
  const maxConnections = options.maxConnections ?? 10_000;
  const maxPerIp = options.maxConnectionsPerIp ?? 0;
  const counters = createCounters();
  const loop = new Loop({
    tickMs: options.tickMs ?? tickForTimeouts(options.idleTimeoutMs, options.totalTimeoutMs, options.closeTimeoutMs ?? 10_000),
  });
  // The loop registers exactly the open channels (a channel joins it when made and leaves it
  // when closed, before `released` runs): one set for both, not a second entry per connection.
  const channels = loop.channels as Registry<Sweepable> as Registry<Channel>;
  const settings = channelSettings(
    {
      logger,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      totalTimeoutMs: options.totalTimeoutMs ?? 0,
      closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
      counters,
      loop,
      onClose: released,
      ...(options.onTls ? { onTls: options.onTls } : {}),
    },
    name,
  );
  const perIp = new Map<string, number>();
  const secureContext = options.tls ? toSecureContext(options.tls) : undefined;
  const trusted = options.proxyProtocol ? trustList(options.proxyProtocol.trusted) : undefined;
  /** Sockets without a session: reading a PROXY header, or refused and saying so (a Registry: a flood of refusals churns it). */
  const pending = new Registry<net.Socket>();
  let sequence = 0;
  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  /** Resolves `drain()` once no channel and no pending socket is left. */
  let whenEmpty: (() => void) | undefined;
  const checkEmpty = (): void => {
    if (whenEmpty && channels.size === 0 && pending.size === 0) whenEmpty();
  };
  /** Whether this listener's socket is bound here, to be unbound by `close()` (false once handed off). */
  let owned = true;
  const stopTick = options.onTick ? loop.onTick(options.onTick) : undefined;
  // Out of descriptors, accepts fail where Node cannot see them: probe on the tick while bound.
  const onRefuse = options.onRefuse;
  const fds = new FdWatch(logger, counters, onRefuse ? () => onRefuse('fd-exhausted', '') : undefined);
  let stopProbe: (() => void) | undefined;

  // Half-open: a client that sends its commands and then shuts down its side (`printf ... | nc`)
  // still gets every reply; the channel closes once they are written.
  let server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true });
  const onError = (err: Error): void => {
    if (!fds.noteError(err)) logger.error({ event: 'listener-error' }, errorText(err));
  };
  server.on('error', onError);
  // No closure here captures the socket: a function context per connection would outlive it.
  // An accepted socket needs an `error` listener only while no channel watches it (a reset then is
  // routine): from here to the channel nothing can emit one, so only the paths that keep a socket
  // without a channel (the PROXY header, a refusal, the raw socket under TLS) add `ignoreError`.
  const onConnection = (socket: net.Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    if (trusted) {
      const peer = normaliseAddress(socket.remoteAddress) ?? 'local';
      if (isTrusted(trusted, peer)) {
        awaitProxyHeader(socket, peer);
        return;
      }
    }
    admit(socket, undefined);
  };
  server.on('connection', onConnection);

  function awaitProxyHeader(socket: net.Socket, peer: string): void {
    socket.on('error', ignoreError);
    pending.add(socket);
    socket.resume();
    readProxyHeader(socket, options.proxyProtocol?.timeoutMs ?? 5000).then(
      (info) => {
        pending.delete(socket);
        admit(socket, info);
        checkEmpty();
      },
      (err: unknown) => {
        pending.delete(socket);
        counters.errors++;
        logger.warn({ event: 'proxy-refused', remote: peer }, `PROXY header refused: ${errorText(err)}`);
        socket.destroy();
        checkEmpty();
      },
    );
  }

  function refuse(socket: net.Socket, reason: RejectReason, address: string): void {
    if (socket.listenerCount('error') === 0) socket.on('error', ignoreError);
    counters.rejected++;
    logger.warn({ event: 'reject', reason, remote: address }, `connection refused: ${reason}`);
    onRefuse?.(reason, address);
    const reply = options.rejectReply?.(reason);
    pending.add(socket);
    socket.setNoDelay(true);
    if (reply) socket.end(reply);
    else socket.end();
    // Read (and drop) until the peer's FIN, so the reply is not lost to a reset; but never let
    // a refused peer hold the descriptor for long.
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), 2000);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      pending.delete(socket);
      checkEmpty();
    });
  }

  /** A channel closed: one function for all of them, rather than a promise each. */
  function released(channel: Channel): void {
    counters.active--;
    if (maxPerIp > 0) {
      const address = channel.remoteAddress;
      const left = (perIp.get(address) ?? 1) - 1;
      if (left <= 0) perIp.delete(address);
      else perIp.set(address, left);
    }
    if (logsDebug(logger)) {
      const { id: conn, remoteAddress: remote, bytesIn, bytesOut } = channel;
      logger.debug({ conn, remote, event: 'close', bytesIn, bytesOut }, 'closed');
    }
    options.onRelease?.(channel);
    checkEmpty();
  }

  function admit(socket: net.Socket, proxy: ProxyInfo | undefined): void {
    if (closing) {
      socket.destroy();
      return;
    }
    const fromProxy = proxy?.command === 'proxy' && proxy.sourceAddress !== undefined;
    const lazyPeer = !fromProxy && !secureContext && maxPerIp === 0 && !logsDebug(logger) && options.peerAtAccept?.() === false;
    const address = lazyPeer
      ? undefined
      : fromProxy
        ? normaliseAddress(proxy.sourceAddress)!
        : (normaliseAddress(socket.remoteAddress) ?? 'local');
    if (maxConnections > 0 && channels.size >= maxConnections) {
      refuse(socket, 'max-connections', address ?? normaliseAddress(socket.remoteAddress) ?? 'local');
      return;
    }
    if (maxPerIp > 0 && address !== undefined) {
      const fromAddress = perIp.get(address) ?? 0;
      if (fromAddress >= maxPerIp) {
        refuse(socket, 'max-per-ip', address);
        return;
      }
      perIp.set(address, fromAddress + 1);
    }

    const stream = secureContext ? implicitTls(socket, secureContext) : socket;
    const channelOptions: ListenerChannelOptions =
      address === undefined
        ? { [kSettings]: settings, [kSerial]: ++sequence, [kLazyPeer]: true }
        : {
            // Addresses come from the TCP socket (or the PROXY header), not from a TLS wrapper.
            remoteAddress: address,
            remotePort: fromProxy ? (proxy.sourcePort ?? 0) : (socket.remotePort ?? 0),
            [kSettings]: settings,
            [kSerial]: ++sequence,
          };
    const channel = new Channel(stream, channelOptions);
    if (stream !== socket) watchHandshake(stream as tls.TLSSocket, socket, channel, options.onTls);
    // The channel keeps the address; Node's cached copy of it (an object and a string per
    // socket, made when we asked) can go, and is made again if anything asks the socket. Not
    // asked (a lazy peer), there is none, and writing the field would add it to the socket.
    if (address !== undefined) (socket as net.Socket & { _peername?: unknown })._peername = undefined;
    counters.connections++;
    counters.active++;
    // The listener's logger with the channel's bindings, so no child logger is made per connection
    // until a session logs something itself.
    if (logsDebug(logger))
      logger.debug({ conn: channel.id, remote: address, event: 'accept', secure: channel.secure, proxied: fromProxy }, 'accepted');
    try {
      // The session attaches to the channel, which starts reading (the socket was accepted
      // paused, so nothing is lost before the session exists).
      accept(channel);
    } catch (err) {
      counters.errors++;
      channel.log.error({ event: 'accept-error' }, errorText(err));
      channel.close({ flush: false });
    }
  }

  async function listen(portOrPath: number | string | ListenerHandoff, host = '127.0.0.1'): Promise<net.AddressInfo | string> {
    if (portOrPath instanceof ListenerHandoff) return adopt(portOrPath);
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      server.once('error', fail);
      const done = (): void => {
        server.off('error', fail);
        resolve();
      };
      if (typeof portOrPath === 'string') server.listen(portOrPath, done);
      else server.listen(portOrPath, host, done);
    });
    const address = server.address()!;
    stopProbe ??= loop.onTick((now) => fds.probe(now));
    logger.info({ event: 'listen', address }, `${name} listening on ${formatAddress(address)}`);
    return address;
  }

  /** Takes over a socket another listener handed off: synchronously, so nothing arrives unwatched. */
  function adopt(handoff: ListenerHandoff): net.AddressInfo | string {
    if (closing || draining) throw new Error(`${name} listener is closed`);
    if (server.listening) throw new Error(`${name} listener is already listening`);
    if (handoff.taken) throw new Error('this listener handoff was already taken or closed');
    const address = handoff.address;
    if (address === null) throw new Error('the handed-off socket is not bound');
    const previous = server;
    server = handoff.take(onConnection);
    server.on('error', onError);
    previous.off('connection', onConnection);
    previous.off('error', onError);
    stopProbe ??= loop.onTick((now) => fds.probe(now));
    logger.info({ event: 'listen', address, handedOver: true }, `${name} listening on ${formatAddress(address)} (taken over)`);
    return address;
  }

  function handOff(): ListenerHandoff {
    if (!owned || !server.listening || closing || draining) throw new Error(`${name} listener has no bound socket to hand off`);
    owned = false;
    server.off('connection', onConnection);
    server.off('error', onError);
    const handoff = new ListenerHandoff(server);
    // This listener accepts nothing more; its `server` is now an unbound one nobody listens on.
    server = net.createServer();
    return handoff;
  }

  /** Stops accepting: unbinds the socket this listener owns (a handed-off one is not its own). */
  function stopAccepting(): Promise<void> {
    if (!owned) return Promise.resolve();
    owned = false;
    const bound = server;
    return new Promise<void>((resolve) => bound.close(() => resolve()));
  }

  function drain(): Promise<void> {
    draining ??= (async () => {
      await stopAccepting();
      while (channels.size > 0 || pending.size > 0) await new Promise<void>((resolve) => (whenEmpty = resolve));
      whenEmpty = undefined;
    })();
    return draining;
  }

  function close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
    closing ??= shutdown(closeOptions.timeoutMs ?? 5000);
    return closing;
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    const stopped = stopAccepting();
    for (const socket of pending) socket.destroy();
    // This shutdown bounds the goodbye with `timeoutMs` itself, not the channels' close timeout.
    for (const channel of channels) channel.requestShutdown({ bounded: false });
    const allClosed = (): Promise<unknown> => Promise.all([...channels].map((c) => c.closed));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([allClosed(), timeout]);
    clearTimeout(timer);
    if (channels.size > 0) {
      // The bound passed: what still runs (a transfer) is ended with the protocol's reply, which
      // gets a short grace to go out; then whatever is left is cut.
      for (const channel of channels) channel.shutdownDeadline();
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
      await Promise.race([allClosed(), grace]);
      clearTimeout(timer);
    }
    for (const channel of channels) channel.close({ flush: false });
    await allClosed();
    await stopped;
    stopTick?.();
    stopProbe?.();
    logger.info({ event: 'closed' }, `${name} closed`);
  }

  return {
    listen: listen as Listener['listen'],
    handOff,
    drain,
    close,
    address: () => server.address(),
    get connections() {
      return channels.size;
    },
    counters,
    channels,
    loop,
    [Symbol.asyncDispose]: () => close({ timeoutMs: 1000 }),
  };
}

/** After a shutdown's bound, how long the sessions' final replies (FTP's 426 and 421) may take to go out. */
const SHUTDOWN_GRACE_MS = 500;

/** Swallows a socket's errors while no channel owns it (a reset before accept is routine). */
function ignoreError(): void {}

/**
 * The server side of an implicit TLS connection; its handshake is watched by {@link watchHandshake}.
 * The TLS wrapper's channel watches the wrapper's errors; the raw socket under it has its own listener.
 */
function implicitTls(socket: net.Socket, secureContext: tls.SecureContext): tls.TLSSocket {
  socket.on('error', ignoreError);
  return new tls.TLSSocket(socket, { isServer: true, secureContext, requestCert: false, rejectUnauthorized: false });
}

/**
 * Until an implicit TLS handshake completes: a client that refuses it (with an alert, or by
 * closing, as clients that do not trust our certificate do) is logged as a warning with the
 * reason, never as an error (it is the client's decision), and dropped at once: a flushing close would wait on output that the TLS layer holds
 * until a handshake that can no longer happen. The listeners go once the handshake is done.
 */
function watchHandshake(secure: tls.TLSSocket, raw: net.Socket, channel: Channel, onTls: ListenerOptions['onTls'] | undefined): void {
  const failed = (err?: Error): void => {
    done();
    const reason = describeTlsFailure(err ?? handshakeClosed());
    // A peer that sent nothing (a TCP health check, a port scan) did not try TLS at all.
    if (raw.bytesRead === 0) channel.log.debug({ event: 'tls-failed', reason }, 'closed before a ClientHello');
    else {
      onTls?.(channel, 'implicit', false);
      channel.log.warn({ event: 'tls-failed', reason }, `TLS handshake failed: ${reason}`);
    }
    secure.destroy();
  };
  const ended = (): void => failed();
  const done = (): void => {
    secure.off('end', ended);
    secure.off('error', failed);
    secure.off('secure', succeeded);
  };
  secure.once('end', ended);
  secure.once('error', failed);
  const succeeded = onTls
    ? (): void => {
        done();
        onTls(channel, 'implicit', true);
      }
    : done;
  secure.once('secure', succeeded);
}

/** "127.0.0.1:7979", "[::1]:7979" or a socket path. */
export function formatAddress(address: net.AddressInfo | string | null): string {
  if (address === null) return 'nowhere';
  if (typeof address === 'string') return address;
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}
