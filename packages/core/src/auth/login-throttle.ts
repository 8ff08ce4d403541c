/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Delay after the first failure (ms). Default 500. */
  baseDelayMs?: number;
  /** The delay doubles per failure up to this (ms). Default 8000. */
  maxDelayMs?: number;
  /** Failures older than this are forgotten (ms). Default 15 minutes. */
  windowMs?: number;
  /** Addresses remembered at most (oldest forgotten first). Default 10,000. */
  maxEntries?: number;
}

/**
 * A growing delay after each failed login from one address, shared by all sessions of a server,
 * so a password guesser slows down whatever connection it uses. Memory stays bounded.
 */
export class LoginThrottle {
  readonly #base: number;
  readonly #max: number;
  readonly #window: number;
  readonly #maxEntries: number;
  readonly #failures = new Map<string, { count: number; last: number }>();

  constructor(options: LoginThrottleOptions = {}) {
    this.#base = options.baseDelayMs ?? 500;
    this.#max = options.maxDelayMs ?? 8000;
    this.#window = options.windowMs ?? 15 * 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Records a failure and returns how long to wait before answering it (ms). */
  failed(address: string, now = Date.now()): number {
    const entry = this.#failures.get(address);
    const count = entry && now - entry.last < this.#window ? entry.count + 1 : 1;
    this.#failures.delete(address);
    if (this.#failures.size >= this.#maxEntries) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    this.#failures.set(address, { count, last: now });
    return Math.min(this.#max, this.#base * 2 ** (count - 1));
  }

  /** Failures counted for `address` within the window. */
  failures(address: string, now = Date.now()): number {
    const entry = this.#failures.get(address);
    return entry && now - entry.last < this.#window ? entry.count : 0;
  }

  /** A successful login clears the address's record. */
  succeeded(address: string): void {
    this.#failures.delete(address);
  }
}
