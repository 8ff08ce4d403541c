import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errorText, SimpleProducer, type Producer } from '@gorgon/core';
import { MaildropError, type Maildrop, type MaildropMessage, type MaildropStore } from './maildrop.js';
import { acquireMaildirLock } from './maildir-lock.js';
import { ensureMaildir, fsyncDirectory, listNames, userMaildir } from './maildir-fs.js';
import { compareMaildirNames, isHiddenName, parseMaildirName, type MaildirName } from './maildir-names.js';
import { mapLimit } from './map-limit.js';
import { MessageFileProducer } from './message-file-producer.js';
import { WireSizeCounter } from './wire-size.js';

/**
 * Messages at most this large (by the `,S=` size in their name) are read in one synchronous
 * call: one syscall sequence instead of three thread-pool round trips (open, read, close),
 * which measured about 2x the RETR rate for typical 2-4 KiB mail. A local read of this size
 * takes microseconds; larger messages are streamed asynchronously.
 */
const SMALL_MESSAGE = 64 * 1024;

function isSmall(entry: MaildirName | undefined): boolean {
  return entry?.rawSize !== undefined && entry.rawSize <= SMALL_MESSAGE;
}

/** Options of {@link MaildirStore}. */
export interface MaildirStoreOptions {
  /** File operations in flight at once while opening or committing a maildrop. Default 32. */
  concurrency?: number;
  /** A lock not refreshed for this long is broken. Default 10 minutes. */
  staleLockMs?: number;
  /** Wire sizes remembered for messages whose names carry no `,W=`. Default 100,000. */
  sizeCacheEntries?: number;
}

/** The lock file at the top of each Maildir (outside tmp/, new/ and cur/). */
export const MAILDIR_LOCK_NAME = 'gorgon-pop3.lock';

/**
 * Maildrops in Maildir format, one per user at `root/USER` (created at first login). Opening
 * takes a lock file (created exclusively, as a hard link to a per-process template in the root;
 * shared by every Gorgon process on the Maildir), moves new/ into
 * cur/, and lists cur/ with bounded parallelism; sizes come from the `,W=` field that
 * {@link deliver} writes, or are measured once and cached. Deletions are unlinks at UPDATE.
 * Safe against concurrent delivery: deliverers only rename into new/, which is read once at
 * open. @see RFC 1939 §8, https://cr.yp.to/proto/maildir.html
 */
export class MaildirStore implements MaildropStore {
  readonly root: string;
  readonly #concurrency: number;
  readonly #staleLockMs: number;
  readonly #sizeCacheEntries: number;
  /** Wire sizes by unique base name: Maildir message files never change content. */
  readonly #sizes = new Map<string, number>();
  /** Parsed file names (bounded like the sizes). */
  readonly #names = new Map<string, MaildirName>();

  constructor(root: string, options: MaildirStoreOptions = {}) {
    this.root = root;
    this.#concurrency = options.concurrency ?? 32;
    this.#staleLockMs = options.staleLockMs ?? 10 * 60_000;
    this.#sizeCacheEntries = options.sizeCacheEntries ?? 100_000;
  }

  /** The Maildir of `user`; throws {@link MaildropError} `'invalid-user'` for unsafe names. */
  maildirOf(user: string): string {
    const dir = userMaildir(this.root, user);
    if (!dir) throw new MaildropError('invalid-user', 'user name not usable as a Maildir name');
    return dir;
  }

