import type { BlockList } from 'node:net';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Duplex } from 'node:stream';
import { Registry, errorText, isTrusted, normaliseAddress, parseProxyHeader, type Logger, type ProxyInfo } from '@gorgon/core';

/** A passive port range, both ends included. */
export interface PortRange {
  min: number;
  max: number;
}

/** What a session's data channel needs to know about its control connection and server. */
export interface DataChannelOptions {
  /** The control connection's local address: passive listeners bind here, active connects from here. */
  localAddress: string;
  /** The control connection's peer: the only address passive connections are taken from. */
  remoteAddress: string;
  passivePorts?: PortRange;
  /**
   * The server's PROXY trust list (HAProxy in front): a passive connection from one of these
   * addresses must start with a PROXY header, whose source address is then the one checked
   * against the control connection's peer (the proxy forwards every client's data connections).
   */
  proxy?: { trusted: BlockList; timeoutMs: number };
  connectTimeoutMs: number;
  /** For PROT P: data connections run TLS as the server side with the control connection's context. */
  secureContext?: tls.SecureContext;
  log: Logger;
}

/** A data connection could not be set up; the message is for logs, the session answers 425. */
export class DataConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataConnectionError';
  }
}

type Setup =
  | { kind: 'none' }
  | { kind: 'passive'; server: net.Server; port: number; socket?: net.Socket; waiter?: (s: net.Socket) => void }
  | { kind: 'active'; host: string; port: number };

/**
 * The data connection of one FTP session: a passive listener (PASV/EPSV) that accepts one
 * connection, and only from the control connection's peer, or an active target (PORT/EPRT).
 * Under PROT P the connection is wrapped in TLS with the server acting as the TLS server for
 * either direction; a client that resumes the control connection's TLS session may do so.
 * @see RFC 959 §3.2, RFC 2428, RFC 2577 §3–4, RFC 4217 §7
 */
export class DataChannel {
  readonly #options: DataChannelOptions;
  #setup: Setup = { kind: 'none' };
  #open: Duplex | undefined;
  /** The TCP socket under `#open` (the same socket without TLS). */
  #raw: net.Socket | undefined;
  /**
   * Completed connections closing by themselves (see `release`); `close` ends them too. A
   * Registry, not a Set: one per transfer comes and goes (see the core's Registry for why).
   */
  readonly #lingering = new Registry<Duplex>();
  /** Connections from the proxy whose PROXY header is being read; `close` ends them too. */
  readonly #proxied = new Registry<net.Socket>();

  constructor(options: DataChannelOptions) {
    this.#options = options;
  }

  /** 'none' until PASV/EPSV/PORT/EPRT; 'open' while a transfer's connection is up. */
  get state(): 'none' | 'passive' | 'active' | 'open' {
    return this.#open ? 'open' : this.#setup.kind;
  }

  /** Opens a passive listener (closing any earlier setup) and returns its port. */
  async listenPassive(): Promise<number> {
    this.close();
    const { passivePorts, localAddress } = this.#options;
    const ports = passivePorts ? candidatePorts(passivePorts) : defaultPorts();
    for (const port of ports) {
      const server = net.createServer({ noDelay: true });
      const bound = await new Promise<number | undefined>((resolve) => {
        server.once('error', () => resolve(undefined));
        server.listen({ port, host: localAddress, exclusive: true }, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : undefined);
        });
      });
      if (bound === undefined) {
        server.close();
        continue;
      }
      server.on('error', (err) => this.#options.log.warn({ event: 'pasv-error' }, err.message));
      const setup: Setup & { kind: 'passive' } = { kind: 'passive', server, port: bound };
      server.on('connection', (socket) => this.#accept(setup, socket));
      this.#setup = setup;
      // Which port a passive setup took: with `gorgon serve --workers` each worker must stay in
      // its own share of the range, and this line is how an operator (and the test) sees it.
      this.#options.log.debug({ event: 'pasv-listen', port: bound }, `passive port ${bound}`);
      return bound;
    }
    throw new DataConnectionError('no free port in the passive range');
  }

  /** Remembers an active target (PORT/EPRT); the caller has already checked it. */
  setActive(host: string, port: number): void {
    this.close();
    this.#setup = { kind: 'active', host, port };
  }

