import { isUtf8 } from 'node:buffer';

/**
 * Names are bytes. A name (an FTP command line's path, an HTTP path's percent-decoded bytes, an
 * entry read from disk) is decoded as UTF-8 where it is valid UTF-8 (RFC 2640), and each byte
 * that is not part of valid UTF-8 becomes the lone surrogate U+DC80 + (byte − 0x80), as
 * Python's "surrogateescape" does: lossless, and ordinary names stay ordinary strings for a
 * store. Replies, listings and the disk stores' system calls encode such a string back to the
 * very bytes it came from, so a Latin-1 name on disk is listed, served and stored as the bytes
 * it is (as vsftpd and nginx do), never as U+FFFD.
 * @see RFC 2640 §2.2 (UTF-8 pathnames), §3.1 (servers that keep names as raw bytes)
 */

/** A string holding an escaped byte (a lone low surrogate U+DC80–U+DCFF; a pair never matches). */
const ESCAPED = /[\uDC80-\uDCFF]/u;
// The same code units, paired or not: a faster first test (the u flag costs on every string).
const MAYBE_ESCAPED = /[\uDC80-\uDCFF]/;
const ESCAPED_RUNS = /[\uDC80-\uDCFF]+/gu;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the range is "all of ASCII"; NUL is its lower bound, not a character looked for
const NON_ASCII = /[^\x00-\x7f]/;

/** True when `text` holds a byte that is not valid UTF-8 (see {@link decodeName}). */
export function hasEscapes(text: string): boolean {
  return MAYBE_ESCAPED.test(text) && ESCAPED.test(text);
}

/**
 * Decodes bytes into a name: UTF-8 where valid, each other byte as U+DC80 + (byte − 0x80)
 * ("surrogateescape"). Valid UTF-8 never encodes a surrogate, so the mapping is one-to-one.
 */
export function decodeName(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b);
    run = ++i;
  }
  return out + bytes.toString('utf8', run);
}

/** A line read as latin1 (one character per byte) decoded as {@link decodeName} does. */
export function decodeLatin1Line(line: string): string {
  return NON_ASCII.test(line) ? decodeName(Buffer.from(line, 'latin1')) : line;
}

/** The bytes of a name: UTF-8, with each escaped byte (see {@link decodeName}) as itself. */
export function encodeName(text: string): Buffer {
  if (!hasEscapes(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(ESCAPED_RUNS)) {
    const at = m.index;
    if (at > last) parts.push(Buffer.from(text.slice(last, at), 'utf8'));
    const run = m[0];
    const bytes = Buffer.allocUnsafe(run.length);
    for (let j = 0; j < run.length; j++) bytes[j] = run.charCodeAt(j) - 0xdc00;
    parts.push(bytes);
    last = at + run.length;
  }
  if (last < text.length) parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/** Text for the wire: unchanged when it has no escaped byte (the usual case), else its bytes. */
export function toWire(text: string): string | Buffer {
  return hasEscapes(text) ? encodeName(text) : text;
}

/** A path for a Node fs call: the string itself, or its exact bytes when it holds escaped ones. */
export function hostPath(path: string): string | Buffer {
  return hasEscapes(path) ? encodeName(path) : path;
}

/** Length of the valid UTF-8 sequence at `i` (RFC 3629 §4), or 0. */
function sequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no surrogates
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
