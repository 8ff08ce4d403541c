import { FsError, type VirtualFs, type WriteOptions, type WritableFile } from './fs.js';

/** "/incoming/" for "incoming", "/incoming" or "/incoming/": the prefix a path must start with. */
function prefixOf(dir: string): string {
  const trimmed = dir.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

/**
 * A VirtualFs on which every change (upload, append, delete, rename, MKD, RMD, MFMT, SITE CHMOD)
 * must happen strictly inside one of `dirs`; elsewhere it fails as `denied` (550). Reads are
 * untouched. The directories themselves cannot be removed or renamed. This is pyftpdlib's
 * per-directory permission override (`override_perm`) for the common case, vsftpd's anonymous
 * `incoming/`: a user who may write only into an upload area and read everything else.
 * @see RFC 959 §4.2 (550: requested action not taken)
 */
export function writableOnlyUnder(fs: VirtualFs, dirs: readonly string[]): VirtualFs {
  const prefixes = dirs.map(prefixOf);
  const check = (path: string): void => {
    const normalized = `/${path.replace(/^\/+/, '')}`;
    if (!prefixes.some((p) => p === '/' || (normalized.startsWith(p) && normalized.length > p.length))) {
      throw new FsError('denied', `writes are allowed only under ${dirs.join(', ')}: ${path}`);
    }
  };
  const guarded: VirtualFs = {
    stat: (path) => fs.stat(path),
    list: (path) => fs.list(path),
    openRead: (path, start) => fs.openRead(path, start),
    async openWrite(path: string, options: WriteOptions): Promise<WritableFile> {
      check(path);
      return fs.openWrite(path, options);
    },
    async rename(from, to) {
      check(from);
      check(to);
      return fs.rename(from, to);
    },
    async mkdir(path) {
      check(path);
      return fs.mkdir(path);
    },
    async rmdir(path) {
      check(path);
      return fs.rmdir(path);
    },
    async unlink(path) {
      check(path);
      return fs.unlink(path);
    },
    async setMtime(path, mtime) {
      check(path);
      return fs.setMtime(path, mtime);
    },
  };
  if (fs.listBatches) guarded.listBatches = (path) => fs.listBatches!(path);
  if (fs.chmod) {
    guarded.chmod = async (path, mode) => {
      check(path);
      return fs.chmod!(path, mode);
    };
  }
  return guarded;
}
