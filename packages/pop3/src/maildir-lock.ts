import { createHash, randomBytes } from 'node:crypto';
import { constants, copyFile, link, lstat, open, readdir, rename, rmdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotRegular, openMessage } from './maildir-fs.js';

/** Options of {@link acquireMaildirLock}. */
export interface MaildirLockOptions {
  /** A lock not refreshed for this long is stale, whoever holds it. Default 10 minutes. */
  staleMs?: number;
  /**
   * Where the lock template is kept. On the lock's file system (the Maildir root, as
   * `MaildirStore` passes), a lock is a hard link to the template: `link` is one metadata
   * operation where creating a file is several. Elsewhere, or when the file system refuses
   * hard links, locks are O_EXCL copies of it. Default: the OS temporary directory (copies).
   */
  templateDir?: string;
}

/** A held lock: refreshed in the background, released once. */
export interface MaildirLock {
  release(): Promise<void>;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
}

/** This host's name, read once (os.hostname() is a system call). */
const HOST = hostname();
/**
 * This process's token: what its lock files say besides pid and host, so a leftover file of an
 * earlier process with the same pid (another token; pids repeat, in containers at every start)
 * is recognised as stale. An immutable value, one per process and not per store: a lock file
 * says which process holds it, and two stores of one process over one root must see each
 * other's locks as live (held: judged by their age, as another host's are).
 */
const TOKEN = randomBytes(8).toString('hex');

const TEMPLATE_PREFIX = '.gorgon-pop3-lock-';
/**
 * Template names carry a tag of the host (`.gorgon-pop3-lock-HOSTTAG-PID-TOKEN`): a Maildir
 * root may be shared by several hosts, and only this host's dead pids may be judged here.
 */
const HOST_TAG = createHash('sha256').update(HOST).digest('hex').slice(0, 8);
const TEMPLATE_NAME = /^\.gorgon-pop3-lock-([0-9a-f]{8})-(\d+)-[0-9a-f]+$/;
/** Templates of earlier versions, in the temporary directory: `gorgon-pop3-lock-PID-TOKEN`. */
const LEGACY_TEMPLATE_NAME = /^gorgon-pop3-lock-(\d+)-[0-9a-f]+$/;

/** A lock template in one directory. */
interface Template {
  path: Promise<string>;
  /** When its mtime was last set: a linked lock starts with the template's mtime. */
  touchedAt: number;
  /** Locks are hard links to it (false: copies). */
  linkable: boolean;
}

/**
 * The templates of one owner ({@link MaildirLocks}: a MaildirStore's), by directory, and what
 * it has done with them. Nothing of it is process-wide: the owner removes its templates on
 * close, and no exit hook is needed.
 */
interface Templates {
  /** Told apart from other owners' templates of this process in the name. */
  readonly id: string;
  readonly byDir: Map<string, Template>;
  /** Directories whose dead templates this owner has removed (once each). */
  readonly cleaned: Set<string>;
  /** Template files written: removed by close(). */
  readonly written: Set<string>;
}

/**
 * Removes the templates of this host's processes that are gone from `dir` (a process killed
 * before closing its stores leaves them), once per store and directory: a directory keeps a
 * small file per live store at most.
 */
export async function removeDeadTemplates(dir: string = tmpdir()): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const legacyToo = dir === tmpdir();
  const dead = names.filter((n) => {
    const pid = templatePid(n, legacyToo);
    return pid !== undefined && pid > 0 && pid !== process.pid && !alive(pid);
  });
  await Promise.all(dead.map((n) => unlink(join(dir, n)).catch(() => undefined)));
}

/** The pid in the name of one of this host's templates (earlier versions' names too, if asked). */
function templatePid(name: string, legacyToo: boolean): number | undefined {
  const m = TEMPLATE_NAME.exec(name);
  if (m) return m[1] === HOST_TAG ? Number(m[2]) : undefined;
  const legacy = legacyToo ? LEGACY_TEMPLATE_NAME.exec(name) : null;
  return legacy ? Number(legacy[1]) : undefined;
}

/**
 * The template every lock of this owner in `dir`'s scope is made from, written once: taking a
 * lock is then one file-system request (`link`, or `copyFile` with COPYFILE_EXCL), which creates
 * the lock file exclusively with its content at once (open + write + close cost three, and the
 * login path's main-thread time is mostly per request). `fresh` rewrites it (it was cleaned away).
 */
