import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { CoreError, errorText } from './errors.js';
import { handshakeClosed } from './tls-failure.js';

/** Options for upgrading a channel to TLS in place (STLS, STARTTLS, AUTH TLS). */
export interface TlsUpgradeOptions {
  isServer: boolean;
  /** Server side: the context with certificate and key. */
  secureContext?: tls.SecureContext;
  /** Client side: the name to verify and send as SNI. */
  servername?: string;
  /** Client side: trusted CA certificates (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client side: verify the server certificate. Default true. */
  rejectUnauthorized?: boolean;
}

/**
 * Puts a TLS socket over an open stream whose listeners have been removed, and waits for the
 * handshake. `adopt` gets the TLS socket before the handshake starts, so its owner sees a close
 * during it. Plaintext the stream still buffers (it was paused) is discarded first: it was sent
 * before the peer could have seen the go-ahead, so it is never handshake data (CVE-2011-0411).
 * On failure the TLS socket is destroyed and a `tls-failed` CoreError thrown.
 * @see RFC 2595 §4, RFC 3207 §4, RFC 4217 §4
 */
export async function wrapInTls(raw: Duplex, options: TlsUpgradeOptions, adopt: (socket: tls.TLSSocket) => void): Promise<tls.TLSSocket> {
  raw.on('error', () => {}); // errors surface on the TLS socket
  raw.pause();
  while (raw.read() !== null) {
    // discard buffered plaintext
  }
  const socket = options.isServer
    ? new tls.TLSSocket(raw as never, {
        isServer: true,
        secureContext: options.secureContext,
        requestCert: false,
        rejectUnauthorized: false,
      })
    : tls.connect({
        socket: raw as never,
        servername: options.servername,
        ca: options.ca,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
      });
  const ready = options.isServer ? 'secure' : 'secureConnect';
  adopt(socket);
  try {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        socket.off(ready, ok);
        socket.off('error', done);
        socket.off('end', closed);
        socket.off('close', closed);
        if (err) reject(err);
        else resolve();
      };
      const ok = (): void => done();
      const closed = (): void => done(handshakeClosed());
      socket.once(ready, ok);
      socket.once('error', done);
      socket.once('end', closed);
      socket.once('close', closed);
    });
  } catch (err) {
    socket.destroy();
    throw new CoreError('tls-failed', `TLS handshake failed: ${errorText(err)}`, { cause: err });
  }
  return socket;
}

/** Certificate and key for a TLS listener or upgrade, as PEM text or a ready context. */
export type TlsServerOptions = { cert: string | Buffer; key: string | Buffer } | { secureContext: tls.SecureContext };

/** One secure context per server instance, built once rather than per connection. */
export function toSecureContext(options: TlsServerOptions): tls.SecureContext {
  if ('secureContext' in options) return options.secureContext;
  return tls.createSecureContext({ cert: options.cert, key: options.key, minVersion: 'TLSv1.2' });
}

/**
 * Puts a new certificate and key into a context already in use, as `tls.Server#setSecureContext`
 * does for Node's own servers: connections that start afterwards (implicit TLS, STLS, AUTH TLS,
 * FTP data) get the new pair, connections already open keep the one they were made with. The
 * context object is shared by every place that took it at start-up, so its native handle is
 * replaced rather than the object: each new TLS socket reads `context` when it is made. Throws,
 * leaving `target` untouched, when the pair is unusable (bad PEM, key not matching the cert).
 */
export function replaceSecureContext(target: tls.SecureContext, options: { cert: string | Buffer; key: string | Buffer }): void {
  const fresh = toSecureContext(options);
  (target as { context: unknown }).context = fresh.context;
}
