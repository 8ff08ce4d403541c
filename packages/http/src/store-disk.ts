import { closeSync, constants, fstatSync, openSync, read, readSync, realpathSync } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { decodeName, hostPath } from '@gorgon/core';
import type { HttpStore, StoreDirectory, StoreFile, StoreListEntry } from './store.js';

/** Options of {@link DiskStore}. */
export interface DiskStoreOptions {
  /**
   * The root is on a local disk (default true): files are opened with synchronous calls (a
   * realpath, an open and an fstat, a few microseconds), as FTP's DiskFs does for small files.
   * False for a network file system (NFS, SMB), where a call may block for long: every call
   * then goes through the thread pool.
   */
  local?: boolean;
}

/** How long a resolved path is trusted, and how many are kept. */
const RESOLVED_MS = 1000;
const RESOLVED_MAX = 10_000;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * An {@link HttpStore} over a directory on disk, with FTP's confinement rules: the real path
 * (every symlink resolved) must lie inside the root's real path, and the file is opened with
 * O_NOFOLLOW and checked with fstat to be a regular file, so what is read is what was checked.
 * A symlink leading out of the root, a device, a FIFO or a socket is "not there" (404).
 */
export class DiskStore implements HttpStore {
  readonly root: string;
  readonly openNow: ((path: string) => StoreFile | StoreDirectory | undefined) | undefined;
  #realRoot: Promise<string>;
  #realRootNow: string | undefined;
  /**
   * Request path → its real path and the file's identity, remembered up to a second (as nginx's
   * open_file_cache): a hit skips the realpath (an lstat per component). The file is still opened
   * (O_NOFOLLOW) and fstat'ed every time, and served only if it is the same inode that was found
   * inside the root, so content is never stale and a component swapped for a symlink leading out
   * finds another inode and takes the full path.
   */
  readonly #resolved = new Map<string, { real: string; dev: bigint; ino: bigint; until: number }>();

  constructor(root: string, options: DiskStoreOptions = {}) {
    this.root = root;
    this.#realRoot = realpath(root);
    this.#realRoot.catch(() => undefined);
    this.openNow = options.local === false ? undefined : (path) => this.#openNow(path);
  }

  #inside(real: string, root: string): boolean {
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  }

  /** The real path of `path` when it lies inside the root; undefined when missing or outside. */
  async #resolve(path: string): Promise<string | undefined> {
    const root = await this.#realRoot;
    let real: string;
    try {
      // Paths are names in the core's byte-name form: the system sees their exact bytes.
      real = decodeName(await realpath(hostPath(join(root, path)), { encoding: 'buffer' }));
    } catch (err) {
      if (isRefused(err)) return undefined;
      throw err;
    }
    return this.#inside(real, root) ? real : undefined;
  }

  async open(path: string): Promise<StoreFile | StoreDirectory | undefined> {
    const real = await this.#resolve(path);
    if (real === undefined) return undefined;
    let handle;
    try {
      handle = await open(hostPath(real), OPEN_FLAGS);
    } catch (err) {
      if (isRefused(err)) return undefined;
      throw err;
    }
    const st = await handle.stat({ bigint: true });
    if (!st.isFile()) {
      await handle.close();
      return st.isDirectory() ? { kind: 'directory', mtimeMs: Number(st.mtimeMs) } : undefined;
    }
    return fileOf(handle.fd, st, () => handle.close());
  }

  #openNow(path: string): StoreFile | StoreDirectory | undefined {
    const now = Date.now();
    const known = this.#resolved.get(path);
    if (known && known.until > now) {
      let fd = -1;
      try {
        fd = openSync(hostPath(known.real), OPEN_FLAGS);
        const st = fstatSync(fd, { bigint: true });
        if (st.isFile() && st.ino === known.ino && st.dev === known.dev) return fileOf(fd, st, async () => closeSync(fd));
      } catch {
        // gone or changed: the full path below decides
      }
      if (fd >= 0) closeSync(fd);
      this.#resolved.delete(path);
    }
    this.#realRootNow ??= realpathSync.native(this.root);
    const root = this.#realRootNow;
    let real: string;
    let fd: number;
    try {
      real = decodeName(realpathSync.native(hostPath(join(root, path)), { encoding: 'buffer' }));
      if (!this.#inside(real, root)) return undefined;
      fd = openSync(hostPath(real), OPEN_FLAGS);
    } catch (err) {
      if (isRefused(err)) return undefined;
      throw err;
    }
    const st = fstatSync(fd, { bigint: true });
    if (st.isFile()) {
      if (this.#resolved.size >= RESOLVED_MAX) this.#resolved.clear();
      this.#resolved.set(path, { real, dev: st.dev, ino: st.ino, until: now + RESOLVED_MS });
    }
    if (!st.isFile()) {
      closeSync(fd);
      return st.isDirectory() ? { kind: 'directory', mtimeMs: Number(st.mtimeMs) } : undefined;
    }
    return fileOf(fd, st, async () => closeSync(fd));
  }

  async list(path: string): Promise<StoreListEntry[] | undefined> {
    const real = await this.#resolve(path);
    if (real === undefined) return undefined;
    let names: string[];
    try {
      names = (await readdir(hostPath(real), { encoding: 'buffer' })).map(decodeName);
    } catch {
      return undefined;
    }
    const out: StoreListEntry[] = [];
    for (const name of names.sort()) {
      const inside = await this.#resolve(`${path.endsWith('/') ? path : `${path}/`}${name}`);
      if (inside === undefined) continue; // a dangling link or one leading out: not listed
      const st = await stat(hostPath(inside)).catch(() => undefined);
      if (!st || !(st.isFile() || st.isDirectory())) continue;
      out.push({ name, kind: st.isDirectory() ? 'directory' : 'file', size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }
}

interface BigStat {
  dev?: bigint;
  size: bigint;
  ino: bigint;
  mtimeMs: bigint;
  mtimeNs: bigint;
}

/** A StoreFile over an open descriptor; `release` closes it (once). */
function fileOf(fd: number, st: BigStat, release: () => Promise<void>): StoreFile {
  let closed = false;
  return {
    kind: 'file',
    size: Number(st.size),
    mtimeMs: Number(st.mtimeMs),
    etag: etagOf(st),
    read: (buffer, offset, length, position) =>
      new Promise((resolve, reject) => read(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)))),
    readNow: (buffer, offset, length, position) => readSync(fd, buffer, offset, length, position),
    currentEtag: () => etagOf(fstatSync(fd, { bigint: true })),
    close: async () => {
      if (closed) return;
      closed = true;
      await release();
    },
  };
}

/** A strong validator from inode, size and mtime in ns. @see RFC 9110 §8.8.3 */
function etagOf(st: BigStat): string {
  return `"${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}"`;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Not there as far as a client is concerned: missing, a symlink as last component, no
 * permission, or something open(2) cannot read as a file (a Unix socket: ENXIO; a device whose
 * driver is gone: ENODEV).
 */
function isRefused(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return isMissing(err) || code === 'ELOOP' || code === 'EACCES' || code === 'ENAMETOOLONG' || code === 'ENXIO' || code === 'ENODEV';
}