function lockTemplate(owner: Templates, dir: string | undefined, fresh = false): Template {
  const templates = owner.byDir;
  const key = dir ?? '';
  let template = templates.get(key);
  if (template && !fresh) return template;
  const where = dir ?? tmpdir();
  const made: Template = {
    touchedAt: Date.now(),
    linkable: dir !== undefined && (template?.linkable ?? true),
    path: writeTemplate(owner, where, !template)
      .catch((err: NodeJS.ErrnoException) => {
        // A root this process may not write in (only the users' Maildirs are its own): locks
        // are copies of a template in the temporary directory, as without `templateDir`.
        // ENOENT is a root not made yet: the caller creates the Maildir and tries again. A full
        // file system would refuse a copy too: the caller takes an empty lock, and the template
        // is tried again at the next lock (it is forgotten below), once space may be free.
        if (dir === undefined || err.code === 'ENOENT' || NO_SPACE.has(err.code ?? '')) throw err;
        made.linkable = false;
        return writeTemplate(owner, tmpdir(), !template);
      })
      .then((path) => {
        made.touchedAt = Date.now();
        return path;
      }),
  };
  made.path.catch(() => {
    if (templates.get(key) === made) templates.delete(key);
  });
  templates.set(key, made);
  template = made;
  return template;
}

/**
 * Writes the owner's template in `dir`, the first time after removing dead processes' ones
 * there (a rewrite, after ENOENT, is more often a new user's missing Maildir than a cleaned-away
 * template: no second scan of the directory for it).
 */
async function writeTemplate(owner: Templates, dir: string, first: boolean): Promise<string> {
  if (first && !owner.cleaned.has(dir)) {
    owner.cleaned.add(dir);
    await removeDeadTemplates(dir);
  }
  const path = join(dir, `${TEMPLATE_PREFIX}${HOST_TAG}-${process.pid}-${TOKEN}${owner.id}`);
  try {
    await writeFile(path, JSON.stringify({ pid: process.pid, host: HOST, token: TOKEN, since: new Date().toISOString() }), { mode: 0o600 });
  } catch (err) {
    // A write cut short (a full disk) leaves the file created but short: not a template.
    await unlink(path).catch(() => undefined);
    throw err;
  }
  owner.written.add(path);
  return path;
}

/** Errors after which a template's directory is known not to take hard links to it. */
const NO_LINKS = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** A full file system, or the user's quota: no data block can be had. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/**
 * An unreadable lock (empty: taken on a full disk; or one being written) not touched for this
 * long is stale: without a pid and a token in it, its age is all there is to judge it by.
 */
const UNREADABLE_STALE_MS = 10_000;
/** How often the holder of an empty lock touches it: well inside {@link UNREADABLE_STALE_MS}. */
const EMPTY_REFRESH_MS = 3_000;

/** How a lock file was made: with the process's content, or empty (identified by its inode). */
type Made = { empty: false } | { empty: true; dev: number; ino: number };

/**
 * Creates `path` exclusively with this process's lock content; EEXIST when it exists, ENOENT
 * when its directory does not. On a full file system (or over quota), where neither a template
 * nor a copy can be written, the lock is an empty file made with O_EXCL: it needs an inode and
 * a directory entry but no data block, so users can still log in to delete mail and free space.
 */
async function createLockFile(owner: Templates, path: string, templateDir: string | undefined, staleMs: number): Promise<Made> {
  try {
    await createFromTemplate(owner, path, templateDir, staleMs);
    return { empty: false };
  } catch (err) {
    if (!NO_SPACE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    const { dev, ino } = await handle.stat();
    return { empty: true, dev, ino };
  } finally {
    await handle.close();
  }
}

async function createFromTemplate(owner: Templates, path: string, templateDir: string | undefined, staleMs: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const template = lockTemplate(owner, templateDir, attempt > 0);
    const source = await template.path;
    try {
      if (template.linkable) {
        // A link shares the template's mtime: keep it well inside staleMs, so that a new lock
        // is never judged stale by another host. Rare: the holders' refreshes touch it too.
        const now = Date.now();
        if (now - template.touchedAt > staleMs / 6) {
          await utimes(source, new Date(now), new Date(now));
          template.touchedAt = now;
        }
        try {
          await link(source, path);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (NO_LINKS.has(code)) template.linkable = false;
          // EMLINK: the template has as many links as the file system allows; copy this one.
          else if (code !== 'EMLINK') throw err;
        }
      }
      await copyFile(source, path, constants.COPYFILE_EXCL);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      // The template may have been cleaned away; if the Maildir is missing, this throws ENOENT again.
    }
  }
}

