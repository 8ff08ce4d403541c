import { decodeName } from '@gorgon/core';

/**
 * Parsing of the request line, field lines and request target: pure functions, each returning
 * the status to refuse with rather than throwing. @see RFC 9112 §3, §5; RFC 9110 §5, §7.1
 */

/** A parsed request line. */
export interface RequestLine {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
}

/** RFC 9110 §5.6.2 tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * `name ":" OWS value OWS`: a token, no space before the colon, the value trimmed of SP/HTAB.
 * RFC 9110 §5.5: CR, LF and NUL are never allowed in a value; the other controls (but HTAB) are
 * refused too, so a value holds none of them.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 9110 §5.5: refuses the control characters a field value must not hold, on purpose
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/(\d)\.(\d)$/;

/** True when `s` is a token (method, field name). @see RFC 9110 §5.6.2 */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/**
 * `method SP request-target SP HTTP-version`, single spaces. A malformed line is 400; a major
 * version other than 1 is 505. @see RFC 9112 §3, §2.3
 */
export function parseRequestLine(line: string): RequestLine | 400 | 505 {
  const m = REQUEST_LINE.exec(line);
  if (!m) return 400;
  if (m[3] !== '1') return 505;
  return { method: m[1]!, target: m[2]!, minor: Number(m[4]) };
}

/**
 * One field line: `name ":" OWS value OWS`. Whitespace before the colon, a name that is not a
 * token, a line that starts with whitespace (obs-fold) or a control character in the value
 * (other than HTAB) is 400. Returns [lower-case name, value]. @see RFC 9112 §5.1, §5.2
 */
export function parseFieldLine(line: string): [string, string] | 400 {
  const m = FIELD_LINE.exec(line);
  if (m === null) return 400;
  return [m[1]!.toLowerCase(), m[2]!];
}

/** What a request target names once checked. */
export interface Target {
  /** The decoded path, starting with '/', every segment checked (no '.', '..', NUL, '/'). */
  path: string;
  /** The path as sent (still encoded), for redirects and logs. */
  rawPath: string;
  /** The query, without '?', or '' . */
  query: string;
  /** The authority of an absolute-form target. */
  authority?: string;
  /** `*` (asterisk-form, OPTIONS only). */
  asterisk?: boolean;
}

/**
 * Checks a request target: origin-form (`/path?query`), absolute-form (`http://host/path`),
 * or `*`. The path is percent-decoded once; the checks run on the decoded segments, so `%2e%2e`
 * is `..` and `%2f` is a separator a client cannot smuggle: a '..' segment is 403, an encoded
 * slash, NUL or a bad escape is 400. @see RFC 9112 §3.2, RFC 9110 §4.2.1, RFC 3986 §2.1
 */
export function parseTarget(target: string): Target | 400 | 403 {
  if (target === '*') return { path: '*', rawPath: '*', query: '', asterisk: true };
  let authority: string | undefined;
  let rest = target;
  if (!target.startsWith('/')) {
    const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(target);
    if (!m) return 400; // authority-form belongs to CONNECT, which is not served
    authority = m[1]!;
    rest = m[2] || '/';
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  if (rest.includes('#')) return 400; // a fragment is never sent (RFC 9110 §7.1)
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  const segments = rawPath.split('/');
  const decoded: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const raw = segments[i]!;
    const bytes = percentDecode(raw);
    if (bytes === undefined) return 400;
    // UTF-8 where valid; any other byte kept as itself (the core's byte names), so a Latin-1
    // name on disk is served as nginx and FTP serve it.
    const seg = decodeName(bytes);
    if (seg.includes('\0') || seg.includes('/') || seg.includes('\\')) return 400;
    if (seg === '..') return 403;
    if (seg === '.') continue;
    if (seg === '' && i < segments.length - 1) continue; // '//' collapses; a trailing '/' stays
    decoded.push(seg);
  }
  const path = `/${decoded.join('/')}`;
  return { path, rawPath, query, ...(authority !== undefined ? { authority } : {}) };
}

/**
 * The bytes of a percent-encoded path segment (RFC 3986 §2.1), or undefined for a bad escape.
 * A raw byte above 0x7f (not allowed in a target, sent by some clients) counts as itself: the
 * request line is read as latin1, one character per byte.
 */
function percentDecode(raw: string): Buffer | undefined {
  if (!raw.includes('%')) return Buffer.from(raw, 'latin1');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      out[n++] = c;
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return undefined;
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

/** A hex digit's value (either case), or -1 (NaN past the end included). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** A field's comma-separated list members, trimmed, empties dropped. @see RFC 9110 §5.6.1 */
export function listMembers(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
