/**
 * A bounded cache of small files' bytes, keyed by path and checked against the file's strong
 * ETag on every use (the store's open() gives it): a changed file is read again, never served
 * stale. Least recently used entries go first once `maxBytes` is reached.
 */
export class HotFileCache {
  readonly maxBytes: number;
  readonly maxFileBytes: number;
  #bytes = 0;
  readonly #entries = new Map<string, { etag: string; data: Buffer }>();

  constructor(maxBytes: number, maxFileBytes: number) {
    this.maxBytes = maxBytes;
    this.maxFileBytes = Math.min(maxFileBytes, maxBytes);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The cached bytes of `path` when its ETag is still `etag`. */
  get(path: string, etag: string): Buffer | undefined {
    const e = this.#entries.get(path);
    if (!e) return undefined;
    this.#entries.delete(path);
    if (e.etag !== etag) {
      this.#bytes -= e.data.length;
      return undefined;
    }
    this.#entries.set(path, e); // most recently used last
    return e.data;
  }

  set(path: string, etag: string, data: Buffer): void {
    if (data.length > this.maxFileBytes) return;
    const old = this.#entries.get(path);
    if (old) {
      this.#entries.delete(path);
      this.#bytes -= old.data.length;
    }
    this.#entries.set(path, { etag, data });
    this.#bytes += data.length;
    for (const [key, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(key);
      this.#bytes -= e.data.length;
    }
  }
}
