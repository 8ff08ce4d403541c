import * as net from 'node:net';
import type { PassiveAddress } from './client-reply.js';

/** True for addresses a PASV reply may name but a client must not dial: 0.0.0.0, multicast, broadcast. */
function unspecified(host: string): boolean {
  if (host === '0.0.0.0' || host === '255.255.255.255') return true;
  const first = Number(host.split('.')[0]);
  return first === 0 || (first >= 224 && first <= 239);
}

/** RFC 1918, loopback, link-local and CGNAT ranges: reachable only from nearby. */
function privateV4(host: string): boolean {
  const [a = 0, b = 0] = host.split('.').map(Number);
  return (
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

/**
 * Where to open a passive data connection. By default the control connection's peer with the
 * reply's port (curl's --ftp-skip-pasv-ip): a server behind NAT often names its inside address.
 * When the reply is trusted, its address is still replaced if it is unspecified, or private while
 * the control peer is public. RFC 2577 §3 notes the same trap from the server's side.
 */
export function choosePassiveAddress(reply: PassiveAddress, controlHost: string, trust: boolean): PassiveAddress {
  if (!trust || net.isIPv4(controlHost) === false) return { host: controlHost, port: reply.port };
  if (unspecified(reply.host)) return { host: controlHost, port: reply.port };
  if (privateV4(reply.host) && !privateV4(controlHost)) return { host: controlHost, port: reply.port };
  return reply;
}
