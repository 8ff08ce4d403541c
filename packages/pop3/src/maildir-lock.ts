import { createHash, randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { constants, copyFile, link, lstat, open, readdir, rename, rmdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotRegular, openMessage } from './maildir-fs.js';

/** Options of {@link acquireMaildirLock}. */
export interface MaildirLockOptions {
  /** A lock not refreshed for this long is stale, whoever holds it. Default 10 minutes. */
  staleMs?: number;
  /**
   * Where this process keeps its lock template. On the lock's file system (the Maildir root,
   * as `MaildirStore` passes), a lock is a hard link to the template: `link` is one metadata
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

/** Tokens of the locks this process holds, by path. */
const held = new Map<string, string>();
/**
 * Paths this process is creating a lock file at right now (with how many attempts): a file
 * with our token that is not yet in `held` may be one of ours being created, not a leftover.
 */
const creating = new Map<string, number>();

/** This host's name, read once (os.hostname() is a system call). */
const HOST = hostname();
/**
 * This process's token: what its lock files say besides pid and host. One per process (not per
 * lock): `held` tells which paths this process holds, so a leftover file of an earlier process
 * with the same pid (another token) is recognised as stale.
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

/** This process's lock template in one directory. */
interface Template {
  path: Promise<string>;
  /** When its mtime was last set: a linked lock starts with the template's mtime. */
  touchedAt: number;
  /** Locks are hard links to it (false: copies). */
  linkable: boolean;
}

/** This process's templates, by directory. */
const templates = new Map<string, Template>();

/**
 * Removes the templates of this host's processes that are gone from `dir` (a process killed by
 * a signal never runs its exit hook), once per process and directory: a directory keeps one
 * small file per live Gorgon process at most.
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
 * The template every lock of this process in `dir`'s scope is made from, written once: taking a
 * lock is then one file-system request (`link`, or `copyFile` with COPYFILE_EXCL), which creates
 * the lock file exclusively with its content at once (open + write + close cost three, and the
 * login path's main-thread time is mostly per request). `fresh` rewrites it (it was cleaned away).
 */
function lockTemplate(dir: string | undefined, fresh = false): Template {
  const key = dir ?? '';
  let template = templates.get(key);
  if (template && !fresh) return template;
  const where = dir ?? tmpdir();
  const made: Template = {
    touchedAt: Date.now(),
    linkable: dir !== undefined && (template?.linkable ?? true),
    path: writeTemplate(where, !template)
      .catch((err: NodeJS.ErrnoException) => {
        // A root this process may not write in (only the users' Maildirs are its own): locks
        // are copies of a template in the temporary directory, as without `templateDir`.
        // ENOENT is a root not made yet: the caller creates the Maildir and tries again. A full
        // file system would refuse a copy too: the caller takes an empty lock, and the template
        // is tried again at the next lock (it is forgotten below), once space may be free.
        if (dir === undefined || err.code === 'ENOENT' || NO_SPACE.has(err.code ?? '')) throw err;
        made.linkable = false;
        return writeTemplate(tmpdir(), !template);
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
 * Writes this process's template in `dir`, the first time after removing dead processes' ones
 * there (a rewrite, after ENOENT, is more often a new user's missing Maildir than a cleaned-away
 * template: no second scan of the directory for it).
 */
async function writeTemplate(dir: string, first: boolean): Promise<string> {
  if (first && !cleaned.has(dir)) {
    cleaned.add(dir);
    await removeDeadTemplates(dir);
  }
  const path = join(dir, `${TEMPLATE_PREFIX}${HOST_TAG}-${process.pid}-${TOKEN}`);
  try {
    await writeFile(path, JSON.stringify({ pid: process.pid, host: HOST, token: TOKEN, since: new Date().toISOString() }), { mode: 0o600 });
  } catch (err) {
    // A write cut short (a full disk) leaves the file created but short: not a template.
    await unlink(path).catch(() => undefined);
    throw err;
  }
  if (written.size === 0) process.once('exit', removeTemplatesAtExit);
  written.add(path);
  return path;
}

/** Directories whose dead templates this process has removed (once each). */
const cleaned = new Set<string>();

/** Templates this process wrote: removed when it exits. */
const written = new Set<string>();

function removeTemplatesAtExit(): void {
  for (const path of written) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
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
async function createLockFile(path: string, templateDir: string | undefined, staleMs: number): Promise<Made> {
  try {
    await createFromTemplate(path, templateDir, staleMs);
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

async function createFromTemplate(path: string, templateDir: string | undefined, staleMs: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const template = lockTemplate(templateDir, attempt > 0);
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
 * Whether the lock at `path` (with `text` and `mtimeMs`) may be broken: its holder on this host
 * is dead, it is a leftover of an earlier process with our pid, or nobody refreshed it for
 * `staleMs` (a holder on another host sharing the Maildir, or a hung one).
 */
function isStale(text: string, mtimeMs: number, path: string, staleMs: number): boolean {
  const age = Date.now() - mtimeMs;
  if (age > staleMs) return true;
  const info = parseInfo(text);
  if (!info) return age > UNREADABLE_STALE_MS;
  if (info.host !== HOST) return false;
  if (info.pid === process.pid) return info.token !== TOKEN || !(held.has(path) || creating.has(path));
  return !alive(info.pid);
}

/**
 * Takes the exclusive lock of one maildrop across processes and hosts sharing the Maildir: a
 * file created exclusively (a hard link to, or an O_EXCL copy of, a per-process template; see
 * {@link MaildirLockOptions.templateDir}) holding pid, host and the process's random token, its
 * mtime refreshed while held. A stale
 * lock is moved aside by rename (atomic, so two breakers cannot both win) and put back if it
 * turns out to be a fresh one. Resolves undefined when the lock is held.
 * @see RFC 1939 §8 (exclusive-access lock)
 */
export async function acquireMaildirLock(path: string, options: MaildirLockOptions = {}): Promise<MaildirLock | undefined> {
  const staleMs = options.staleMs ?? 10 * 60_000;
  for (let attempt = 0; attempt < 3; attempt++) {
    creating.set(path, (creating.get(path) ?? 0) + 1);
    try {
      const made = await createLockFile(path, options.templateDir, staleMs);
      held.set(path, TOKEN);
      return holdLock(path, TOKEN, staleMs, made);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      const left = (creating.get(path) ?? 1) - 1;
      if (left > 0) creating.set(path, left);
      else creating.delete(path);
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
    if (!isStale(text, mtimeMs, path, staleMs)) return undefined;
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

/** Removes what is at a lock's path and is not a lock file (renamed aside first, atomically). */
async function removeNonLock(path: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await unlink(aside).catch(() => rmdir(aside).catch(() => undefined));
}

async function breakLock(path: string, judged: string, judgedMtimeMs: number): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
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
      if (held.get(path) === token) held.delete(path);
      if (!lost) await unlink(path).catch(() => undefined);
    },
  };
}