  async open(user: string): Promise<Maildrop> {
    const dir = this.maildirOf(user);
    const lockPath = join(dir, MAILDIR_LOCK_NAME);
    // The lock template lives in the root, on the Maildirs' file system: locks are hard links to it.
    const lockOptions = { staleMs: this.#staleLockMs, templateDir: this.root };
    let lock;
    try {
      // The common case is a Maildir that exists: no mkdir calls on the login path.
      lock = await acquireMaildirLock(lockPath, lockOptions).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await ensureMaildir(dir);
        return acquireMaildirLock(lockPath, lockOptions);
      });
    } catch (err) {
      throw new MaildropError('io', `cannot lock ${dir}: ${errorText(err)}`, { cause: err });
    }
    if (!lock) throw new MaildropError('in-use', `maildrop ${dir} is locked`);
    try {
      const entries = await this.#scan(dir);
      return new OpenMaildir(dir, entries, lock.release, this.#concurrency);
    } catch (err) {
      await lock.release();
      throw err instanceof MaildropError ? err : new MaildropError('io', `cannot read ${dir}: ${errorText(err)}`, { cause: err });
    }
  }

  /** Moves new/ into cur/ and lists cur/ in delivery order, with sizes. */
  async #scan(dir: string, retried = false): Promise<Array<MaildirName & { size: number }>> {
    // Both directories are read at once; what is moved from new/ is added to the cur/ list by
    // name, and cur/ is read again only if another program moved something first.
    const [fresh, listed] = await Promise.all([listNames(join(dir, 'new')), listNames(join(dir, 'cur'), false)]);
    let cur = listed;
    if (cur === undefined) {
      if (retried) throw new MaildropError('io', `${dir}/cur cannot be read`);
      // A Maildir missing a subdirectory (made by hand, half-created): complete it and rescan.
      await ensureMaildir(dir);
      return this.#scan(dir, true);
    }
    const moved = await mapLimit(
      fresh.filter((n) => !isHiddenName(n)),
      this.#concurrency,
      async (name) => {
        const target = `${name}:2,`;
        try {
          await rename(join(dir, 'new', name), join(dir, 'cur', target));
          return target;
        } catch (err) {
          // A concurrent reader (an IMAP server) moved it first: it is in cur/ now.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          return undefined;
        }
      },
    );
    if (moved.includes(undefined)) cur = await listNames(join(dir, 'cur'));
    else cur.push(...(moved as string[]));
    const names = cur.filter((n) => !isHiddenName(n)).map((n) => this.#parse(n));
    names.sort(compareMaildirNames);
    const unknown = names.filter((n) => n.wireSize === undefined && !this.#sizes.has(n.base));
    await mapLimit(unknown, this.#concurrency, async (n) => {
      const size = await measure(join(dir, 'cur', n.name)).catch(() => undefined);
      if (size !== undefined) this.#remember(n.base, size);
    });
    // A file that vanished while we measured it is left out: it is not there to retrieve.
    // Each session gets its own entries (a relocated message changes its `name`), built as one
    // literal: an object spread of the cached names cost more than the rest of the scan.
    const entries: Array<MaildirName & { size: number }> = [];
    for (const n of names) {
      const size = n.wireSize ?? this.#sizes.get(n.base);
      if (size === undefined) continue;
      entries.push({ name: n.name, base: n.base, rawSize: n.rawSize, wireSize: n.wireSize, uid: n.uid, time: n.time, micros: n.micros, seq: n.seq, size });
    }
    return entries;
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

  #remember(base: string, size: number): void {
    if (this.#sizes.size >= this.#sizeCacheEntries) {
      const oldest = this.#sizes.keys().next().value;
      if (oldest !== undefined) this.#sizes.delete(oldest);
    }
    this.#sizes.set(base, size);
  }
}

/**
 * The descriptor of the last small read, closed once the reply has been written (a microtask,
 * which runs after the session's dispatch run and its write) or by the next small read,
 * whichever comes first: the close is not on the way to the client's answer. One at most, for
 * the whole process.
 */
let unclosed = -1;

function closeUnclosed(): void {
  const fd = unclosed;
  if (fd < 0) return;
  unclosed = -1;
  try {
    closeSync(fd);
  } catch {
    // nothing left to release
  }
}

