import { closeSync, constants, fstatSync, openSync, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DirIdentity } from './maildir-index.js';

/** The three directories of a Maildir. @see https://cr.yp.to/proto/maildir.html */
export const MAILDIR_SUBDIRS = ['tmp', 'new', 'cur'] as const;

const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,127}$/;

/**
 * The Maildir of `user` under `root`, or undefined when the name could escape the root or is
 * not a plain mailbox name (`..`, `/`, NUL, control characters).
 */
export function userMaildir(root: string, user: string): string | undefined {
  if (!USER_NAME.test(user) || user.includes('..')) return undefined;
  return join(root, user);
}

/** Creates the Maildir's tmp/, new/ and cur/ when missing. */
export async function ensureMaildir(dir: string): Promise<void> {
  await Promise.all(MAILDIR_SUBDIRS.map((sub) => mkdir(join(dir, sub), { recursive: true, mode: 0o700 })));
}

/**
 * Which of the Maildir's new/ and cur/ are symlinks (or not directories): a user who can write
 * their own Maildir could point cur/ at any directory a root daemon can read, and DELE would
 * unlink there. A missing subdirectory is not reported (the scan creates it). Also says what
 * cur/ is now (inode and mtime in nanoseconds), for the listing index.
 */
export async function linkedSubdirs(
  dir: string,
): Promise<{ linked: Array<{ name: string; kind: SkippedKind }>; cur: DirIdentity | undefined }> {
  const stats = await Promise.all(
    (['new', 'cur'] as const).map((name) =>
      lstat(join(dir, name), { bigint: true }).then(
        (st) => st,
        () => undefined,
      ),
    ),
  );
  const linked: Array<{ name: string; kind: SkippedKind }> = [];
  stats.forEach((st, i) => {
    if (st && !st.isDirectory()) linked.push({ name: i === 0 ? 'new' : 'cur', kind: st.isSymbolicLink() ? 'symlink' : 'other' });
  });
  const cur = stats[1];
  return { linked, cur: cur?.isDirectory() ? { ino: cur.ino, mtimeNs: cur.mtimeNs } : undefined };
}

/** The entries of a directory; when it does not exist, none (or undefined with `missingAsEmpty` false). */
export async function listNames(dir: string): Promise<string[]>;
export async function listNames(dir: string, missingAsEmpty: false): Promise<string[] | undefined>;
export async function listNames(dir: string, missingAsEmpty = true): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return missingAsEmpty ? [] : undefined;
    throw err;
  }
}

/** fsyncs a directory, so a rename or unlink in it survives a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** What a directory entry that is not a message is, for the log line that skips it. */
export type SkippedKind = 'symlink' | 'fifo' | 'directory' | 'socket' | 'device' | 'other';

/** The entries of a Maildir subdirectory: regular files (messages) and everything else. */
export interface MaildirEntries {
  files: string[];
  skipped: Array<{ name: string; kind: SkippedKind }>;
}

function kindOf(d: Dirent): SkippedKind {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isDirectory()) return 'directory';
  if (d.isSocket()) return 'socket';
  if (d.isBlockDevice() || d.isCharacterDevice()) return 'device';
  return 'other';
}

/**
 * The entries of `dir` split by type, from the directory itself (d_type; Node lstats the
 * entries a file system leaves untyped): only regular files are messages. A FIFO opened for
 * reading waits for a writer, and a symlink could point at any file a root daemon can read.
 * When `dir` does not exist: none (or undefined with `missingAsEmpty` false).
 */
export async function listEntries(dir: string): Promise<MaildirEntries>;
export async function listEntries(dir: string, missingAsEmpty: false): Promise<MaildirEntries | undefined>;
export async function listEntries(dir: string, missingAsEmpty = true): Promise<MaildirEntries | undefined> {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return missingAsEmpty ? { files: [], skipped: [] } : undefined;
    throw err;
  }
  const out: MaildirEntries = { files: [], skipped: [] };
  for (const d of dirents) {
    if (d.isFile()) out.files.push(d.name);
    else out.skipped.push({ name: d.name, kind: kindOf(d) });
  }
  return out;
}

/**
 * How message files are opened: never following a symlink in the last component (ELOOP), and
 * non-blocking, so that opening a FIFO put in place of a message returns at once instead of
 * waiting for a writer (O_NONBLOCK changes nothing for reads of regular files).
 */
const MESSAGE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Thrown (as `code`) when what was opened is not a regular file. */
export const NOT_REGULAR = 'ENOTREG';

function notRegular(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${path} is not a regular file`), { code: NOT_REGULAR });
}

/** True for the errors that say a message's path holds something else than a regular file. */
export function isNotRegular(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === NOT_REGULAR || code === 'ELOOP';
}

/** A message file opened by {@link openMessage}, with what its fstat said. */
export interface OpenedFile {
  handle: FileHandle;
  size: number;
  ino: number;
  mtimeMs: number;
}

/**
 * Opens a message file: the name is checked by the listing, and what was opened by fstat here,
 * since a file can be swapped for a link or a FIFO between the two. Rejects with ENOTREG or
 * ELOOP (see {@link isNotRegular}) for anything but a regular file.
 */
export async function openMessage(path: string): Promise<OpenedFile> {
  const handle = await open(path, MESSAGE_FLAGS);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegular(path);
    return { handle, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** {@link openMessage}, synchronously: a descriptor of a regular file, checked with fstat. */
export function openMessageSync(path: string): number {
  const fd = openSync(path, MESSAGE_FLAGS);
  try {
    if (!fstatSync(fd).isFile()) throw notRegular(path);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
