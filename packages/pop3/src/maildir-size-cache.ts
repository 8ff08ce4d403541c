import { randomBytes } from 'node:crypto';
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
  const lines = text.split('\n');
  // Written whole (temp file + rename): it ends with a line end, so a cut-short file is refused.
  if (lines[0] !== HEADER || lines.pop() !== '') return undefined;
  const out = new Map<string, KnownSize>();
  for (let i = 1; i < lines.length; i++) {
    const m = LINE.exec(lines[i]!);
    if (!m) return undefined;
    out.set(m[5]!, { ino: Number(m[1]), raw: Number(m[2]), mtimeMs: Number(m[3]), wire: Number(m[4]) });
  }
  return out;
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
    const st = await lstat(path);
    return st.isFile() && st.ino === known.ino && st.size === known.raw && st.mtimeMs === known.mtimeMs;
  } catch {
    return false;
  }
}
