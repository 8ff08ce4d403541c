import { randomBytes } from 'node:crypto';
import { lstatSync, type Stats } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openMessage } from './maildir-fs.js';

/**
 * What a measured message file is known by: its sizes, and the identity of the file they were
 * measured on (inode, size on disk, mtime), which must still match for a cached size to be used.
 */
export interface KnownSize {
  /** Octets on disk. */
  raw: number;
  /** Octets on the wire (CRLF line ends, final line end), dot-stuffing excluded. */
  wire: number;
  ino: number;
  mtimeMs: number;
}

/**
 * The size cache at the top of a Maildir (beside the lock, outside tmp/, new/ and cur/): the
 * sizes of messages whose names carry no `,W=` (Postfix, procmail and mbox conversions write
 * none), so a restarted server does not read every message again at the first login. Dovecot
 * keeps the same in its index cache. @see RFC 1939 §5 (LIST, STAT report sizes)
 */
export const SIZE_CACHE_NAME = 'gorgon-pop3.sizes';

const HEADER = 'gorgon-pop3-sizes 1';
/** A line: `ino raw mtimeMs wire base`; the base is last, as it is the only free-form field. */
const LINE = /^(\d{1,20}) (\d{1,15}) (\d{1,16}(?:\.\d{1,20})?) (\d{1,15}) ([^\s/:][^\n\r/:]*)$/;
/** A cache larger than this is not read: one user's Maildir cannot make the server allocate more. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The cached sizes of the Maildir `dir`, by message base name. Empty when there is no cache,
 * when it is not a regular file (opened like a message: never following a link, never waiting
 * on a FIFO), too large, or not entirely well formed: a corrupt cache is ignored as a whole.
 */
export async function loadSizeCache(dir: string): Promise<Map<string, KnownSize>> {
  const empty = new Map<string, KnownSize>();
  let opened;
  try {
    opened = await openMessage(join(dir, SIZE_CACHE_NAME));
  } catch {
    return empty;
  }
  try {
    if (opened.size > MAX_CACHE_BYTES) return empty;
    const text = (await opened.handle.readFile()).toString('utf8');
    return parseSizeCache(text) ?? empty;
  } catch {
    return empty;
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}

/** Parses a size cache; undefined when any part of it is not as {@link formatSizeCache} writes. */
export function parseSizeCache(text: string): Map<string, KnownSize> | undefined {
  // Written whole (temp file + rename): it ends with a line end, so a cut-short file is refused.
  if (!text.startsWith(`${HEADER}\n`) || !text.endsWith('\n')) return undefined;
  const out = new Map<string, KnownSize>();
  // Scanned by hand rather than split and matched with LINE: a restarted server reads the
  // cache of a 10,000-message Maildir at the first login, and the regex cost 1 µs a line.
  for (let at = HEADER.length + 1; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const ino = digits(text, at, end, 20, false);
    const raw = ino < 0 ? -1 : digits(text, ino + 1, end, 15, false);
    const mtime = raw < 0 ? -1 : digits(text, raw + 1, end, 16, true);
    const wire = mtime < 0 ? -1 : digits(text, mtime + 1, end, 15, false);
    if (wire < 0 || text.charCodeAt(wire) !== SPACE) return undefined;
    const base = text.slice(wire + 1, end);
    if (!BASE.test(base)) return undefined;
    out.set(base, {
      ino: Number(text.slice(at, ino)),
      raw: Number(text.slice(ino + 1, raw)),
      mtimeMs: Number(text.slice(raw + 1, mtime)),
      wire: Number(text.slice(mtime + 1, wire)),
    });
    at = end + 1;
  }
  return out;
}

const SPACE = 0x20;
const BASE = /^[^\s/:][^\n\r/:]*$/;

/**
 * Where a run of 1 to `max` digits starting at `from` ends (before `end`), followed by a space;
 * with `fraction`, optionally a '.' and 1 to 20 more digits. -1 when the text is not that.
 */
function digits(text: string, from: number, end: number, max: number, fraction: boolean): number {
  let at = from;
  while (at < end && at - from <= max) {
    const c = text.charCodeAt(at);
    if (c < 0x30 || c > 0x39) break;
    at++;
  }
  if (at === from || at - from > max) return -1;
  if (fraction && text.charCodeAt(at) === 0x2e) {
    const dot = ++at;
    while (at < end && at - dot <= 20) {
      const c = text.charCodeAt(at);
      if (c < 0x30 || c > 0x39) break;
      at++;
    }
    if (at === dot || at - dot > 20) return -1;
  }
  return at < end && text.charCodeAt(at) === SPACE ? at : -1;
}

/** The text of a size cache holding `entries` (names that could not be read back are left out). */
export function formatSizeCache(entries: Iterable<readonly [string, KnownSize]>): string {
  const parts = [HEADER, '\n'];
  for (const [base, k] of entries) {
    const line = `${k.ino} ${k.raw} ${k.mtimeMs} ${k.wire} ${base}`;
    if (LINE.test(line)) parts.push(line, '\n');
  }
  return parts.join('');
}

/**
 * Replaces the size cache of `dir` atomically: written to a temporary file beside it (created
 * exclusively, so nothing planted under that name is followed) and renamed over it, so a reader
 * sees the old cache or the new one. Not fsynced: a cache lost in a crash is measured again.
 * Rejects (after removing the temporary file) when it cannot be written, on a full disk say.
 */
export async function saveSizeCache(dir: string, entries: Iterable<readonly [string, KnownSize]>): Promise<void> {
  const temp = join(dir, `.${SIZE_CACHE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(formatSizeCache(entries));
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, SIZE_CACHE_NAME));
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/**
 * A cached size if the file at `path` is still the one it was measured on (same inode, size
 * and mtime: a message replaced or edited in place under the same name is measured again).
 */
export async function stillValid(path: string, known: KnownSize): Promise<boolean> {
  try {
    return matches(await lstat(path), known);
  } catch {
    return false;
  }
}

/**
 * {@link stillValid}, synchronously: for local Maildirs, where an lstat of a cached directory
 * entry takes a microsecond or two, while a promise-based one costs the event loop about ten
 * (measured: 10,000 of them made a restarted server's first login 5x slower than Dovecot's).
 */
export function stillValidSync(path: string, known: KnownSize): boolean {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st !== undefined && matches(st, known);
  } catch {
    return false;
  }
}

function matches(st: Stats, known: KnownSize): boolean {
  return st.isFile() && st.ino === known.ino && st.size === known.raw && st.mtimeMs === known.mtimeMs;
}
