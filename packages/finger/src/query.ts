import { isIP, isIPv6 } from 'node:net';

/**
 * A host named in a query or a target: a name or address, and a port when one was written.
 * @see RFC 1288 §2.3
 */
export interface FingerHost {
  host: string;
  port?: number;
}

/**
 * A parsed finger query.
 * - `list`: `{C}` or `/W{C}`, the online user list (RFC 1288 §2.5.1).
 * - `user`: `{U}{C}`, one or more names looked up here (§2.5.2, §2.5.3).
 * - `forward`: `{U}{H}{C}` or `{H}{C}`, a query for another host (§2.4); `hosts` in the order
 *   written, so the last one is the host to connect to.
 * @see RFC 1288 §2.3
 */
export type FingerQuery =
  | { kind: 'list'; verbose: boolean }
  | { kind: 'user'; verbose: boolean; names: string[] }
  | { kind: 'forward'; verbose: boolean; user: string; hosts: FingerHost[] };

/**
 * Why a query line was refused before any lookup.
 * @see RFC 1288 §2.3, §3.1
 */
export type QueryProblem = 'too-long' | 'binary' | 'syntax' | 'too-many-names';

/**
 * The outcome of {@link parseQuery}.
 * @see RFC 1288 §2.3
 */
export type QueryParse = { ok: true; query: FingerQuery } | { ok: false; problem: QueryProblem; detail: string };

/**
 * Options of {@link parseQuery}.
 * @see RFC 1288 §2.3
 */
export interface QueryParseOptions {
  /** Longest query in bytes (UTF-8). Default: no check (the session's framing enforces it). */
  maxLength?: number;
  /** Most names in one `{U}` query. Default 8. */
  maxNames?: number;
}

// C0 controls except TAB, DEL, and U+FFFD (what invalid UTF-8 decodes to).
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 1288 queries are text: control bytes mark a binary or hostile query, matched on purpose
const BINARY = /[\x00-\x08\x0a-\x1f\x7f\ufffd]/;
const VERBOSE = /^\/w/i;
/** A query that is one login and nothing else (ASCII, so its length is its size in bytes). */
const PLAIN_LOGIN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;

/**
 * Whether the line is what most queries are, one plain login, which {@link parseQuery} gives as
 * `{ kind: 'user', verbose: false, names: [line] }`: nothing to trim, split or check further.
 */
export function isPlainLogin(line: string, options: QueryParseOptions = {}): boolean {
  return PLAIN_LOGIN.test(line) && (options.maxLength === undefined || line.length <= options.maxLength) && (options.maxNames ?? 8) >= 1;
}

/**
 * Parses one query line (without its CRLF) by the RFC 1288 grammar
 * `{Q1} ::= [{W}|{W}{S}{U}]{C}` and `{Q2} ::= [{W}{S}][{U}]{H}{C}`, where `{W}` is `/W`,
 * `{S}` one or more spaces, and `{H}` one or more `@hostname`.
 *
 * Lenient where clients differ and the meaning is clear: `/W` in any case, with or without the
 * space after it; tabs as spaces; leading and trailing blanks; several space-separated names
 * (BSD finger's `finger alice bob`). A host may carry `:port` or be an `[IPv6]` literal; the
 * server decides whether it forwards there.
 * @see RFC 1288 §2.3
 */
