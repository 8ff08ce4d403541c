import { formatHead } from './response.js';
import type { StoreFile } from './store.js';

/** What the server knows of a file it serves: its validators and type, with the field lines made once. */
export interface FileMeta {
  readonly size: number;
  readonly mtimeMs: number;
  readonly etag: string;
  /** `Last-Modified` (seconds), as the HTTP-date and as a time. @see RFC 9110 §8.8.2 */
  readonly lastModified: string;
  readonly mtimeSec: number;
  /** `ETag` and `Last-Modified` field lines. */
  readonly validators: string;
  readonly contentType: string;
}

/** The metadata of an open file, its field lines made now. */
export function fileMeta(file: StoreFile, contentType: string): FileMeta {
  const mtimeSec = Math.floor(file.mtimeMs / 1000) * 1000;
  const lastModified = new Date(mtimeSec).toUTCString();
  return {
    size: file.size,
    mtimeMs: file.mtimeMs,
    etag: file.etag,
    lastModified,
    mtimeSec,
    validators: `ETag: ${file.etag}\r\nLast-Modified: ${lastModified}\r\n`,
    contentType,
  };
}

/** One prepared 200 response: status line, fields and content in one buffer, for one Date second. */
interface Prepared {
  date: string;
  bytes: Buffer;
  headLength: number;
}

/**
 * A small file held in memory with its metadata, as an open-file cache entry: the bytes, the
 * time it was last checked against the store, and its whole 200 response prepared per
 * connection kind (keep-alive 1.1, keep-alive 1.0, close), remade when the Date second turns.
 */
export class CachedFile {
  readonly meta: FileMeta;
  readonly data: Buffer;
  /** When the store last confirmed this content (ms since the epoch). */
  checkedAt: number;
  readonly #prepared: (Prepared | undefined)[] = [undefined, undefined, undefined];
  /** Tells the cache holding this entry that its prepared responses grew (or shrank) by a number of bytes. */
  account: ((delta: number) => void) | undefined;

  constructor(meta: FileMeta, data: Buffer, checkedAt: number) {
    this.meta = meta;
    this.data = data;
    this.checkedAt = checkedAt;
  }

  /**
   * The whole 200 response (head and content) for `date`; HEAD sends its first `headLength`
   * bytes. The buffer is shared by every connection that sends it and never written to again.
   */
  response(date: string, keepAlive: boolean, minor: number): Prepared {
    const kind = keepAlive ? minor : 2;
    const had = this.#prepared[kind];
    if (had && had.date === date) return had;
    const m = this.meta;
    const head = Buffer.from(
      formatHead(200, `${m.validators}Accept-Ranges: bytes\r\nContent-Type: ${m.contentType}\r\n`, m.size, keepAlive, minor),
      'latin1',
    );
    const made = { date, bytes: Buffer.concat([head, this.data]), headLength: head.length };
    this.#prepared[kind] = made;
    this.account?.(made.bytes.length - (had?.bytes.length ?? 0));
    return made;
  }

  /** The entry as an open StoreFile (reads from memory), for the paths that need one (ranges). */
  asFile(): StoreFile {
    const { data, meta } = this;
    const readNow = (buffer: Buffer, offset: number, length: number, position: number): number => {
      const n = Math.max(0, Math.min(length, data.length - position));
      data.copy(buffer, offset, position, position + n);
      return n;
    };
    return {
      kind: 'file',
      size: meta.size,
      mtimeMs: meta.mtimeMs,
      etag: meta.etag,
      read: async (buffer, offset, length, position) => readNow(buffer, offset, length, position),
      readNow,
      close: async () => undefined,
    };
  }

  /** Bytes this entry holds (the content and its prepared responses): what the cache counts. */
  get bytes(): number {
    let n = this.data.length;
    for (const p of this.#prepared) n += p?.bytes.length ?? 0;
    return n;
  }
}

/**
 * A bounded open-file cache for small hot files (in the spirit of nginx's `open_file_cache`,
 * holding the bytes too): an entry is served without any file system call for `validMs` after
 * the store last confirmed it; after that the next request opens the file again (the store's
 * full confinement checks) and compares the strong ETag (inode, size, mtime in ns): the same, and
 * the entry is trusted for another `validMs`; different, and the file is read again. So a changed
 * file is served at most `validMs` late and never as a mix of old and new bytes or validators.
 * The entries confirmed least recently go first once `maxBytes` is reached, counting each entry's
 * content and its prepared responses (at most three, one per connection kind in use); the entry
 * in use is never the one evicted, so what is held stays under `maxBytes` plus its responses.
 */
export class HotFileCache {
  readonly maxBytes: number;
  readonly maxFileBytes: number;
  /** How long an entry is served without asking the store (0: asked on every request). */
  readonly validMs: number;
  #bytes = 0;
  readonly #entries = new Map<string, CachedFile>();

  constructor(maxBytes: number, maxFileBytes: number, validMs = 1000) {
    this.maxBytes = maxBytes;
    this.maxFileBytes = Math.min(maxFileBytes, maxBytes);
    this.validMs = validMs;
  }

  /** Bytes held now: contents and prepared responses. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The entry for `path` when it was confirmed less than `validMs` ago. */
  fresh(path: string, now: number): CachedFile | undefined {
    const e = this.#entries.get(path);
    if (e === undefined || now - e.checkedAt >= this.validMs) return undefined;
    return e;
  }

  /** The entry for `path` when its content is still `etag` (its check time renewed); a stale entry is dropped. */
  confirm(path: string, etag: string, now: number): CachedFile | undefined {
    const e = this.#entries.get(path);
    if (!e) return undefined;
    if (e.meta.etag !== etag) {
      this.drop(path);
      return undefined;
    }
    this.#entries.delete(path);
    e.checkedAt = now;
    this.#entries.set(path, e); // most recently confirmed last
    return e;
  }

  /** Forgets `path` (gone, or no longer a file). */
  drop(path: string): void {
    const e = this.#entries.get(path);
    if (!e) return;
    this.#entries.delete(path);
    this.#release(e);
  }

  set(path: string, entry: CachedFile): void {
    if (entry.data.length > this.maxFileBytes) return;
    this.drop(path);
    this.#entries.set(path, entry);
    this.#bytes += entry.bytes;
    entry.account = (delta) => {
      this.#bytes += delta;
      this.#evict(entry);
    };
    this.#evict(entry);
  }

  #release(e: CachedFile): void {
    e.account = undefined;
    this.#bytes -= e.bytes;
  }

  /**
   * Oldest first, until what is held fits in `maxBytes`, sparing `keep` (the entry just stored or
   * used): so the bound is `maxBytes` plus that one entry's prepared responses.
   */
  #evict(keep: CachedFile): void {
    for (const [key, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      if (e === keep) continue;
      this.#entries.delete(key);
      this.#release(e);
    }
  }
}
