import type { Producer } from '@gorgon/core';

/** What a directory entry is. Symlinks are followed; one pointing outside the root is `other`. */
export type FileKind = 'file' | 'dir' | 'other';

/** Facts about one file or directory, as a VirtualFs returns them (never protocol text). */
export interface FileStat {
  /** The last path component ("" for the root). */
  name: string;
  kind: FileKind;
  size: number;
  mtime: Date;
  /**
   * Optional: `mtime.getTime()`, for an entry that holds its time as a number and makes the
   * Date only when asked (the two must agree). A listing of 10,000 entries is then formatted
   * without a Date per entry.
   */
  readonly mtimeMs?: number;
  /** Unix permission bits (0o7777 mask). */
  mode: number;
  /** A stable identity (device and inode on disk) for the MLSx `unique` fact. */
  id: string;
}

/** Why a VirtualFs operation failed. The session maps each code to an FTP reply. */
export type FsErrorCode =
  | 'not-found'
  | 'not-dir'
  | 'is-dir'
  | 'exists'
  | 'not-empty'
  | 'denied'
  | 'invalid-path'
  | 'no-space'
  | 'unsupported'
  | 'io';

/** A VirtualFs failure with a machine-readable code; its message is for logs. */
export class FsError extends Error {
  readonly code: FsErrorCode;
  constructor(code: FsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FsError';
    this.code = code;
  }
}

/** A file opened for reading: its bytes from the start offset as a producer, and its size at open. */
export interface ReadableFile extends Producer {
  readonly size: number;
  /**
   * Optional: reads the next bytes into the caller's buffer and returns how many (0 at the end),
   * so a sender can reuse two buffers instead of allocating one per chunk. Use either this or
   * `more()` on one file, not both.
   */
  readInto?(buffer: Buffer): Promise<number>;
  /**
   * Optional: all the bytes from the start offset, already read (a small file read in one go).
   * A sender may write these at once instead of calling `more()` or `readInto`.
   */
  readonly data?: Buffer;
}

/** How a file is opened for writing. */
export interface WriteOptions {
  /**
   * `replace` (STOR, STOU): write a temporary file, put in place by `commit`; `resume`
   * (REST + STOR): write into the existing file from `offset`; `append` (APPE): add at the end.
   */
  mode: 'replace' | 'resume' | 'append';
  /** Resume offset (`resume` only). */
  offset?: number;
  /** `replace` only: fail on commit if the target exists by then (STOU). */
  exclusive?: boolean;
}

/**
 * An upload in progress. Nothing appears under the final name until `commit` (for `replace`);
 * `abort` removes the temporary file and leaves any previous file untouched.
 */
export interface WritableFile {
  /**
   * Writes the next bytes; resolves when the filesystem accepted them. The caller reuses the
   * buffer once this resolves (uploads are read into a few reused blocks): keep a copy, not
   * the buffer.
   */
  write(data: Buffer): Promise<void>;
  /** Optional: writes several buffers in order in one call (saves joining them first); reused as for `write`. */
  writev?(parts: Buffer[]): Promise<void>;
  /**
   * Makes the upload visible under its final name, and durable first (fsync) unless the store
   * was configured otherwise (DiskFs `fsync: false`).
   */
  commit(): Promise<void>;
  /** Drops the upload; safe to call after commit or twice. */
  abort(): Promise<void>;
}

/**
 * The storage an FTP session sees: paths are absolute virtual paths ("/", "/pub/a.txt")
 * already normalised by the session (no "..", no NUL). An implementation must keep every
 * access inside its root, including through symlinks, checked on every call.
 * @see RFC 959 §3.1 (file structure), RFC 3659 §7 (listings)
 */
export interface VirtualFs {
  stat(path: string): Promise<FileStat>;
  /** The entries of a directory, without "." and "..". */
  list(path: string): Promise<FileStat[]>;
  /**
   * Optional: the entries of a directory sorted by name (code-unit order) across batches, so a
   * listing can send the first entries while later ones are still being read. The promise fails
   * as `list` does (`not-dir` for a file, …) before any batch; the batches themselves do not fail.
   */
  listBatches?(path: string): Promise<AsyncIterable<FileStat[]>>;
  /** The file's bytes from `start`, in large chunks (1 MiB on disk); `is-dir` for a directory. */
  openRead(path: string, start?: number): Promise<ReadableFile>;
  openWrite(path: string, options: WriteOptions): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Removes a file (not a directory). */
  unlink(path: string): Promise<void>;
  setMtime(path: string, mtime: Date): Promise<void>;
  /** Optional: changes permission bits (SITE CHMOD). */
  chmod?(path: string, mode: number): Promise<void>;
}

/** The last component of a virtual path. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? path : path.slice(i + 1);
}

/** The parent of a virtual path ("/" for top-level entries and for "/" itself). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
