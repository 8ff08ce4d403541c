import { stat } from 'node:fs/promises';

/**
 * How long a check of a file stays good by default (ms): the file is looked at again at most
 * once a second, as Gorgon's POP3 and FTP users files are. A `stat` per query through the
 * thread pool cost the finger server more than the rest of the query (issue 9.3).
 */
export const DEFAULT_RECHECK_MS = 1000;

/**
 * A value read from a file and read again when the file changes: its modification time, size or
 * inode (an atomic rename-into-place) differ from the last load. The file is checked with one
 * `stat` at most every `recheckMs` (0: on every `get`); a check or a load already running is
 * shared by concurrent callers. When a load fails, `get` throws and the next `get` tries again,
 * so a broken file is reported on every use until it is fixed.
 * @see RFC 1288 §2.5
 */
export class FileCache<T> {
  readonly path: string;
  readonly #load: (path: string) => Promise<T>;
  readonly #recheckMs: number;
  #stamp: string | undefined;
  #value: T | undefined;
  /** Date.now() of the last check that found `#value` current. */
  #checkedAt = 0;
  #pending: { stamp: string; promise: Promise<T> } | undefined;
  #checking: Promise<T> | undefined;

  constructor(path: string, load: (path: string) => Promise<T>, recheckMs = DEFAULT_RECHECK_MS) {
    this.path = path;
    this.#load = load;
    this.#recheckMs = recheckMs;
  }

  /** The value when its last check is recent enough that `get` would not look at the file. */
  fresh(): T | undefined {
    if (this.#value === undefined || this.#recheckMs === 0) return undefined;
    const age = Date.now() - this.#checkedAt;
    // A clock stepped back counts as stale.
    return age >= 0 && age < this.#recheckMs ? this.#value : undefined;
  }

  get(): Promise<T> {
    const fresh = this.fresh();
    if (fresh !== undefined) return Promise.resolve(fresh);
    if (this.#value !== undefined && this.#recheckMs > 0) {
      // Queries arriving while one check runs share it.
      if (this.#checking) return this.#checking;
      const checking = this.#check();
      this.#checking = checking;
      const clear = (): void => {
        if (this.#checking === checking) this.#checking = undefined;
      };
      checking.then(clear, clear);
      return checking;
    }
    return this.#check();
  }

  /**
   * Forgets what the last check found and reads the file now (SIGHUP): a change made within
   * `recheckMs` of the last check is seen at once. Throws when the file cannot be loaded.
   */
  refresh(): Promise<T> {
    this.#stamp = undefined;
    this.#checkedAt = 0;
    return this.#check();
  }

  async #check(): Promise<T> {
    const startedAt = Date.now();
    let stamp: string;
    try {
      const st = await stat(this.path, { bigint: true });
      stamp = `${st.mtimeNs}:${st.size}:${st.ino}`;
    } catch {
      // Let the loader produce its own clear error for a missing or unreadable file.
      stamp = 'missing';
    }
    if (stamp === this.#stamp && this.#value !== undefined) {
      this.#checkedAt = startedAt;
      return this.#value;
    }
    if (this.#pending?.stamp === stamp) return this.#pending.promise;
    const promise = this.#load(this.path).then(
      (value) => {
        if (this.#pending?.promise === promise) {
          this.#value = value;
          this.#stamp = stamp;
          this.#checkedAt = startedAt;
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
