import type { AddressInfo } from 'node:net';
import { createListener, tickForTimeouts, type Counters, type Listener, type TlsServerOptions } from '@gorgon/core';
import { createPop3Context, type Pop3Context, type Pop3Options, type Pop3Stats } from './context.js';
import { formatReply, replies } from './replies.js';
import { Pop3Session } from './session.js';

/** Options of {@link createPop3Server}. */
export type Pop3ServerOptions = Pop3Options;

/** A running POP3 server: a plaintext listener (STLS-capable) and, on demand, an implicit-TLS one. */
export interface Pop3Server extends AsyncDisposable {
  /** Listens for plain POP3 (port 110 by convention; STLS upgrades). Port 0 picks a free one. */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Listens for POP3 over implicit TLS (pop3s, port 995 by convention). Needs `tls`. @see RFC 8314 §3.3 */
  listenTls(port: number, host?: string): Promise<AddressInfo>;
  /** Graceful shutdown of both listeners: every session gets `-ERR [SYS/TEMP]` and closes. Idempotent. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** The plain listener's address, once listening. */
  address(): AddressInfo | null;
  /** The implicit-TLS listener's address, once listening. */
  tlsAddress(): AddressInfo | null;
  /** Connections open now, on both listeners. */
  readonly connections: number;
  /** Connection counters of both listeners added up, plus the POP3 counts. */
  readonly counters: Counters & Pop3Stats;
}

/**
 * Creates a POP3 server over the given maildrop store and authenticator.
 * @see RFC 1939, RFC 2449 (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH)
 */
export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const ctx: Pop3Context = createPop3Context(options);
  const limits = ctx.limits;
  const make = (name: string, tls?: TlsServerOptions): Listener => {
    // Sessions not logged in yet, swept by the housekeeping tick (one tick for all, no timer
    // per connection); a session leaves at the first sweep after it logged in or closed.
    const awaitingLogin = new Set<Pop3Session>();
    const sweepLogins = (now: number): void => {
      for (const session of awaitingLogin) if (!session.checkLoginTimeout(now)) awaitingLogin.delete(session);
    };
    const loginDeadline = limits.loginTimeoutMs > 0;
    return createListener(
      {
        name,
        logger: ctx.logger,
        maxConnections: limits.maxConnections,
        maxConnectionsPerIp: limits.maxConnectionsPerIp,
        rejectReply: () => formatReply(replies.tooManyConnections),
        idleTimeoutMs: limits.idleTimeoutMs,
        closeTimeoutMs: limits.closeTimeoutMs,
        // The login deadline is checked on the same tick as the timeouts, within 25% of it.
        tickMs: tickForTimeouts(limits.idleTimeoutMs, limits.loginTimeoutMs, limits.closeTimeoutMs),
        ...(loginDeadline ? { onTick: sweepLogins } : {}),
        ...(tls ? { tls } : {}),
        ...(options.proxyProtocol ? { proxyProtocol: { trusted: options.proxyProtocol.trusted } } : {}),
      },
      (channel) => {
        const session = new Pop3Session(channel, ctx);
        if (loginDeadline) awaitingLogin.add(session);
      },
    );
  };
  const plain = make('pop3');
  let secure: Listener | undefined;
  let closing: Promise<void> | undefined;

  function close(closeOptions: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = closeOptions.timeoutMs ?? limits.shutdownTimeoutMs;
    closing ??= Promise.all([plain.close({ timeoutMs }), secure?.close({ timeoutMs })]).then(async () => {
      // Nothing of the server stays in the process: the store's lock templates go too.
      await options.maildrops.close?.();
    });
    return closing;
  }

  const addressOf = (listener: Listener | undefined): AddressInfo | null => {
    const address = listener?.address();
    return address && typeof address === 'object' ? address : null;
  };

  return {
    async listen(port, host = '127.0.0.1') {
      return (await plain.listen(port, host)) as AddressInfo;
    },
    async listenTls(port, host = '127.0.0.1') {
      if (!options.tls) throw new Error('listenTls needs the tls option (certificate and key)');
      secure ??= make('pop3s', { secureContext: ctx.secureContext! });
      return (await secure.listen(port, host)) as AddressInfo;
    },
    close,
    address: () => addressOf(plain),
    tlsAddress: () => addressOf(secure),
    get connections() {
      return plain.connections + (secure?.connections ?? 0);
    },
    get counters() {
      const sum = { ...plain.counters };
      if (secure) for (const key of Object.keys(sum) as Array<keyof Counters>) sum[key] += secure.counters[key];
      return { ...sum, ...ctx.stats };
    },
    [Symbol.asyncDispose]: () => close({ timeoutMs: 1000 }),
  };
}
