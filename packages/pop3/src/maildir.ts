import { rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { errorText, outputBuffers, silentLogger, SimpleProducer, type Logger, type Producer } from '@gorgon/core';
import { MaildropError, type Maildrop, type MaildropMessage, type MaildropStore } from './maildrop.js';
import { MaildirLocks } from './maildir-lock.js';
import {
  ensureMaildir,
  fsyncDirectory,
  isNotRegular,
  linkedSubdirs,
  listEntries,
  listNames,
  type MaildirEntries,
  openMessage,
  userMaildir,
  type SkippedKind,
} from './maildir-fs.js';
import { compareMaildirNames, isHiddenName, parseMaildirName, type MaildirName } from './maildir-names.js';
import { formatIndex, readIndex, STABLE_MS, writeIndex, type DirIdentity } from './maildir-index.js';
import { mapLimit } from './map-limit.js';
import { sweepMaildirLeftovers } from './maildir-sweep.js';
import { loadSizeCache, saveSizeCache, stillValid, stillValidSync, type KnownSize } from './maildir-size-cache.js';
import { deferredClose, measure, MessageFileProducer, readKnownSize } from './message-file-producer.js';

/**
 * Messages at most this large (by the `,S=` size in their name) are read in one synchronous
 * call: one syscall sequence instead of three thread-pool round trips (open, read, close),
 * which measured about 2x the RETR rate for typical 2-4 KiB mail. A local read of this size
 * takes microseconds; larger messages are streamed asynchronously. Off (0) for Maildirs on a
 * network file system (`local: false`).
 */
const SMALL_MESSAGE = 64 * 1024;

/**
 * Cached sizes checked synchronously (local Maildirs) between two turns of the event loop:
 * about a millisecond of lstats, so other sessions are not held up by a 100,000-message login.
 */
const SYNC_CHECKS_PER_TURN = 512;

/** Options of {@link MaildirStore}. */
export interface MaildirStoreOptions {
  /** File operations in flight at once while opening or committing a maildrop. Default 32. */
  concurrency?: number;
  /** A lock not refreshed for this long is broken. Default 10 minutes. */
  staleLockMs?: number;
  /** Wire sizes remembered for messages whose names carry no `,W=`. Default 100,000. */
  sizeCacheEntries?: number;
  /**
   * Keep the sizes measured for messages whose names carry no `,W=` in a cache file in each
   * Maildir ({@link SIZE_CACHE_NAME}), so they survive a restart; each is used only while the
   * file is still the one measured (inode, size, mtime). Default true.
   */
  sizeCacheFile?: boolean;
  /**
   * `false` for Maildirs on a network file system (NFS, SMB): no message is read
   * synchronously, since one slow server round trip there would stall every session of the
   * process; every RETR and TOP then reads on the thread pool. Default true: small local
   * messages (64 KiB at most, by the `,S=` in their names) are read at once. The same switch
   * as the FTP server's `disk: { local: false }`.
   */
  local?: boolean;
  /**
   * Where entries that are not messages (symlinks, FIFOs, directories, devices in new/ or
   * cur/) are reported, once each, as `maildir-skipped` warnings. Default: none.
   */
  logger?: Logger;
}

/** Skipped entries remembered so each is logged once (bounded: a hostile user can make many). */
const MAX_WARNED = 10_000;

/** The lock file at the top of each Maildir (outside tmp/, new/ and cur/). */
export const MAILDIR_LOCK_NAME = 'gorgon-pop3.lock';

/**
 * Maildrops in Maildir format, one per user at `root/USER` (created at first login). Opening
 * takes a lock file (created exclusively, as a hard link to the store's template in the root,
 * removed by {@link MaildirStore.close}; shared by every Gorgon process on the Maildir), moves new/ into
 * cur/, and lists cur/ with bounded parallelism; sizes come from the `,W=` field that
 * {@link deliver} writes, or are measured once and cached. Deletions are unlinks at UPDATE.
 * Safe against concurrent delivery: deliverers only rename into new/, which is read once at
 * open. @see RFC 1939 §8, https://cr.yp.to/proto/maildir.html
 */
export class MaildirStore implements MaildropStore {
  readonly root: string;
  readonly #concurrency: number;
  /** Largest message read synchronously (0: none). */
  readonly #smallBytes: number;
  readonly #staleLockMs: number;
  /** Whether the Maildirs are on a local file system (`local` option). */
  readonly #local: boolean;
  readonly #sizeCacheEntries: number;
  /** Sizes by unique base name: Maildir message files never change content. */
  readonly #sizes = new Map<string, KnownSize>();
  readonly #sizeCacheFile: boolean;
  /** Maildirs whose size cache file this process has read. */
  readonly #loaded = new Set<string>();
  /** Per Maildir, the state of cur/ (inode:mtime) whose listing index this process wrote. */
  readonly #indexed = new Map<string, string>();
  /** Parsed file names (bounded like the sizes). */
  readonly #names = new Map<string, MaildirName>();
  readonly #logger: Logger;
  /** Entries already reported as skipped, by path. */
  readonly #warned = new Set<string>();
  /** The maildrop locks and their template: the store's, removed by close(). */
  readonly #locks = new MaildirLocks();
  /** Maildirs this process has swept of a killed process's leftovers (see maildir-sweep.ts). */
  readonly #swept = new Set<string>();

  constructor(root: string, options: MaildirStoreOptions = {}) {
    this.root = root;
    this.#concurrency = options.concurrency ?? 32;
    this.#local = options.local !== false;
    this.#smallBytes = this.#local ? SMALL_MESSAGE : 0;
    this.#staleLockMs = options.staleLockMs ?? 10 * 60_000;
    this.#sizeCacheEntries = options.sizeCacheEntries ?? 100_000;
    this.#sizeCacheFile = options.sizeCacheFile !== false;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The Maildir of `user`; throws {@link MaildropError} `'invalid-user'` for unsafe names. */
  maildirOf(user: string): string {
    const dir = userMaildir(this.root, user);
    if (!dir) throw new MaildropError('invalid-user', 'user name not usable as a Maildir name');
    return dir;
  }

  /**
   * Removes the store's lock templates (the server calls it when it closes). Open maildrops
   * keep their locks until released; the store stays usable, and writes a template again at
   * the next open, for another close.
   */
  async close(): Promise<void> {
    await this.#locks.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async open(user: string): Promise<Maildrop> {
    const dir = this.maildirOf(user);
    const lockPath = join(dir, MAILDIR_LOCK_NAME);
    // The lock template lives in the root, on the Maildirs' file system: locks are hard links to it.
    const lockOptions = { staleMs: this.#staleLockMs, templateDir: this.root };
    let lock;
    try {
      // The common case is a Maildir that exists: no mkdir calls on the login path.
      lock = await this.#locks.acquire(lockPath, lockOptions).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await ensureMaildir(dir);
        return this.#locks.acquire(lockPath, lockOptions);
      });
    } catch (err) {
      throw new MaildropError('io', `cannot lock ${dir}: ${errorText(err)}`, { cause: err });
    }
    if (!lock) throw new MaildropError('in-use', `maildrop ${dir} is locked`);
    try {
      // The first open in this process: a process killed before may have left files (a lock
      // moved aside, a cache's temporary file), read alongside the scan, under the lock.
      const [entries] = await Promise.all([this.#scan(dir), this.#swept.has(dir) ? undefined : this.#sweep(dir)]);
      return new OpenMaildir(dir, entries, lock.release, this.#concurrency, this.#smallBytes);
    } catch (err) {
      await lock.release();
      throw err instanceof MaildropError ? err : new MaildropError('io', `cannot read ${dir}: ${errorText(err)}`, { cause: err });
    }
  }

  /** Removes what a killed process left at the top of `dir`, once per process; logs it. */
  async #sweep(dir: string): Promise<void> {
    if (this.#swept.size >= this.#sizeCacheEntries) this.#swept.clear();
    this.#swept.add(dir);
    const removed = await sweepMaildirLeftovers(dir, MAILDIR_LOCK_NAME);
    if (removed.length > 0)
      this.#logger.info(
        { event: 'maildir-sweep', maildir: dir, removed },
        `removed ${removed.length} file(s) left in ${dir} by a process that was killed`,
      );
  }

  /** Moves new/ into cur/ and lists cur/ in delivery order, with sizes. */
  async #scan(dir: string, retried = false): Promise<Array<MaildirName & { size: number }>> {
    // Both directories are read at once; what is moved from new/ is added to the cur/ list by
    // name, and cur/ is read again only if another program moved something first.
    // Only regular files are messages (see listEntries): anything else stays where it is,
    // unlisted, and is reported once.
    // new/ and cur/ are checked (lstat) while they are read, not before: no added latency.
    // The first time this process opens the Maildir, its listing index is read with new/ and
    // the check of cur/, and used when it is the index of that cur/ (see maildir-index.ts);
    // otherwise the size cache file is read while cur/ is listed: a restarted server's first
    // login then waits for the longer of the two, not their sum.
    const listedAt = Date.now();
    const first = this.#sizeCacheFile && !this.#loaded.has(dir);
    let fresh0: Promise<MaildirEntries>;
    let subdirs0: Promise<Awaited<ReturnType<typeof linkedSubdirs>>>;
    let listed0: Promise<MaildirEntries | undefined>;
    let onDisk: Promise<Map<string, KnownSize>> | undefined;
    if (first) {
      fresh0 = listEntries(join(dir, 'new'));
      subdirs0 = linkedSubdirs(dir);
      // Not on a network file system: its server's clock sets the mtimes (see maildir-index.ts).
      const indexed = this.#local ? await this.#fromIndex(dir, fresh0, subdirs0) : undefined;
      if (indexed) return indexed;
      if (this.#loaded.size >= this.#sizeCacheEntries) this.#loaded.clear();
      this.#loaded.add(dir);
      onDisk = loadSizeCache(dir);
      listed0 = listEntries(join(dir, 'cur'), false);
    } else {
      [fresh0, listed0, subdirs0] = [listEntries(join(dir, 'new')), listEntries(join(dir, 'cur'), false), linkedSubdirs(dir)];
    }
    const [freshEntries, listed, subdirs] = await Promise.all([fresh0, listed0, subdirs0]);
    const { linked } = subdirs;
    if (linked.length > 0) {
      this.#warnSkipped(dir, '.', linked);
      throw new MaildropError(
        'io',
        `${dir}: ${linked.map((l) => `${l.name}/ is a ${l.kind}`).join(', ')}, not a directory: maildrop refused`,
      );
    }
    if (listed === undefined) {
      if (retried) throw new MaildropError('io', `${dir}/cur cannot be read`);
      // A Maildir missing a subdirectory (made by hand, half-created): complete it and rescan.
      await ensureMaildir(dir);
      await onDisk;
      this.#loaded.delete(dir);
      return this.#scan(dir, true);
    }
    this.#warnSkipped(dir, 'new', freshEntries.skipped);
    this.#warnSkipped(dir, 'cur', listed.skipped);
    const fresh = freshEntries.files;
    let cur = listed.files;
    const moved = await mapLimit(
      fresh.filter((n) => !isHiddenName(n)),
      this.#concurrency,
      async (name) => {
        const target = `${name}:2,`;
        try {
          await rename(join(dir, 'new', name), join(dir, 'cur', target));
          return target;
        } catch (err) {
          // A concurrent reader (an IMAP server) moved it first: it is in cur/ now. On a full
          // disk cur/ may need a new directory block: the message waits in new/ for a later
          // login, and this one can still delete what is in cur/ to free space.
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT' && code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
          return undefined;
        }
      },
    );
    if (moved.includes(undefined)) cur = (await listEntries(join(dir, 'cur'))).files;
    else cur.push(...(moved as string[]));
    const names = cur.filter((n) => !isHiddenName(n)).map((n) => this.#parse(n));
    names.sort(compareMaildirNames);
    const unknown = names.filter((n) => n.wireSize === undefined && !this.#sizes.has(n.base));
    if (unknown.length > 0) await this.#learnSizes(dir, names, unknown, await onDisk);
    // A file that vanished while we measured it is left out: it is not there to retrieve.
    // Each session gets its own entries (a relocated message changes its `name`), built as one
    // literal: an object spread of the cached names cost more than the rest of the scan. A
    // measured message's size on disk counts as its `,S=`: small ones are then read at once.
    const entries: Array<MaildirName & { size: number }> = [];
    for (const n of names) {
      const known = n.wireSize === undefined ? this.#sizes.get(n.base) : undefined;
      const size = n.wireSize ?? known?.wire;
      if (size === undefined) continue;
      const rawSize = n.rawSize ?? known?.raw;
      entries.push({
        name: n.name,
        base: n.base,
        rawSize,
        wireSize: n.wireSize,
        uid: n.uid,
        time: n.time,
        micros: n.micros,
        seq: n.seq,
        size,
      });
    }
    if (this.#sizeCacheFile && this.#local && moved.length === 0 && listed.skipped.length === 0 && entries.length === names.length) {
      await this.#saveIndex(dir, subdirs.cur, listedAt, names, entries);
    }
    return entries;
  }

  /**
   * The maildrop from its listing index (the first open in this process), when the index is of
   * the cur/ there now and new/ holds nothing to move; undefined otherwise. The memory caches
   * are left alone: the next open of this Maildir takes the ordinary path with its size cache.
   */
  async #fromIndex(
    dir: string,
    fresh: Promise<MaildirEntries>,
    subdirs: Promise<Awaited<ReturnType<typeof linkedSubdirs>>>,
  ): Promise<Array<MaildirName & { size: number }> | undefined> {
    const { cur, linked } = await subdirs;
    if (!cur || linked.length > 0) return undefined;
    const [indexed, pending] = await Promise.all([readIndex(dir, cur), fresh]);
    if (!indexed || pending.files.length > 0 || pending.skipped.length > 0) return undefined;
    return indexed;
  }

  /**
   * Writes the listing index after a scan, when every size was known without reading a file
   * (sizes in the names, or names carrying the inode they were measured on) and cur/ had not changed for
   * {@link STABLE_MS} when it was listed; at most once per state of cur/ in this process.
   */
  async #saveIndex(
    dir: string,
    cur: DirIdentity | undefined,
    listedAt: number,
    names: readonly MaildirName[],
    entries: ReadonlyArray<MaildirName & { size: number }>,
  ): Promise<void> {
    if (!cur || Number(cur.mtimeNs / 1_000_000n) + STABLE_MS >= listedAt) return;
    const state = `${cur.ino}:${cur.mtimeNs}`;
    if (this.#indexed.get(dir) === state) return;
    // As the size cache trusts them: sizes in the name, or a size measured on the very inode
    // the name carries (a message edited in place would otherwise keep a stale size).
    if (!names.every((n) => n.wireSize !== undefined || (n.inode !== undefined && this.#sizes.get(n.base)?.ino === n.inode))) return;
    if (this.#indexed.size >= this.#sizeCacheEntries) this.#indexed.clear();
    this.#indexed.set(dir, state);
    // Under the maildrop's lock. One that cannot be written (a full disk) costs a scan later.
    await writeIndex(dir, formatIndex(cur, entries)).catch((err: unknown) => {
      this.#indexed.delete(dir);
      this.#logger.debug({ event: 'maildir-index', maildir: dir, error: errorText(err) }, 'listing index not written');
    });
  }

  /**
   * Sizes of messages whose names carry none (Postfix, procmail): from the Maildir's size cache
   * (`onDisk`: read the first time this process opens the Maildir; after that the memory cache
   * is the newer) where the file is still the one measured, else measured; the cache file is
   * rewritten when anything was measured, so a restart does not read every message again.
   */
  async #learnSizes(
    dir: string,
    names: readonly MaildirName[],
    unknown: readonly MaildirName[],
    onDisk: Map<string, KnownSize> | undefined,
  ): Promise<void> {
    let measured = 0;
    // Cached entries whose file is to be checked on the thread pool (a network file system).
    const checkLater = new Map<MaildirName, KnownSize>();
    const toMeasure: MaildirName[] = [];
    if (onDisk && onDisk.size > 0) {
      const prefix = join(dir, 'cur', '/');
      let checked = 0;
      for (const n of unknown) {
        const hit = onDisk.get(n.base);
        if (!hit) toMeasure.push(n);
        // A name that carries the inode its file was written as (Postfix, Dovecot) names that
        // very file, which the cached entry was measured on: no lstat, so a restarted server's
        // first login on 10,000 such messages does not make 10,000 system calls. Maildir files
        // are not rewritten in place (the memory cache trusts the name alone too).
        else if (n.inode !== undefined && hit.ino === n.inode) this.#remember(n.base, hit);
        else if (!this.#local) checkLater.set(n, hit);
        else {
          // Local: synchronous lstats (~2 µs, against ~10 µs of event-loop time for a
          // promise-based one), in slices so other sessions are not held up meanwhile.
          if (++checked % SYNC_CHECKS_PER_TURN === 0) await yieldToLoop();
          if (stillValidSync(prefix + n.name, hit)) this.#remember(n.base, hit);
          else toMeasure.push(n);
        }
      }
    } else toMeasure.push(...unknown);
    await mapLimit([...checkLater.keys(), ...toMeasure], this.#concurrency, async (n) => {
      const path = join(dir, 'cur', n.name);
      const hit = checkLater.get(n);
      if (hit && (await stillValid(path, hit))) return this.#remember(n.base, hit);
      const known = await measure(path).catch(() => undefined);
      if (!known) return;
      this.#remember(n.base, known);
      measured++;
    });
    if (measured === 0 || !this.#sizeCacheFile) return;
    const keep: Array<[string, KnownSize]> = [];
    for (const n of names) {
      const known = n.wireSize === undefined ? this.#sizes.get(n.base) : undefined;
      if (known) keep.push([n.base, known]);
    }
    // Under the maildrop's lock, so no other Gorgon process writes it at the same time. A cache
    // that cannot be written (a full disk) costs measuring again later, nothing else.
    await saveSizeCache(dir, keep).catch((err: unknown) => {
      this.#logger.debug({ event: 'maildir-size-cache', maildir: dir, error: errorText(err) }, 'size cache not written');
    });
  }

  /** Parses a file name, from a cache: names never change meaning, and logins repeat them. */
  #parse(name: string): MaildirName {
    let parsed = this.#names.get(name);
    if (!parsed) {
      parsed = parseMaildirName(name);
      if (this.#names.size >= this.#sizeCacheEntries) {
        const oldest = this.#names.keys().next().value;
        if (oldest !== undefined) this.#names.delete(oldest);
      }
      this.#names.set(name, parsed);
    }
    return parsed;
  }

  #warnSkipped(dir: string, sub: 'new' | 'cur' | '.', skipped: ReadonlyArray<{ name: string; kind: SkippedKind }>): void {
    for (const { name, kind } of skipped) {
      if (isHiddenName(name)) continue;
      const path = join(dir, sub, name);
      if (this.#warned.has(path)) continue;
      if (this.#warned.size >= MAX_WARNED) this.#warned.clear();
      this.#warned.add(path);
      if (sub === '.')
        this.#logger.warn(
          { event: 'maildir-refused', maildir: dir, entry: name, kind },
          `${name}/ is a ${kind}, not a directory: the maildrop is refused`,
        );
      else
        this.#logger.warn(
          { event: 'maildir-skipped', maildir: dir, entry: name, kind },
          `${sub}/ entry is a ${kind}, not a regular file: not a message, skipped`,
        );
    }
  }

  #remember(base: string, known: KnownSize): void {
    if (this.#sizes.size >= this.#sizeCacheEntries) {
      const oldest = this.#sizes.keys().next().value;
      if (oldest !== undefined) this.#sizes.delete(oldest);
    }
    this.#sizes.set(base, known);
  }
}

/** A message file opened and checked to be a regular file, with its size on disk. */
interface OpenedMessage {
  handle: FileHandle;
  size: number;
  /** Its first bytes, when it was opened ahead of its RETR. */
  first?: Buffer;
}

/**
 * Bytes of the next (large) message read ahead with its open: a lock-step client's next RETR
 * then starts with data in hand instead of a thread-pool read, while one session holds at
 * most this much ahead.
 */
const READ_AHEAD = 256 * 1024;

/** Opens a message and reads its first bytes; undefined when either fails (RETR tries again). */
async function openAhead(path: string): Promise<OpenedMessage | undefined> {
  let opened;
  try {
    opened = await openMessage(path);
  } catch {
    return undefined;
  }
  try {
    // Given back to `outputBuffers` by the producer once escaped (or below, if never used).
    const first = outputBuffers.take(Math.min(opened.size, READ_AHEAD));
    const { bytesRead } = await opened.handle.read(first, 0, first.length, 0);
    return { handle: opened.handle, size: opened.size, first: first.subarray(0, bytesRead) };
  } catch {
    await opened.handle.close().catch(() => undefined);
    return undefined;
  }
}

/** A message opened ahead and not sent after all: closed, its first bytes' buffer given back. */
async function dropOpened(opened: OpenedMessage | undefined): Promise<void> {
  if (!opened) return;
  if (opened.first) outputBuffers.give(opened.first);
  await opened.handle.close();
}

/**
 * A message whose file was replaced, after the listing, by something that is not a regular
 * file (a symlink, a FIFO): refused like a removed message, never followed or waited on.
 */
function notAMessage(entry: MaildirName): MaildropError {
  return new MaildropError('gone', `message ${entry.base} is no longer a regular file`);
}

/**
 * Bytes of small messages read ahead, by every open maildrop of the process together, at most:
 * a session that stops after a RETR holds its next message until it goes on or ends, and many
 * such sessions must not add up to much memory.
 */
const SMALL_AHEAD_BUDGET = 8 * 1024 * 1024;
let smallAheadBytes = 0;

/** Bytes of small messages read ahead now, process-wide (for tests). */
export function smallReadAheadBytes(): number {
  return smallAheadBytes;
}

/** One session's view of a Maildir while its lock is held. */
class OpenMaildir implements Maildrop {
  readonly messages: readonly MaildropMessage[];
  readonly #dir: string;
  /** `DIR/cur/`, to which a message's file name is appended (path.join per RETR costs ~0.4 µs). */
  readonly #curPrefix: string;
  readonly #entries: Array<MaildirName & { size: number }>;
  readonly #release: () => Promise<void>;
  readonly #concurrency: number;
  readonly #smallBytes: number;
  #released = false;
  /** The descriptor of this maildrop's last small read, closed after the reply (not the process's). */
  readonly #unclosed = deferredClose();
  /** The next message, opened ahead of its RETR (undefined when the open failed). */
  #ahead: { index: number; opened: Promise<OpenedMessage | undefined> } | undefined;
  /** The next small message, read after the last small RETR's reply went out. */
  #smallAhead: { index: number; data: Buffer } | undefined;
  /** The message RETR read last, whose next one the small read-ahead reads (-1: none yet). */
  #lastRead = -1;
  #smallAheadDue = false;

  constructor(
    dir: string,
    entries: Array<MaildirName & { size: number }>,
    release: () => Promise<void>,
    concurrency: number,
    smallBytes: number,
  ) {
    this.#dir = dir;
    this.#curPrefix = join(dir, 'cur', '/');
    this.#entries = entries;
    this.#release = release;
    this.#concurrency = concurrency;
    this.#smallBytes = smallBytes;
    this.messages = entries.map((e) => ({ uid: e.uid, size: e.size }));
  }

  async read(index: number): Promise<Producer> {
    const entry = this.#entries[index];
    if (!entry) throw new MaildropError('gone', `no message ${index + 1}`);
    if (this.#isSmall(entry)) return new SimpleProducer(await this.#readSmall(entry));
    const ahead = this.#ahead;
    this.#ahead = undefined;
    let opened = ahead?.index === index ? await ahead.opened : undefined;
    if (ahead && !opened) void ahead.opened.then(dropOpened).catch(() => undefined);
    opened ??= await this.#open(entry);
    // Clients fetch in order (fetchmail, mpop, poplib loops): open the next message (and read
    // its first bytes) while this one is sent, so the next RETR does not wait for either.
    const next = this.#entries[index + 1];
    if (next && !this.#isSmall(next) && !this.#released) this.#ahead = { index: index + 1, opened: openAhead(this.#path(next)) };
    else if (next) this.#scheduleSmallAhead(index);
    // Reads sized to the message (the fstat of the open): a 1 MiB buffer per RETR of a 2 KiB
    // message made GC a third of the server's CPU at 1,000 RETRs.
    return new MessageFileProducer(opened.handle, opened.size, opened.first);
  }

  /**
   * A small message read at once; undefined for a large one or one renamed since the listing
   * (flags changed by another program): `read` then streams it, or finds it again.
   */
  readNow(index: number): Buffer | undefined {
    const entry = this.#entries[index];
    if (!entry) throw new MaildropError('gone', `no message ${index + 1}`);
    if (!this.#isSmall(entry)) return undefined;
    const ahead = this.#dropSmallAhead();
    let data: Buffer;
    if (ahead?.index === index) data = ahead.data;
    else {
      try {
        // Into a recycled buffer, given back once this run of code is over (see Maildrop.readNow).
        data = readKnownSize(this.#path(entry), entry.rawSize!, this.#unclosed, true);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw isNotRegular(err) ? notAMessage(entry) : err;
      }
    }
    this.#scheduleSmallAhead(index);
    return data;
  }

  /**
   * Clients fetch in order (fetchmail, mpop, poplib loops), and a lock-step one sends its next
   * RETR only once it has read this reply: read the next small message right after this reply
   * is written (the loop's check phase), while the client takes the reply in, so that RETR is
   * answered from memory. At most one message per maildrop, within the process's
   * {@link SMALL_AHEAD_BUDGET}; a failed read is left for the RETR to meet and report.
   */
  #scheduleSmallAhead(index: number): void {
    // Maildir message files are never rewritten (flags change by rename), so bytes read a
    // moment early are the bytes RETR would read.
    this.#lastRead = index;
    if (this.#smallAheadDue || this.#released) return;
    this.#smallAheadDue = true;
    setImmediate(() => {
      this.#smallAheadDue = false;
      const next = this.#lastRead + 1;
      const entry = this.#entries[next];
      if (this.#released || this.#smallAhead || !entry || !this.#isSmall(entry)) return;
      if (smallAheadBytes + entry.rawSize! > SMALL_AHEAD_BUDGET) return;
      try {
        const data = readKnownSize(this.#path(entry), entry.rawSize!, this.#unclosed);
        this.#smallAhead = { index: next, data };
        smallAheadBytes += data.length;
      } catch {
        // renamed, removed or no longer a regular file: its RETR finds out and says so
      }
    });
  }

  /** Takes the small message read ahead, if any, out of the budget. */
  #dropSmallAhead(): { index: number; data: Buffer } | undefined {
    const ahead = this.#smallAhead;
    if (ahead) {
      this.#smallAhead = undefined;
      smallAheadBytes -= ahead.data.length;
    }
    return ahead;
  }

  /** Whether a message is read synchronously: its name says it is small, and the store is local. */
  #isSmall(entry: MaildirName): boolean {
    return this.#smallBytes > 0 && entry.rawSize !== undefined && entry.rawSize <= this.#smallBytes;
  }

  /** A small message read whole; a renamed one is found again. */
  async #readSmall(entry: MaildirName): Promise<Buffer> {
    const attempt = (): Buffer | undefined => {
      try {
        return readKnownSize(this.#path(entry), entry.rawSize!, this.#unclosed);
      } catch (err) {
        if (isNotRegular(err)) throw notAMessage(entry);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return undefined;
      }
    };
    const data = attempt() ?? ((await this.#relocate(entry)) ? attempt() : undefined);
    if (!data) throw new MaildropError('gone', `message ${entry.base} was removed`);
    return data;
  }

  async #open(entry: MaildirName): Promise<OpenedMessage> {
    try {
      try {
        return await openMessage(this.#path(entry));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // An IMAP server may have renamed it to change its flags: look for the same base once.
        if (!(await this.#relocate(entry))) throw new MaildropError('gone', `message ${entry.base} was removed`);
        return await openMessage(this.#path(entry));
      }
    } catch (err) {
      throw isNotRegular(err) ? notAMessage(entry) : err;
    }
  }

  async commit(deleted: ReadonlySet<number>): Promise<{ failed: number }> {
    if (this.#released) throw new MaildropError('io', 'maildrop already released');
    const doomed = [...deleted].map((i) => this.#entries[i]).filter((e): e is MaildirName & { size: number } => e !== undefined);
    let failed = 0;
    try {
      const results = await mapLimit(doomed, this.#concurrency, (entry) => this.#remove(entry));
      failed = results.filter((ok) => !ok).length;
      if (doomed.length > 0) await fsyncDirectory(join(this.#dir, 'cur'));
    } finally {
      await this.release();
    }
    return { failed };
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    this.#dropSmallAhead();
    const ahead = this.#ahead;
    this.#ahead = undefined;
    await ahead?.opened.then(dropOpened).catch(() => undefined);
    await this.#release();
  }

  /** Unlinks one message; a message already gone counts as removed. */
  async #remove(entry: MaildirName): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await unlink(this.#path(entry));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
        if (!(await this.#relocate(entry))) return true;
      }
    }
    return false;
  }

  /** Finds the current name of a message whose flags part changed; false when it is gone. */
  async #relocate(entry: MaildirName): Promise<boolean> {
    const names = await listNames(join(this.#dir, 'cur'));
    const found = names.find((n) => n === entry.base || n.startsWith(`${entry.base}:`));
    if (found === undefined) return false;
    entry.name = found;
    return true;
  }

  #path(entry: MaildirName): string {
    return this.#curPrefix + entry.name;
  }
}
