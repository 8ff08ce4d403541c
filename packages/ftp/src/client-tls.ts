import * as net from 'node:net';
import * as tls from 'node:tls';
import type { ResolvedFtpClientOptions } from './client-options.js';

/** Why the peer's certificate is not good for `host`: its chain, or its names; undefined when good. */
export function verifyPeer(socket: tls.TLSSocket, host: string): string | undefined {
  // Node puts the check against the wrong name into authorizationError too: only a chain error counts.
  const chain = socket.authorizationError as unknown as string | Error | null;
  const code = chain instanceof Error ? ((chain as NodeJS.ErrnoException).code ?? chain.message) : chain;
  if (code && code !== 'ERR_TLS_CERT_ALTNAME_INVALID') return String(code);
  return tls.checkServerIdentity(host, socket.getPeerCertificate())?.message;
}

/** The control connection's TLS settings: SNI only for a host name, the CA, verification. */
export function tlsConnectOptions(options: ResolvedFtpClientOptions): {
  servername?: string;
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
} {
  const servername = options.tls?.servername ?? (net.isIP(options.host) === 0 ? options.host : undefined);
  return {
    ...(servername !== undefined ? { servername } : {}),
    ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}),
    rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
  };
}
