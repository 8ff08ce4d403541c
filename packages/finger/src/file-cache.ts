import { stat } from 'node:fs/promises';

/**
 * A value read from a file and read again when the file changes: its modification time, size or
 * inode (an atomic rename-into-place) differ from the last load. One `stat` per `get`; a load
 * already running is shared by concurrent callers. When a load fails, `get` throws and the next
 * `get` tries again, so a broken file is reported on every use until it is fixed.
 * @see RFC 1288 §2.5
 */
export class FileCache<T> {
  readonly path: string;
  readonly #load: (path: string) => Promise<T>;
  #stamp: string | undefined;
  #value: T | undefined;
  #pending: { stamp: string; promise: Promise<T> } | undefined;

  constructor(path: string, load: (path: string) => Promise<T>) {
    this.path = path;
    this.#load = load;
  }

  async get(): Promise<T> {
    let stamp: string;
    try {
      const st = await stat(this.path, { bigint: true });
      stamp = `${st.mtimeNs}:${st.size}:${st.ino}`;
    } catch {
      // Let the loader produce its own clear error for a missing or unreadable file.
      stamp = 'missing';
    }
    if (stamp === this.#stamp && this.#value !== undefined) return this.#value;
    if (this.#pending?.stamp === stamp) return this.#pending.promise;
    const promise = this.#load(this.path).then(
      (value) => {
        if (this.#pending?.promise === promise) {
          this.#value = value;
          this.#stamp = stamp;
          this.#pending = undefined;
        }
        return value;
      },
      (err: unknown) => {
        if (this.#pending?.promise === promise) this.#pending = undefined;
        throw err;
      },
    );
    this.#pending = { stamp, promise };
    return promise;
  }
}