  /**
   * The data connection for one transfer: waits for the passive peer or connects to the active
   * target, then does the TLS handshake under PROT P. Each setup serves one transfer. For an
   * upload under PROT P the TLS layer runs over a JS view of the socket, so that the end of the
   * upload can be told apart from a TCP FIN without close_notify (see {@link endedCleanly}).
   */
  async connect(protect: boolean, signal: AbortSignal, options: { upload?: boolean } = {}): Promise<Duplex> {
    const setup = this.#setup;
    this.#setup = { kind: 'none' };
    if (setup.kind === 'none') throw new DataConnectionError('no PORT or PASV given');
    const { connectTimeoutMs } = this.#options;
    let socket: net.Socket;
    try {
      socket =
        setup.kind === 'passive'
          ? await withTimeout(this.#waitPassive(setup), connectTimeoutMs, signal, 'passive connection')
          : await withTimeout(this.#connectActive(setup.host, setup.port), connectTimeoutMs, signal, 'active connection');
    } finally {
      if (setup.kind === 'passive') setup.server.close();
    }
    socket.setNoDelay(true);
    socket.on('error', () => {}); // surfaced by the transfer
    this.#raw = socket;
    let stream: Duplex = socket;
    if (protect) {
      if (!this.#options.secureContext) throw new DataConnectionError('PROT P without TLS configured');
      const tlsOptions = { isServer: true, secureContext: this.#options.secureContext };
      const secure = options.upload === true ? WatchedTlsSocket.over(socket, tlsOptions) : new tls.TLSSocket(socket, tlsOptions);
      secure.on('error', () => {});
      this.#open = secure;
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          secure.once('secure', () => resolve());
          secure.once('error', (err) => reject(new DataConnectionError(`TLS on the data connection failed: ${err.message}`)));
          secure.once('close', () => reject(new DataConnectionError('data connection closed during the TLS handshake')));
        }),
        connectTimeoutMs,
        signal,
        'TLS handshake',
      ).catch((err: unknown) => {
        secure.destroy();
        throw err;
      });
      stream = secure;
    }
    this.#open = stream;
    stream.once('close', () => {
      if (this.#open === stream) this.#open = undefined;
    });
    return stream;
  }

  /** Closes the listener and any open or lingering data connection at once. */
  close(): void {
    const setup = this.#setup;
    this.#setup = { kind: 'none' };
    if (setup.kind === 'passive') {
      setup.server.close();
      setup.socket?.destroy();
    }
    this.#open?.destroy();
    this.#open = undefined;
    this.#raw = undefined;
    for (const done of this.#lingering) done.destroy();
    for (const waiting of this.#proxied) waiting.destroy();
  }

  /**
   * Ends a transfer that did not complete with a TCP reset (SO_LINGER 0), never a FIN: in
   * stream mode a FIN is the end of the file (RFC 959 §3.4.1), so a download cut short by
   * ABOR, a stall or a shutdown must not look complete to a client that trusts it.
   */
  reset(): void {
    const raw = this.#raw;
    if (raw && !raw.destroyed) raw.resetAndDestroy();
    this.close();
  }

  /**
   * Lets a completed transfer's connection finish closing by itself (the client's FIN, then
   * ours, after close_notify under TLS) rather than cutting it: a close with the peer's
   * close_notify still unread would answer it with a reset. Bounded by `lingerMs`.
   */
  release(lingerMs: number): void {
    const open = this.#open;
    this.#open = undefined;
    this.#raw = undefined;
    if (!open || open.destroyed) return;
    open.end();
    open.resume(); // read (and drop) what the client still sends: its close_notify, its FIN
    const timer = setTimeout(() => open.destroy(), lingerMs);
    timer.unref();
    this.#lingering.add(open);
    open.once('close', () => {
      clearTimeout(timer);
      this.#lingering.delete(open);
    });
  }

  #accept(setup: Setup & { kind: 'passive' }, socket: net.Socket): void {
    socket.on('error', () => {});
    const peer = normaliseAddress(socket.remoteAddress) ?? 'local';
    const proxy = this.#options.proxy;
    if (proxy && isTrusted(proxy.trusted, peer)) {
      this.#acceptProxied(setup, socket, peer, proxy.timeoutMs);
      return;
    }
    this.#admit(setup, socket, peer);
  }

  /**
   * A passive connection forwarded by a trusted proxy: the client's address is in its PROXY
   * header (HAProxy's `send-proxy-v2` on the passive ports' `server` lines). Without a header
   * the real client is unknown, so the connection is refused rather than handed to whoever
   * reached the proxy's port first.
   */
  #acceptProxied(setup: Setup & { kind: 'passive' }, socket: net.Socket, proxyAddress: string, timeoutMs: number): void {
    this.#proxied.add(socket);
    readProxyHeaderUnpaused(socket, timeoutMs).then(
      (info) => {
        this.#proxied.delete(socket);
        const client = info.command === 'proxy' ? normaliseAddress(info.sourceAddress) : undefined;
        if (client === undefined) {
          this.#options.log.warn(
            { event: 'pasv-proxy-refused', proxy: proxyAddress },
            'passive connection from the proxy without a client address refused',
          );
          socket.destroy();
          return;
        }
        this.#admit(setup, socket, client);
      },
      (err: unknown) => {
        this.#proxied.delete(socket);
        if (socket.destroyed) return; // the session closed its data channel meanwhile
        this.#options.log.warn(
          { event: 'pasv-proxy-refused', proxy: proxyAddress },
          `passive connection from the proxy refused: ${errorText(err)} (the proxy must send a PROXY header on the passive ports too)`,
        );
        socket.destroy();
      },
    );
  }

