import { UsageError } from '../errors.js';
import type { Protocol, Target } from './types.js';

/** The URL schemes `gorgon interop` takes: protocol, default port, implicit TLS. */
const SCHEMES: Record<string, { protocol: Protocol; port: number; implicitTls: boolean }> = {
  ftp: { protocol: 'ftp', port: 21, implicitTls: false },
  ftps: { protocol: 'ftp', port: 990, implicitTls: true },
  pop3: { protocol: 'pop3', port: 110, implicitTls: false },
  pop3s: { protocol: 'pop3', port: 995, implicitTls: true },
  nntp: { protocol: 'nntp', port: 119, implicitTls: false },
  nntps: { protocol: 'nntp', port: 563, implicitTls: true },
  news: { protocol: 'nntp', port: 119, implicitTls: false },
  http: { protocol: 'http', port: 80, implicitTls: false },
  https: { protocol: 'http', port: 443, implicitTls: true },
  finger: { protocol: 'finger', port: 79, implicitTls: false },
};

export const SCHEME_NAMES = Object.keys(SCHEMES);

/**
 * A server to test from its URL: `ftp://[user[:password]@]host[:port][/dir/ or /file]`,
 * `pop3://…[/N]`, `nntp://…[/group]`, `http://…/path`, `finger://host[:port][/user]`. Credentials
 * in the URL win over `--user`/`--password`.
 */
export function parseTarget(text: string, credentials: { user?: string; password?: string } = {}): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not a URL; give one like ftp://host:2121/ or pop3s://user@host/.`);
  }
  const scheme = SCHEMES[url.protocol.replace(/:$/, '')];
  if (!scheme) throw new UsageError(`${url.protocol}// is not a scheme gorgon interop drives; use one of ${SCHEME_NAMES.join(', ')}.`);
  if (url.hostname === '') throw new UsageError(`"${text}" names no host.`);
  // Host names reach client command lines and rc files (fetchmail's, a shell for finger(1)): only
  // the characters of DNS names and IP addresses.
  if (!/^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])$/.test(url.hostname))
    throw new UsageError(`"${url.hostname}" is not a host name or IP address.`);
  const user = url.username !== '' ? decodeURIComponent(url.username) : credentials.user;
  const password = url.password !== '' ? decodeURIComponent(url.password) : credentials.password;
  const shown = new URL(url.href);
  if (shown.password !== '') shown.password = '***';
  return {
    url: shown.href,
    protocol: scheme.protocol,
    implicitTls: scheme.implicitTls,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port !== '' ? Number(url.port) : scheme.port,
    path: decodeURIComponent(url.pathname.replace(/^\//, '')),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** `host:port` for URLs and command lines, with brackets around an IPv6 address. */
export function hostPort(t: Target): string {
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** The URL scheme a client is given for the target (the implicit-TLS one when the target is). */
export function schemeOf(t: Target): string {
  const plain = t.protocol;
  return t.implicitTls ? (plain === 'http' ? 'https' : `${plain}s`) : plain;
}
