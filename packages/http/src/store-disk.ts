import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { HttpStore, StoreDirectory, StoreFile, StoreListEntry } from './store.js';

/**
 * An {@link HttpStore} over a directory on disk, with FTP's confinement rules: the real path
 * (every symlink resolved) must lie inside the root's real path, and the file is opened with
 * O_NOFOLLOW and checked with fstat to be a regular file, so what is read is what was checked.
 * A symlink leading out of the root, a device, a FIFO or a socket is "not there" (404).
 */
export class DiskStore implements HttpStore {
  readonly root: string;
  #realRoot: Promise<string>;

  constructor(root: string) {
    this.root = root;
    this.#realRoot = realpath(root);
    this.#realRoot.catch(() => undefined);
  }

  /** The real path of `path` when it lies inside the root; undefined when missing or outside. */
  async #resolve(path: string): Promise<string | undefined> {
    const root = await this.#realRoot;
    let real: string;
    try {
      real = await realpath(join(root, path));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep) ? real : undefined;
  }

  async open(path: string): Promise<StoreFile | StoreDirectory | undefined> {
    const real = await this.#resolve(path);
    if (real === undefined) return undefined;
    let handle;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ELOOP' || (err as NodeJS.ErrnoException).code === 'EACCES') return undefined;
      throw err;
    }
    const st = await handle.stat({ bigint: true });
    if (st.isDirectory()) {
      await handle.close();
      return { kind: 'directory', mtimeMs: Number(st.mtimeMs) };
    }
    if (!st.isFile()) {
      await handle.close();
      return undefined;
    }
    let closed = false;
    return {
      kind: 'file',
      size: Number(st.size),
      mtimeMs: Number(st.mtimeMs),
      etag: `"${st.ino.toString(36)}-${st.size.toString(36)}-${st.mtimeNs.toString(36)}"`,
      read: async (buffer, offset, length, position) => (await handle.read(buffer, offset, length, position)).bytesRead,
      close: async () => {
        if (closed) return;
        closed = true;
        await handle.close();
      },
    };
  }

  async list(path: string): Promise<StoreListEntry[] | undefined> {
    const real = await this.#resolve(path);
    if (real === undefined) return undefined;
    let names: string[];
    try {
      names = await readdir(real);
    } catch {
      return undefined;
    }
    const out: StoreListEntry[] = [];
    for (const name of names.sort()) {
      const inside = await this.#resolve(`${path.endsWith('/') ? path : `${path}/`}${name}`);
      if (inside === undefined) continue; // a dangling link or one leading out: not listed
      const st = await stat(inside).catch(() => undefined);
      if (!st || !(st.isFile() || st.isDirectory())) continue;
      out.push({ name, kind: st.isDirectory() ? 'directory' : 'file', size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