function parseInfo(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') return v as LockInfo;
  } catch {
    // a lock being written, or not ours: judged by its age alone
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a lock (with `text` and `mtimeMs`) may be broken: its holder on this host is dead, it
 * is a leftover of an earlier process with our pid, or nobody refreshed it for `staleMs` (a
 * holder on another host sharing the Maildir, or a hung one). One of this process's own (our
 * pid and token: this store's, another store's, or one being created) is live while refreshed.
 */
function isStale(text: string, mtimeMs: number, staleMs: number): boolean {
  const age = Date.now() - mtimeMs;
  if (age > staleMs) return true;
  const info = parseInfo(text);
  if (!info) return age > UNREADABLE_STALE_MS;
  if (info.host !== HOST) return false;
  if (info.pid === process.pid) return info.token !== TOKEN;
  return !alive(info.pid);
}

/**
 * The maildrop locks of one owner (a `MaildirStore` makes one): takes locks with
 * {@link MaildirLocks.acquire}, from a template it writes at first use and removes on
 * {@link MaildirLocks.close}. Nothing is registered on the process (no exit hook): a process
 * killed before closing leaves its templates, removed by the next one to write a template in
 * that directory (see {@link removeDeadTemplates}).
 */
export class MaildirLocks {
  readonly #options: MaildirLockOptions;
  readonly #templates: Templates = { id: randomBytes(4).toString('hex'), byDir: new Map(), cleaned: new Set(), written: new Set() };

  constructor(options: MaildirLockOptions = {}) {
    this.#options = options;
  }

