import type { GorgonServer } from '@gorgon/core';

/**
 * Where the process is in its life, as `/healthz` and the status page report it: `starting`
 * until every listener is bound, `running` while accepting, `draining` from the first SIGTERM or
 * SIGINT (listeners closed or closing, sessions saying goodbye), `stopped` at the end.
 */
export type SuitePhase = 'starting' | 'running' | 'draining' | 'stopped';

/** One listener the suite runs, as the admin listener (metrics, status page) sees it. */
export interface RunningDaemon {
  /** The daemon's name in logs ("pop3", "pop3s", "ftp"). */
  name: string;
  /** The protocol key of its config section ("pop3", "ftp", "nntp", "http", "finger"). */
  protocol: string;
  /** Where it listens ("127.0.0.1:1110"). */
  address: string;
  /** Its implicit-TLS port, when it has one ("127.0.0.1:1995"): counted with the plain one. */
  tlsAddress?: string;
  /** The server behind it (two daemons may share one server: the plain and the TLS port). */
  server: Pick<GorgonServer, 'on' | 'off' | 'counters' | 'connections'>;
}

type SuiteEventMap = {
  phase: SuitePhase;
  added: RunningDaemon;
  removed: RunningDaemon;
};

/**
 * What one running process knows about itself: its phase and its daemons. The daemon runner
 * ({@link runDaemons}) keeps it current (a SIGHUP config reload removes and adds daemons); the
 * admin listener reads it. One per process: with `--workers`, each worker has its own and the
 * primary aggregates.
 */
export class Suite {
  #phase: SuitePhase = 'starting';
  readonly #daemons: RunningDaemon[] = [];
  readonly #listeners: { [K in keyof SuiteEventMap]: Array<(value: SuiteEventMap[K]) => void> } = {
    phase: [],
    added: [],
    removed: [],
  };
  /** When the process started serving (ms since the epoch). */
  readonly startedAt = Date.now();

  get phase(): SuitePhase {
    return this.#phase;
  }

  get daemons(): readonly RunningDaemon[] {
    return this.#daemons;
  }

  setPhase(phase: SuitePhase): void {
    if (this.#phase === phase) return;
    this.#phase = phase;
    for (const fn of [...this.#listeners.phase]) fn(phase);
  }

  add(daemon: RunningDaemon): void {
    this.#daemons.push(daemon);
    for (const fn of [...this.#listeners.added]) fn(daemon);
  }

  remove(daemon: RunningDaemon): void {
    const i = this.#daemons.indexOf(daemon);
    if (i < 0) return;
    this.#daemons.splice(i, 1);
    for (const fn of [...this.#listeners.removed]) fn(daemon);
  }

  /** Watches phase changes and daemons added or removed; returns the function that stops watching. */
  on<K extends keyof SuiteEventMap>(name: K, fn: (value: SuiteEventMap[K]) => void): () => void {
    const list = this.#listeners[name] as Array<(value: SuiteEventMap[K]) => void>;
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }
}