  #admit(setup: Setup & { kind: 'passive' }, socket: net.Socket, peer: string): void {
    if (peer !== this.#options.remoteAddress) {
      // RFC 2577 §4 / "FTP bounce" and data theft: only the control peer may take the connection.
      this.#options.log.warn({ event: 'pasv-foreign', peer }, 'passive connection from a foreign address refused');
      socket.destroy();
      return;
    }
    if (setup.socket || this.#setup !== setup) {
      socket.destroy();
      return;
    }
    setup.socket = socket;
    setup.server.close();
    setup.waiter?.(socket);
  }

  #waitPassive(setup: Setup & { kind: 'passive' }): Promise<net.Socket> {
    if (setup.socket) return Promise.resolve(setup.socket);
    this.#setup = setup; // still accepting while we wait
    return new Promise((resolve) => {
      setup.waiter = (socket) => {
        if (this.#setup === setup) this.#setup = { kind: 'none' };
        resolve(socket);
      };
    });
  }

  #connectActive(host: string, port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress: this.#options.localAddress, noDelay: true });
      this.#open = socket;
      socket.once('connect', () => resolve(socket));
      socket.once('error', (err) => {
        socket.destroy();
        reject(new DataConnectionError(`cannot connect to ${host}:${port}: ${err.message}`));
      });
    });
  }
}

/**
 * A server-side TLS socket that knows why its input ended: the peer's close_notify, or the
 * transport's end without one (a truncation attack, or a client that died). Node's own TLS
 * socket reports both as the same 'end', so the socket runs over a JS view of the TCP socket
 * whose end this class sees first. Used for uploads only: it costs a copy through JS.
 * @see RFC 8446 §6.1, RFC 5246 §7.2.1, RFC 4217 §12.6
 */
class WatchedTlsSocket extends tls.TLSSocket {
  /** The TCP connection's end has been passed to the TLS layer. */
  transportEnded = false;
  /** The input ended with the peer's close_notify. */
  closeNotify = false;

  static over(socket: net.Socket, options: tls.TLSSocketOptions): WatchedTlsSocket {
    const state = { ended: false, owner: undefined as WatchedTlsSocket | undefined };
    const transport = new Duplex({
      read: () => void socket.resume(),
      write: (chunk: Buffer, _encoding, callback) => void socket.write(chunk, callback),
      final: (callback) => void socket.end(() => callback()),
      destroy: (err, callback) => {
        socket.destroy();
        callback(err);
      },
    });
    socket.on('data', (chunk: Buffer) => {
      if (!transport.push(chunk)) socket.pause();
    });
    socket.once('end', () => {
      state.ended = true;
      if (state.owner) state.owner.transportEnded = true;
      transport.push(null);
    });
    socket.once('error', (err) => transport.destroy(err));
    // After the end, the TLS layer still has to read it: it destroys the transport itself.
    socket.once('close', () => {
      if (!state.ended) transport.destroy();
    });
    const watched = new WatchedTlsSocket(transport as never, options);
    state.owner = watched;
    return watched;
  }

  // The TLS layer pushes null at its end of input: with close_notify while the transport is
  // still open, or when the transport's own end reaches it.
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null && !this.transportEnded) this.closeNotify = true;
    return super.push(chunk, encoding);
  }
}

/**
 * Whether a data connection whose input just ended ended cleanly, so that an upload may be
 * committed: under TLS, with the client's close_notify; over TCP, with a FIN and not a reset.
 * A reset can arrive as an end of stream: after a short read with EPOLLHUP set, libuv reports
 * EOF without reading the ECONNRESET queued behind the buffered bytes, so the socket is asked
 * once more with a write of zero bytes, which sends nothing on a healthy connection and fails
 * on a reset one. Call it from the 'end' event, before the socket ends its own side.
 */
export function endedCleanly(stream: Duplex): Promise<boolean> {
  if (stream instanceof WatchedTlsSocket) return Promise.resolve(stream.closeNotify);
  if (stream instanceof tls.TLSSocket) return Promise.resolve(false); // cannot tell: not a clean end
  if (!(stream instanceof net.Socket)) return Promise.resolve(true); // an in-memory pair has no resets
  if (stream.destroyed || !stream.writable) return Promise.resolve(false);
  return new Promise((resolve) => stream.write(EMPTY, (err) => resolve(!err)));
}

