import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

// Upload blocks written on the event loop, while that cannot stall it. A block handed to the
// thread pool costs a wake-up of another thread and a copy from memory that thread's core has
// not seen: a 1 GiB STOR ran at 0.64–0.98× pure-ftpd's speed with 0.1–0.2 s more system time
// per GB than the same writes made on the loop (which matched pure-ftpd, a process per session
// that writes where it reads). A buffered write to a local file is a copy into the page cache,
// a fraction of a millisecond per MiB, as nginx writes request bodies to its temporary files
// from its event loop. It blocks only when the kernel throttles writers (too many dirty pages:
// up to 200 ms per pause) or reclaims memory for it; so blocks go to the pool while dirty pages
// are near the point where throttling starts, and for a while after any write on the loop was
// slow (a memory-limited cgroup throttles sooner than the machine-wide figures say).

/** A write on the loop slower than this sends the next ones to the pool for {@link COOL_DOWN_MS}. */
export const SLOW_WRITE_MS = 20;
/** How long writes stay in the pool after a slow one. */
export const COOL_DOWN_MS = 10_000;
/** Dirty-page figures are read again after this long. */
const MEMINFO_TTL_MS = 100;

/** The kernel's figures that say how close writers are to being throttled (bytes). */
export interface DirtyFigures {
  /** Dirty + Writeback pages. */
  dirty: number;
  /** dirty_background_bytes, or dirty_background_ratio % of free + file-backed memory. */
  background: number;
}

/** Dirty-page figures from /proc (Linux); undefined where there is none to read. */
export function readDirtyFigures(): DirtyFigures | undefined {
  try {
    const info = readFileSync('/proc/meminfo', 'latin1');
    const kib = (field: string): number => {
      const at = info.indexOf(`\n${field}:`);
      return at === -1 ? 0 : Number.parseInt(info.slice(at + field.length + 2, info.indexOf('\n', at + 1)), 10) * 1024;
    };
    const dirtyable = kib('MemFree') + kib('Active(file)') + kib('Inactive(file)');
    const bytes = Number(readFileSync('/proc/sys/vm/dirty_background_bytes', 'latin1'));
    const ratio = Number(readFileSync('/proc/sys/vm/dirty_background_ratio', 'latin1'));
    const background = bytes > 0 ? bytes : (dirtyable * ratio) / 100;
    if (!Number.isFinite(background) || dirtyable === 0) return undefined;
    return { dirty: kib('Dirty') + kib('Writeback'), background };
  } catch {
    return undefined;
  }
}

/** What {@link LoopWriteGate} reads; tests give their own. */
export interface LoopWriteClock {
  now(): number;
  dirtyFigures(): DirtyFigures | undefined;
}

/** DiskFs option key (package-internal, for tests) giving its gate another clock. */
export const kLoopWriteClock = Symbol('gorgon.ftp.loopWriteClock');

const systemClock: LoopWriteClock = { now: () => performance.now(), dirtyFigures: readDirtyFigures };

/**
 * Says whether the next upload block may be written with a synchronous call on the event loop,
 * and learns from how long such writes take. One per DiskFs: a slow disk under one root does
 * not send another root's writes to the pool.
 */
export class LoopWriteGate {
  readonly #clock: LoopWriteClock;
  #poolUntil = Number.NEGATIVE_INFINITY;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #headroom = false;

  constructor(clock: LoopWriteClock = systemClock) {
    this.#clock = clock;
  }

  /**
   * True while the loop may write: no slow write in the last {@link COOL_DOWN_MS}, and dirty
   * pages under the background writeback threshold (the kernel throttles writers only half way
   * from there to dirty_ratio). False where the figures cannot be read.
   */
  open(): boolean {
    const now = this.#clock.now();
    if (now < this.#poolUntil) return false;
    if (now - this.#checkedAt >= MEMINFO_TTL_MS) {
      this.#checkedAt = now;
      const figures = this.#clock.dirtyFigures();
      this.#headroom = figures !== undefined && figures.dirty < figures.background;
    }
    return this.#headroom;
  }

  /** Runs `write` on the loop, timing it; a slow one closes the gate for a while. */
  run<T>(write: () => T): T {
    const start = this.#clock.now();
    try {
      return write();
    } finally {
      const end = this.#clock.now();
      if (end - start > SLOW_WRITE_MS) this.#poolUntil = end + COOL_DOWN_MS;
    }
  }
}
