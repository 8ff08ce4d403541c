/**
 * Where the static server's files come from: a small async interface (in the spirit of FTP's
 * `VirtualFs`), with a disk implementation confined to a root (`DiskStore`) and a memory one
 * (`MemoryStore`). Paths given to a store are already decoded and checked by the session
 * (absolute, '/'-separated, no '.' or '..' segment, no NUL); a store still refuses what would
 * leave its root. One contract suite (test/store-contract.test.ts) runs against both.
 */

/** A regular file, open for reading. */
export interface StoreFile {
  readonly kind: 'file';
  readonly size: number;
  readonly mtimeMs: number;
  /** A strong validator: changes whenever the content may have (size, mtime in ns, inode). */
  readonly etag: string;
  /** Reads into `buffer[offset, offset+length)` from `position`; returns the bytes read. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Releases the file (idempotent). */
  close(): Promise<void>;
  /** The synchronous read, when the store offers one (a local disk): small files are answered in the same tick. */
  readNow?(buffer: Buffer, offset: number, length: number, position: number): number;
  /**
   * The ETag the open file has now (a fresh fstat), when the store can tell: the cache compares
   * it with `etag` after reading a file whole, so a file written to while it was read is not kept
   * as a mix of old and new bytes. Optional.
   */
  currentEtag?(): string;
}

/** A directory. */
export interface StoreDirectory {
  readonly kind: 'directory';
  readonly mtimeMs: number;
}

/** One name in a directory listing. */
export interface StoreListEntry {
  name: string;
  kind: 'file' | 'directory';
  size: number;
  mtimeMs: number;
}

/** The static server's storage. */
export interface HttpStore {
  /**
   * Opens `path`: a regular file (opened, so what is served is what was checked), a directory,
   * or undefined when there is nothing servable there (missing, a device, a FIFO, a symlink
   * leading out of the root). Throws only for an I/O failure.
   */
  open(path: string): Promise<StoreFile | StoreDirectory | undefined>;
  /**
   * `open` done synchronously, for a store where that costs microseconds (a local disk): a
   * request for a small file is then answered without a trip through the thread pool, and
   * pipelined requests are answered in one pass. Optional.
   */
  openNow?(path: string): StoreFile | StoreDirectory | undefined;
  /** The servable entries of a directory, sorted by name; undefined when it is not one. */
  list(path: string): Promise<StoreListEntry[] | undefined>;
}