const EMPTY = Buffer.alloc(0);

/**
 * Without a configured range: a few random ports of the IANA dynamic range, then whatever port
 * the kernel picks. Every data connection the server closes leaves a TIME_WAIT on its passive
 * port for a minute, and with thousands of them `bind` to port 0 scans the ephemeral range
 * under a lock (0.3–1 ms of system time per PASV measured at 60,000 TIME_WAITs, the largest
 * cost of a short session); a random port is one lookup, and SO_REUSEADDR (libuv sets it)
 * lets it reuse a port whose only sockets are in TIME_WAIT. vsftpd picks its passive ports
 * the same way.
 */
function defaultPorts(): number[] {
  const ports: number[] = [];
  for (let i = 0; i < RANDOM_PORT_TRIES; i++)
    ports.push(DYNAMIC_PORTS.min + Math.floor(Math.random() * (DYNAMIC_PORTS.max - DYNAMIC_PORTS.min + 1)));
  ports.push(0);
  return ports;
}

/** The IANA dynamic (private) port range: no registered service listens there. @see RFC 6335 §6 */
const DYNAMIC_PORTS: PortRange = { min: 49152, max: 65535 };
const RANDOM_PORT_TRIES = 8;

/** The ports of a range from a random starting point, each once. */
function candidatePorts(range: PortRange): number[] {
  const size = range.max - range.min + 1;
  const start = Math.floor(Math.random() * size);
  return Array.from({ length: size }, (_, i) => range.min + ((start + i) % size));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DataConnectionError(`${what} not made within ${ms} ms`)), ms);
        onAbort = () => reject(new DataConnectionError(`${what} aborted`));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads a PROXY header off the start of a passive data connection with `read()`, leaving the
 * socket as it was accepted (neither flowing nor paused): the transfer that takes it over may
 * listen for 'data', which would not resume a stream paused explicitly, as core's
 * `readProxyHeader` leaves it. Bytes after the header (an upload's first) stay unread.
 */
function readProxyHeaderUnpaused(socket: net.Socket, timeoutMs: number): Promise<ProxyInfo> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (err: Error | undefined, info?: ProxyInfo): void => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onClose);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(info!);
    };
    const onReadable = (): void => {
      for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) {
        buffered = buffered.length === 0 ? c : Buffer.concat([buffered, c]);
        const parsed = parseProxyHeader(buffered);
        if (parsed.status === 'incomplete') continue;
        if (parsed.status === 'invalid') {
          finish(new Error(parsed.reason));
          return;
        }
        const rest = buffered.subarray(parsed.length);
        if (rest.length > 0) socket.unshift(rest);
        finish(undefined, parsed.info);
        return;
      }
    };
    const onClose = (): void => finish(new Error('closed before the PROXY header'));
    const timer = setTimeout(() => finish(new Error('no PROXY header in time')), timeoutMs);
    timer.unref();
    socket.on('readable', onReadable);
    socket.once('end', onClose);
    socket.once('close', onClose);
  });
}

/**
 * Checks a PORT/EPRT target: the control connection's own peer address and a port ≥ 1024, so
 * the server cannot be used to attack a third host or a privileged service (the FTP bounce).
 * @see RFC 2577 §3
 */
export function activeTargetAllowed(host: string, port: number, controlPeer: string): boolean {
  return normaliseAddress(host) === controlPeer && port >= 1024 && port <= 65535;
}

/** Parses PORT's `h1,h2,h3,h4,p1,p2`. @see RFC 959 §4.1.2 */
export function parsePortArg(arg: string): { host: string; port: number } | undefined {
  const parts = arg.trim().split(',');
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const n = parts.map(Number);
  if (n.some((v) => v > 255)) return undefined;
  return { host: n.slice(0, 4).join('.'), port: n[4]! * 256 + n[5]! };
}

/** Parses EPRT's `|proto|address|port|` with any delimiter in 33–126. @see RFC 2428 §2 */
export function parseEprtArg(arg: string): { family: 1 | 2; host: string; port: number } | 'bad-family' | undefined {
  const text = arg.trim();
  const d = text[0];
  if (!d || d.charCodeAt(0) < 33 || d.charCodeAt(0) > 126) return undefined;
  const parts = text.split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return undefined;
  const [, proto, host, portText] = parts as [string, string, string, string, string];
  if (proto !== '1' && proto !== '2') return 'bad-family';
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const family = proto === '1' ? 1 : 2;
  if (net.isIP(host) !== (family === 1 ? 4 : 6)) return undefined;
  return { family, host, port: Number(portText) };
}

/** `h1,h2,h3,h4,p1,p2` for a 227 reply. */
export function formatPasv(host: string, port: number): string {
  return `${host.split('.').join(',')},${port >> 8},${port & 255}`;
}
