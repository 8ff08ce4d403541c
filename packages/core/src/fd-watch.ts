import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Counters } from './counters.js';
import type { Logger } from './logger.js';

/**
 * Running out of file descriptors, made visible. At the limit, libuv accepts each new
 * connection on a descriptor it keeps in reserve and closes it at once (its "EMFILE trick"),
 * so Node never reports the failed accept: clients are dropped without a greeting, FTP's PASV
 * cannot listen (425), and nothing says why. So every listener probes on its housekeeping tick:
 * opening /dev/null fails with EMFILE (this process's limit) or ENFILE (the system's) exactly
 * while a new connection would be dropped. The state is the process's, shared by all its
 * listeners, so a burst is logged and counted once, by the listener that saw it first, however
 * many listeners the process runs; its end is logged too.
 */

/** The exhaustion codes: this process's limit, the system's file table. */
export type FdExhaustionCode = 'EMFILE' | 'ENFILE';

interface Burst {
  code: FdExhaustionCode;
  since: number;
}

// Module-level on purpose, one of the few process-wide states of the library packages (issue 10): one
// process has one descriptor table and one RLIMIT_NOFILE, whichever servers an embedder
// creates in it, so whether descriptors are exhausted is the process's fact. Per-listener
// state would log and count each burst once per listener (`gorgon serve` runs several). Nothing is
// registered on the process and nothing runs unless a listener probes.
/** The burst in progress, if any: a fact about the process, not about one listener. */
let current: Burst | undefined;
/** The soft RLIMIT_NOFILE, read while descriptors are to spare (reading needs one). */
let softLimit: number | undefined | null = null;

/** True for an error that says the process or the system is out of file descriptors. */
export function isFdExhaustion(err: unknown): err is NodeJS.ErrnoException & { code: FdExhaustionCode } {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * The soft limit on open files ("Max open files" in /proc/self/limits), or undefined where
 * that file does not exist. Read once and again after each burst: never during one, when the
 * read itself would fail.
 */
export function openFileLimit(): number | undefined {
  if (softLimit === null) {
    try {
      const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
      softLimit = match && match[1] !== 'unlimited' ? Number(match[1]) : undefined;
    } catch {
      softLimit = undefined;
    }
  }
  return softLimit;
}

/** One listener's view of the process's descriptors: its logger and counters. */
export class FdWatch {
  readonly #logger: Logger;
  readonly #counters: Counters;
  readonly #onExhausted: (() => void) | undefined;

  /** `onExhausted` runs once per burst this watch starts (the server's `refused` event). */
  constructor(logger: Logger, counters: Counters, onExhausted?: () => void) {
    this.#logger = logger;
    this.#counters = counters;
    this.#onExhausted = onExhausted;
    openFileLimit(); // now, while a descriptor is to spare
  }

  /** The housekeeping tick: two syscalls when all is well. */
  probe(now: number): void {
    let code: string | undefined;
    try {
      closeSync(openSync('/dev/null', 'r'));
    } catch (err) {
      code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    }
    if (code === 'EMFILE' || code === 'ENFILE') this.exhausted(code, now);
    else if (code === undefined) this.#recovered(now);
    // Anything else (no /dev/null): no opinion.
  }

  /** An operation failed for want of descriptors (a failed accept or listen): same burst. */
  noteError(err: unknown, now = Date.now()): boolean {
    if (!isFdExhaustion(err)) return false;
    this.exhausted(err.code, now);
    return true;
  }

  /** Starts a burst unless one is in progress: one warning and one count per burst. */
  exhausted(code: FdExhaustionCode, now: number): void {
    if (current) return;
    current = { code, since: now };
    this.#counters.fdExhausted++;
    this.#onExhausted?.();
    const limit = softLimit ?? undefined;
    const what =
      code === 'EMFILE'
        ? `this process is at its limit of ${limit === undefined ? '' : `${limit} `}open files (RLIMIT_NOFILE; raise it with ulimit -n or systemd's LimitNOFILE=)`
        : `the system's file table is full (fs.file-max); this process's own limit is ${limit ?? 'unknown'}`;
    this.#logger.warn(
      { event: 'fd-exhausted', code, limit },
      `out of file descriptors (${code}): ${what}; new connections are dropped without a greeting and data connections fail until some close`,
    );
  }

  #recovered(now: number): void {
    const burst = current;
    if (!burst) return;
    current = undefined;
    softLimit = null; // read it again: the operator may have raised it
    const limit = openFileLimit();
    const ms = Math.max(0, now - burst.since);
    this.#logger.info({ event: 'fd-recovered', code: burst.code, ms, limit }, `file descriptors available again after ${ms} ms`);
  }
}
