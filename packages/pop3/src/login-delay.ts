/**
 * RFC 2449's LOGIN-DELAY policy: the least time between two logins of one user. The last
 * login per user is remembered (bounded: the oldest entries are forgotten first).
 * @see RFC 2449 §6.5, §8.1.2
 */
export class LoginDelay {
  readonly seconds: number;
  readonly #last = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(seconds: number, maxEntries = 100_000) {
    this.seconds = seconds;
    this.#maxEntries = maxEntries;
  }

  /** True when `user` may log in now (no login of theirs within the last `seconds`). */
  allows(user: string, now = Date.now()): boolean {
    if (this.seconds <= 0) return true;
    const last = this.#last.get(user);
    return last === undefined || now - last >= this.seconds * 1000;
  }

  /** Records a completed login of `user`. */
  record(user: string, now = Date.now()): void {
    if (this.seconds <= 0) return;
    this.#last.delete(user);
    if (this.#last.size >= this.#maxEntries) {
      const oldest = this.#last.keys().next().value;
      if (oldest !== undefined) this.#last.delete(oldest);
    }
    this.#last.set(user, now);
  }
}
