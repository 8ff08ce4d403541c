import { Registry } from './registry.js';

/**
 * The housekeeping period for these timeouts (ms; 0 or undefined = none): a quarter of the
 * shortest, so a timeout fires within 25% of its value, between 10 ms and 1 s.
 */
export function tickForTimeouts(...timeoutsMs: Array<number | undefined>): number {
  const shortest = Math.min(...timeoutsMs.map((ms) => ms || Number.POSITIVE_INFINITY));
  return Number.isFinite(shortest) ? Math.max(10, Math.min(1000, Math.floor(shortest / 4))) : 1000;
}

/** What the loop asks of each registered channel on every tick. */
export interface Sweepable {
  checkTimeouts(now: number): void;
}

/** Options of {@link Loop}. */
export interface LoopOptions {
  /** Milliseconds between housekeeping ticks. Default 1000. */
  tickMs?: number;
}

/**
 * The seed's event loop housekeeping: a registry of live channels and one periodic tick that
 * sweeps them for idle and total timeouts and runs the owner's maintenance hooks (counters,
 * metrics). One timer for all connections, not one per connection; it runs only while
 * something is registered and never keeps the process alive by itself.
 */
export class Loop {
  /** The registered channels (a Registry, not a Set: see there why). */
  readonly channels = new Registry<Sweepable>();
  readonly tickMs: number;
  readonly #hooks = new Set<(now: number) => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LoopOptions = {}) {
    this.tickMs = options.tickMs ?? 1000;
  }

  /** Channels registered now. */
  get size(): number {
    return this.channels.size;
  }

  /** Registers a channel (its constructor does); the tick starts if it was idle. */
  add(channel: Sweepable): void {
    this.channels.add(channel);
    this.#start();
  }

  /** Unregisters a channel (on close); the tick stops when nothing is left. */
  delete(channel: Sweepable): void {
    this.channels.delete(channel);
    if (this.channels.size === 0 && this.#hooks.size === 0) this.#stop();
  }

  /** Runs `hook` on every tick until the returned function is called. */
  onTick(hook: (now: number) => void): () => void {
    this.#hooks.add(hook);
    this.#start();
    return () => {
      this.#hooks.delete(hook);
      if (this.channels.size === 0 && this.#hooks.size === 0) this.#stop();
    };
  }

  /** One housekeeping pass; called by the timer, and directly by tests. */
  tick(now: number): void {
    for (const channel of this.channels) channel.checkTimeouts(now);
    for (const hook of this.#hooks) hook(now);
  }

  #start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(Date.now()), this.tickMs);
    this.#timer.unref();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
