import * as net from 'node:net';
import type { FtpSecurity } from './client-options.js';

/** A URL the grabber cannot use, with a sentence that says why. */
export class FetchUrlError extends Error {
  readonly url: string;
  constructor(url: string, message: string) {
    super(message);
    this.name = 'FetchUrlError';
    this.url = url;
  }
}

/** One parsed `ftp://` / `ftps://` URL. */
export interface FetchTarget {
  /** The URL as given, with any password replaced by `***`, for messages. */
  display: string;
  host: string;
  port: number;
  /** From the URL, else the defaults given, else anonymous. */
  user: string;
  password: string;
  secure: FtpSecurity;
  /** The path relative to the login directory, percent-decoded; a leading `/` means absolute. */
  path: string;
  /** True when some segment of the path holds a glob character (`*`, `?`, `[`). */
  glob: boolean;
  /** Connections to the same server (and login) share this key. */
  serverKey: string;
}

/** Defaults for the parts a URL leaves out. */
export interface FetchUrlDefaults {
  user?: string;
  password?: string;
  /** Use AUTH TLS on `ftp://` URLs (`ftps://` always means implicit TLS). */
  explicitTls?: boolean;
}

/** True when a path segment is a glob pattern. */
export function isGlob(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/**
 * Parses `ftp://[user[:password]@]host[:port]/path` or `ftps://…` (implicit TLS, port 990).
 * The path is relative to the login directory, as RFC 1738 §3.2.2 reads it (`%2F` at its start
 * makes it absolute); a path ending in `/` means every file of that directory. A `;type=` suffix
 * is dropped (transfers are binary).
 * @throws FetchUrlError with one sentence for people.
 */
export function parseFetchUrl(text: string, defaults: FetchUrlDefaults = {}): FetchTarget {
  const masked = text.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) throw new FetchUrlError(masked, `${masked} is not a URL: write ftp://host/path or ftps://host/path.`);
  if (scheme !== 'ftp' && scheme !== 'ftps') {
    throw new FetchUrlError(masked, `${masked}: only ftp:// and ftps:// URLs can be fetched, not ${scheme}://.`);
  }
  let url: URL;
  try {
    // Parse as ftp:// either way: WHATWG gives a special scheme its host rules.
    url = new URL(`ftp://${text.slice(scheme.length + 3)}`);
  } catch {
    throw new FetchUrlError(masked, `${masked} is not a valid URL.`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new FetchUrlError(masked, `${masked} names no host.`);
  if (net.isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) throw new FetchUrlError(masked, `${masked} names an invalid host.`);
  const secure: FtpSecurity = scheme === 'ftps' ? 'implicit' : defaults.explicitTls ? 'explicit' : false;
  const port = url.port === '' ? (scheme === 'ftps' ? 990 : 21) : Number(url.port);
  // `?` is a glob character here, not the start of a query.
  let raw = `${url.pathname}${url.search}`.replace(/;type=[aid]$/i, '');
  raw = raw.startsWith('/') ? raw.slice(1) : raw;
  if (raw === '') throw new FetchUrlError(masked, `${masked} names no file: add a path such as /pub/file.txt or /pub/*.txt.`);
  let path: string;
  try {
    path = raw
      .split('/')
      .map((segment) => decodeURIComponent(segment))
      .join('/');
  } catch {
    throw new FetchUrlError(masked, `${masked} has a bad %-escape in its path.`);
  }
  if (/[\r\n\0]/.test(path)) throw new FetchUrlError(masked, `${masked} has a control character in its path.`);
  if (path.endsWith('/')) path += '*';
  const user = url.username !== '' ? safeDecode(url.username) : (defaults.user ?? 'anonymous');
  const password =
    url.password !== '' ? safeDecode(url.password) : user === 'anonymous' ? (defaults.password ?? 'anonymous@') : (defaults.password ?? '');
  const glob = path.split('/').some(isGlob);
  const hostPart = net.isIPv6(host) ? `[${host}]` : host;
  return {
    display: masked,
    host,
    port,
    user,
    password,
    secure,
    path,
    glob,
    serverKey: `${scheme}${secure === 'explicit' ? '+tls' : ''}://${encodeURIComponent(user)}@${hostPart}:${port}`,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