export function parseQuery(line: string, options: QueryParseOptions = {}): QueryParse {
  if (isPlainLogin(line, options)) {
    return { ok: true, query: { kind: 'user', verbose: false, names: [line] } };
  }
  if (options.maxLength !== undefined && Buffer.byteLength(line) > options.maxLength) {
    return { ok: false, problem: 'too-long', detail: `query longer than ${options.maxLength} bytes` };
  }
  if (BINARY.test(line)) return { ok: false, problem: 'binary', detail: 'query contains control or invalid bytes' };
  let rest = line.replace(/\t/g, ' ').trim();
  const verbose = VERBOSE.test(rest);
  if (verbose) rest = rest.slice(2).trim();
  if (rest === '') return { ok: true, query: { kind: 'list', verbose } };

  if (rest.includes('@')) {
    const [user = '', ...hostTexts] = rest.split('@');
    if (/\s/.test(rest)) return { ok: false, problem: 'syntax', detail: 'a forwarded query has no spaces' };
    const hosts: FingerHost[] = [];
    for (const text of hostTexts) {
      const host = parseHost(text);
      if (typeof host === 'string') return { ok: false, problem: 'syntax', detail: host };
      hosts.push(host);
    }
    return { ok: true, query: { kind: 'forward', verbose, user, hosts } };
  }

  const names = rest.split(/ +/);
  const maxNames = options.maxNames ?? 8;
  if (names.length > maxNames) {
    return { ok: false, problem: 'too-many-names', detail: `more than ${maxNames} names in one query` };
  }
  return { ok: true, query: { kind: 'user', verbose, names } };
}

/**
 * Parses `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address. Returns a sentence
 * saying what is wrong instead of throwing, so callers choose the error they raise.
 * @see RFC 1288 §2.3
 */
export function parseHost(text: string): FingerHost | string {
  if (text === '') return 'empty host name';
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    const address = close === -1 ? '' : text.slice(1, close);
    if (!isIPv6(address)) return `bad IPv6 literal "${text}"`;
    const after = text.slice(close + 1);
    if (after === '') return { host: address };
    if (!after.startsWith(':')) return `unexpected text after "]" in "${text}"`;
    const port = parsePort(after.slice(1));
    return port === undefined ? `bad port in "${text}"` : { host: address, port };
  }
  if (isIPv6(text)) return { host: text };
  const colon = text.lastIndexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  if (!HOST_NAME.test(name) && isIP(name) === 0) return `bad host name "${name}"`;
  if (colon === -1) return { host: name };
  const port = parsePort(text.slice(colon + 1));
  return port === undefined ? `bad port in "${text}"` : { host: name, port };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * `host`, `host:port`, or `[v6]:port`: the form {@link parseHost} reads back.
 * @see RFC 1288 §2.4
 */
export function formatHost(host: FingerHost): string {
  const name = isIPv6(host.host) ? `[${host.host}]` : host.host;
  return host.port === undefined ? name : `${name}:${host.port}`;
}

/**
 * Where a forwarding server sends a `{Q2}` query and what it sends: the user and every host but
 * the last go to the last host. `alice@b@c` becomes `alice@b`, sent to `c` (`/W` is passed on
 * separately, as the client's `verbose` option).
 * @see RFC 1288 §2.4
 */
export function forwardTarget(query: Extract<FingerQuery, { kind: 'forward' }>): { user: string; next: FingerHost } {
  const hops = query.hosts.slice(0, -1).map((h) => `@${formatHost(h)}`);
  return { user: `${query.user}${hops.join('')}`, next: query.hosts[query.hosts.length - 1]! };
}

/**
 * Splits a command-line target into the query to send and the host to send it to:
 * `alice@host:7979`, `@host` (the user list), `alice@[::1]:7979`, `alice` (localhost), and
 * `a@b@c` (a forwarding chain: user `a@b` sent to host `c`, which forwards to `b`).
 * Throws an Error with one sentence when the target cannot be a finger query.
 * @see RFC 1288 §2.3, §2.4
 */
export function parseFingerTarget(target: string): { user: string; host: string; port?: number } {
  if (BINARY.test(target)) throw new Error('A finger target cannot contain control characters.');
  const trimmed = target.trim();
  const at = trimmed.lastIndexOf('@');
  if (at === -1) return { user: trimmed, host: 'localhost' };
  const host = parseHost(trimmed.slice(at + 1));
  if (typeof host === 'string') throw new Error(`Bad finger target "${trimmed}": ${host}.`);
  const user = trimmed.slice(0, at);
  return host.port === undefined ? { user, host: host.host } : { user, host: host.host, port: host.port };
}