  /** See {@link acquireMaildirLock}; `options` override those given to the constructor. */
  acquire(path: string, options: MaildirLockOptions = {}): Promise<MaildirLock | undefined> {
    return acquireWith(this.#templates, path, { ...this.#options, ...options });
  }

  /**
   * Removes the templates written so far. Locks held stay valid (each is a file of its own) and
   * are released as usual; a later acquire writes a template again, for another close().
   */
  async close(): Promise<void> {
    const { byDir, written } = this.#templates;
    // A template being written now is removed too, once it is.
    const writing = [...byDir.values()].map((t) => t.path.catch(() => undefined));
    byDir.clear();
    await Promise.all(writing);
    const paths = [...written];
    written.clear();
    await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Takes the exclusive lock of one maildrop across processes and hosts sharing the Maildir: a
 * file created exclusively (a hard link to, or an O_EXCL copy of, a template; see
 * {@link MaildirLockOptions.templateDir}) holding pid, host and the process's random token, its
 * mtime refreshed while held. A stale
 * lock is moved aside by rename (atomic, so two breakers cannot both win) and put back if it
 * turns out to be a fresh one. Resolves undefined when the lock is held. On its own, the
 * template is written for this one lock and removed at once; a {@link MaildirLocks} keeps it
 * for many.
 * @see RFC 1939 §8 (exclusive-access lock)
 */
export async function acquireMaildirLock(path: string, options: MaildirLockOptions = {}): Promise<MaildirLock | undefined> {
  const locks = new MaildirLocks(options);
  try {
    return await locks.acquire(path);
  } finally {
    await locks.close();
  }
}

async function acquireWith(owner: Templates, path: string, options: MaildirLockOptions): Promise<MaildirLock | undefined> {
  const staleMs = options.staleMs ?? 10 * 60_000;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const made = await createLockFile(owner, path, options.templateDir, staleMs);
      return holdLock(path, TOKEN, staleMs, made);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text: string;
    let mtimeMs: number;
    try {
      ({ text, mtimeMs } = await readLock(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      if (!isNotRegular(err)) throw err;
      // A lock is never a symlink, a FIFO or a directory: something a user put there, which
      // must neither hang the login nor lead to another file. Moved aside and removed.
      await removeNonLock(path);
      continue;
    }
    if (!isStale(text, mtimeMs, staleMs)) return undefined;
    await breakLock(path, text, mtimeMs);
  }
  return undefined;
}

/** Largest lock content read: ours is under 200 bytes; a bigger file is judged by its age. */
const MAX_LOCK_BYTES = 4096;

/**
 * A lock file's content and mtime, read without following a symlink or waiting on a FIFO (both
 * rejected with ENOTREG/ELOOP, see `isNotRegular`): users can write in their Maildirs.
 */
async function readLock(path: string): Promise<{ text: string; mtimeMs: number }> {
  const { handle, size, mtimeMs } = await openMessage(path);
  try {
    if (size > MAX_LOCK_BYTES) return { text: '', mtimeMs };
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
    return { text: buffer.toString('utf8', 0, bytesRead), mtimeMs };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Where a lock being broken (or something that is not a lock) is moved before it is removed:
 * `LOCK.stale-HOSTTAG-PID-RANDOM`. A process killed between that rename and the unlink leaves
 * the file; the name tells the next opener of the Maildir whose it was (see
 * {@link isLeftoverAside}).
 */
function asidePath(path: string): string {
  return `${path}.stale-${HOST_TAG}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** A lock moved aside: with its writer (`HOSTTAG-PID-`) since this version, without before. */
const ASIDE_NAME = /^\.stale-(?:([0-9a-f]{8})-(\d+)-)?[0-9a-f]{12}$/;

/**
 * A moved-aside lock is held for a few milliseconds between a rename and an unlink (or a link
 * back); one whose writer is not known to be gone is a leftover once its ctime (set by the
 * rename) is this old.
 */
const ASIDE_STALE_MS = 60_000;

/**
 * Whether `name`, beside the lock file `lockName` in a Maildir, is a lock moved aside by a
 * breaker that is gone: a process of this host no longer running, or (another host's, or an
 * earlier version's without a writer in its name) moved more than a minute ago. `ctimeMs` is
 * asked for only when the name does not settle it.
 */
export async function isLeftoverAside(name: string, lockName: string, ctimeMs: () => Promise<number>): Promise<boolean> {
  const m = name.startsWith(lockName) ? ASIDE_NAME.exec(name.slice(lockName.length)) : null;
  if (!m) return false;
  if (m[1] === HOST_TAG) {
    const pid = Number(m[2]);
    if (pid === process.pid) return false;
    if (!alive(pid)) return true;
  }
  return Date.now() - (await ctimeMs()) > ASIDE_STALE_MS;
}

/** Removes what is at a lock's path and is not a lock file (renamed aside first, atomically). */
async function removeNonLock(path: string): Promise<void> {
  const aside = asidePath(path);
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await unlink(aside).catch(() => rmdir(aside).catch(() => undefined));
}

async function breakLock(path: string, judged: string, judgedMtimeMs: number): Promise<void> {
  const aside = asidePath(path);
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another breaker was first
    throw err;
  }
  const moved = await readLock(aside).catch(() => undefined);
  // Between our read and the rename another process may have broken the lock and taken a new
  // one: that one is live, so link it back (fails harmlessly if yet another lock exists).
  // Empty locks all read alike: the one moved is the one judged only if its mtime is too.
  const same = moved === undefined || (moved.text === judged && (judged !== '' || moved.mtimeMs === judgedMtimeMs));
  if (!same) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * Keeps a lock fresh and releases it. Ownership is checked on each refresh (rare), not at
 * release (every logout): a lock found taken over by another process (ours went stale, say
 * the process was stopped for longer than `staleMs`) is marked lost and never unlinked.
 */
function holdLock(path: string, token: string, staleMs: number, made: Made): MaildirLock {
  let lost = false;
  // An empty lock is ours while the inode at `path` is the one we created (touching it needs
  // no data block either); it is judged stale after UNREADABLE_STALE_MS, so touched often.
  const ours = made.empty
    ? () => lstat(path).then((st) => st.ino === made.ino && st.dev === made.dev)
    : () => readLock(path).then(({ text }) => parseInfo(text)?.token === token);
  const every = Math.max(1000, Math.floor(staleMs / 3));
  const refresh = setInterval(
    () => {
      ours()
        .then((yes) => {
          if (!yes) throw new Error('lock taken over');
          const now = new Date();
          return utimes(path, now, now);
        })
        .catch(() => {
          lost = true;
          clearInterval(refresh);
        });
    },
    made.empty ? Math.min(every, EMPTY_REFRESH_MS) : every,
  );
  refresh.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      if (!lost) await unlink(path).catch(() => undefined);
    },
  };
}