/**
 * Reads a small file whose size its name gives: open, one read (close deferred, above). A file
 * longer than its name says is read whole: the bytes on disk are the message.
 */
function readKnownSize(path: string, size: number): Buffer {
  closeUnclosed();
  const fd = openSync(path, 'r');
  let read: number;
  const buffer = Buffer.allocUnsafe(size + 1);
  try {
    read = readSync(fd, buffer, 0, size + 1, 0);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  unclosed = fd;
  queueMicrotask(closeUnclosed);
  return read <= size ? buffer.subarray(0, read) : readFileSync(path);
}

/** Measures a file's wire size by streaming it in 1 MiB reads. */
async function measure(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const counter = new WireSizeCounter();
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      counter.update(buffer.subarray(0, bytesRead));
    }
    return counter.size;
  } finally {
    await handle.close();
  }
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
  #released = false;
  /** The next message, opened ahead of its RETR (undefined when the open failed). */
  #ahead: { index: number; handle: Promise<FileHandle | undefined> } | undefined;

  constructor(dir: string, entries: Array<MaildirName & { size: number }>, release: () => Promise<void>, concurrency: number) {
    this.#dir = dir;
    this.#curPrefix = join(dir, 'cur', '/');
    this.#entries = entries;
    this.#release = release;
    this.#concurrency = concurrency;
    this.messages = entries.map((e) => ({ uid: e.uid, size: e.size }));
  }

  async read(index: number): Promise<Producer> {
    const entry = this.#entries[index];
    if (!entry) throw new MaildropError('gone', `no message ${index + 1}`);
    if (isSmall(entry)) return new SimpleProducer(await this.#readSmall(entry));
    const ahead = this.#ahead;
    this.#ahead = undefined;
    let handle = ahead?.index === index ? await ahead.handle : undefined;
    if (ahead && !handle) void ahead.handle.then((h) => h?.close()).catch(() => undefined);
    handle ??= await this.#open(entry);
    // Clients fetch in order (fetchmail, mpop, poplib loops): open the next message while this
    // one is sent, so the next RETR does not wait for an open.
    const next = this.#entries[index + 1];
    if (next && !isSmall(next) && !this.#released) this.#ahead = { index: index + 1, handle: open(this.#path(next), 'r').catch(() => undefined) };
    // Reads sized to the message: a 1 MiB buffer per RETR of a 2 KiB message made GC a third of
    // the server's CPU at 1,000 RETRs.
    const size = entry.rawSize ?? (await handle.stat()).size;
    return new MessageFileProducer(handle, size);
  }

  /**
   * A small message read at once; undefined for a large one or one renamed since the listing
   * (flags changed by another program): `read` then streams it, or finds it again.
   */
  readNow(index: number): Buffer | undefined {
    const entry = this.#entries[index];
    if (!entry) throw new MaildropError('gone', `no message ${index + 1}`);
    if (!isSmall(entry)) return undefined;
    try {
      return readKnownSize(this.#path(entry), entry.rawSize!);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** A small message read whole; a renamed one is found again. */
  async #readSmall(entry: MaildirName): Promise<Buffer> {
    const attempt = (): Buffer | undefined => {
      try {
        return readKnownSize(this.#path(entry), entry.rawSize!);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return undefined;
      }
    };
    const data = attempt() ?? ((await this.#relocate(entry)) ? attempt() : undefined);
    if (!data) throw new MaildropError('gone', `message ${entry.base} was removed`);
    return data;
  }

  async #open(entry: MaildirName): Promise<FileHandle> {
    try {
      return await open(this.#path(entry), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // An IMAP server may have renamed it to change its flags: look for the same base once.
      if (!(await this.#relocate(entry))) throw new MaildropError('gone', `message ${entry.base} was removed`);
      return open(this.#path(entry), 'r');
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
    const ahead = this.#ahead;
    this.#ahead = undefined;
    await ahead?.handle.then((h) => h?.close()).catch(() => undefined);
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
