import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openMessage } from './maildir-fs.js';
import type { MaildirName } from './maildir-names.js';

/**
 * The listing index at the top of a Maildir: the maildrop as the last scan saw it (cur/ in
 * delivery order, with uids and sizes), and the identity of cur/ when it was listed (inode and
 * mtime in nanoseconds). A restarted server's first login uses it instead of listing cur/ and
 * parsing every name, when cur/ is still that directory with that mtime and new/ is empty:
 * Dovecot's uidlist and index serve the same purpose. Measured on 10,000 messages: the first
 * login of a fresh process went from ~70 ms to ~15 ms of store time.
 *
 * When it may be trusted: a directory's mtime changes whenever an entry is added, removed or
 * renamed in it, but the kernel's clock for it is coarse (milliseconds), so a change made in the
 * same tick as the recorded mtime could go unseen. An index is therefore written only when cur/
 * had not changed for {@link STABLE_MS} before it was listed: any later change happens in a later
 * tick and gives another mtime. Only maildrops whose every size is known without reading the
 * file are indexed (sizes in the names, or names that carry the file's inode, which Maildir
 * files keep: they are never rewritten in place); others take the ordinary scan.
 */
export const INDEX_NAME = 'gorgon-pop3.index';

/** How long cur/ must have been unchanged before its listing is indexed. */
export const STABLE_MS = 2000;

const VERSION = 1;
/** An index larger than this is not read: one user's Maildir cannot make the server allocate more. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

/** What cur/ was when it was listed. */
export interface DirIdentity {
  ino: bigint;
  mtimeNs: bigint;
}

/**
 * One indexed message, as a scan would have found it (its delivery order is the index's order;
 * the name's time fields are not kept): made here in the form the store uses, once.
 */
export type IndexedMessage = MaildirName & { size: number };

interface IndexFile {
  v: number;
  ino: string;
  mtimeNs: string;
  name: string[];
  /** The uid, or 0 when it is the name's base (most names). */
  uid: Array<string | 0>;
  size: number[];
  /** Octets on disk, or -1 when unknown. */
  raw: number[];
}

/** The index of `dir` if it was taken of the cur/ that is there now (`cur`), else undefined. */
export async function readIndex(dir: string, cur: DirIdentity): Promise<IndexedMessage[] | undefined> {
  let opened;
  try {
    opened = await openMessage(join(dir, INDEX_NAME));
  } catch {
    return undefined;
  }
  try {
    if (opened.size > MAX_INDEX_BYTES) return undefined;
    return parseIndex((await opened.handle.readFile()).toString('utf8'), cur);
  } catch {
    return undefined;
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}

/** Parses an index; undefined unless it is well formed and taken of `cur`. */
export function parseIndex(text: string, cur: DirIdentity): IndexedMessage[] | undefined {
  let file: IndexFile;
  try {
    file = JSON.parse(text) as IndexFile;
  } catch {
    return undefined;
  }
  if (file === null || typeof file !== 'object' || file.v !== VERSION) return undefined;
  if (file.ino !== String(cur.ino) || file.mtimeNs !== String(cur.mtimeNs)) return undefined;
  const { name, uid, size, raw } = file;
  if (!Array.isArray(name) || !Array.isArray(uid) || !Array.isArray(size) || !Array.isArray(raw)) return undefined;
  const n = name.length;
  if (uid.length !== n || size.length !== n || raw.length !== n) return undefined;
  const out: IndexedMessage[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const nm = name[i];
    const u = uid[i];
    const s = size[i];
    const r = raw[i];
    if (!isEntryName(nm)) return undefined;
    if (!Number.isSafeInteger(s) || (s as number) < 0 || !Number.isSafeInteger(r) || (r as number) < -1) return undefined;
    const colon = nm.indexOf(':');
    const base = colon === -1 ? nm : nm.slice(0, colon);
    let id: string;
    if (u === 0) id = base;
    else if (typeof u === 'string' && UID.test(u)) id = u;
    else return undefined;
    out[i] = {
      name: nm,
      base,
      rawSize: (r as number) < 0 ? undefined : (r as number),
      wireSize: undefined,
      uid: id,
      time: 0,
      micros: 0,
      seq: 0,
      size: s as number,
    };
  }
  return out;
}

/**
 * A cur/ entry name: not empty, not hidden, no slash, no NUL. Checked with string searches: a
 * restarted server's first login checks 10,000 of them before any of its code is optimised, and
 * a regular expression's first runs are interpreted.
 */
function isEntryName(name: unknown): name is string {
  return (
    typeof name === 'string' && name.length > 0 && name.charCodeAt(0) !== 0x2e && name.indexOf('/') === -1 && name.indexOf('\0') === -1
  );
}
/** A POP3 uid: 1-70 printable characters (RFC 1939 §7). */
const UID = /^[\x21-\x7e]{1,70}$/;

/** The text of an index of `entries` (in delivery order) for a cur/ that is `cur`. */
export function formatIndex(cur: DirIdentity, entries: ReadonlyArray<MaildirName & { size: number }>): string {
  const file: IndexFile = { v: VERSION, ino: String(cur.ino), mtimeNs: String(cur.mtimeNs), name: [], uid: [], size: [], raw: [] };
  for (const e of entries) {
    file.name.push(e.name);
    file.uid.push(e.uid === e.base ? 0 : e.uid);
    file.size.push(e.size);
    file.raw.push(e.rawSize ?? -1);
  }
  return JSON.stringify(file);
}

/**
 * Replaces the index of `dir` atomically (a temporary file created exclusively beside it, then
 * renamed over it). Not fsynced: an index lost in a crash costs one ordinary scan.
 */
export async function writeIndex(dir: string, text: string): Promise<void> {
  const temp = join(dir, `.${INDEX_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, INDEX_NAME));
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
