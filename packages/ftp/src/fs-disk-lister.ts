import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Numbers per entry in a {@link ListedStats} array: kind, size, mtimeMs, mode, dev, ino. */
export const LISTED_FIELDS = 6;

/** The kind a {@link ListedStats} array gives a symbolic link. */
export const LISTED_SYMLINK = 3;

/**
 * The lstat of each name, LISTED_FIELDS numbers per name in the order asked: kind (0 file,
 * 1 directory, 2 other, 3 symbolic link, -1 vanished since readdir), size, mtimeMs, mode, dev,
 * ino.
 */
export type ListedStats = Float64Array;

/**
 * The threads' code: a plain module beside this one, in src/ and in dist/ alike (see its head).
 * Started with no execArgv: an embedder's loaders and flags (ts-node's, a test runner's) have
 * nothing to do in a thread that only calls lstat.
 */
const WORKER_URL = new URL('./fs-disk-lister-worker.mjs', import.meta.url);

/** A slice of names posted to one thread; the thread answers its messages in order. */
interface Job {
  resolve(stats: ListedStats): void;
  reject(err: Error): void;
}

interface Thread {
  readonly worker: Worker;
  /** Slices posted and not answered yet, in order. */
  readonly jobs: Job[];
}

/** Options of {@link DirectoryLister}. */
export interface DirectoryListerOptions {
  /** Helper threads at most. Default: the machine's parallelism, 4 at most. */
  threads?: number;
}

/**
 * Stats the entries of large directories on a few helper threads: one synchronous `lstat` per
 * entry there, each slice of the names sent as one string and answered as one transferred
 * array. A 10,000-entry directory then costs a few messages instead of 10,000 thread-pool
 * hand-offs (≈ 11 µs each on a small VM), the event loop never blocks, and the slices run on
 * all cores at once (the lstats are most of a large LIST: ≈ 4 µs each on a small VM). Every
 * slice is posted at once, so no answer waits for the event loop to hand out more work, and a
 * listing can send the first slices while the threads stat the rest. A round trip to a thread
 * costs a millisecond or two on a busy machine, so small directories stay on the thread pool.
 * The threads are made at first use and do not keep the process alive; their owner (a DiskFs,
 * or the FTP server for the DiskFs it makes) ends them with {@link DirectoryLister.close}.
 */
export class DirectoryLister {
  readonly #size: number;
  readonly #threads: Array<Thread | undefined> = [];
  #next = 0;

  constructor(options: DirectoryListerOptions = {}) {
    this.#size = Math.max(1, options.threads ?? Math.min(4, availableParallelism()));
  }

  /** lstat of `names` in `dir`, in their order. */
  async stat(dir: string, names: readonly string[]): Promise<ListedStats> {
    const out = new Float64Array(names.length * LISTED_FIELDS);
    const slices = this.slices(dir, names, this.#size);
    let at = 0;
    for (const slice of slices) {
      const stats = await slice.stats;
      out.set(stats, at);
      at += stats.length;
    }
    return out;
  }

  /**
   * lstat of `names` in `dir` as `count` consecutive slices (fewer for few names), all posted
   * at once to the threads in turn, each settling on its own: a caller can use the first
   * slices while the threads still work on the rest. A rejected slice (a thread died) is for
   * the caller to redo another way; an unawaited one never surfaces as an unhandled rejection.
   */
  slices(
    dir: string,
    names: readonly string[],
    count: number,
  ): Array<{ first: number; names: readonly string[]; stats: Promise<ListedStats> }> {
    const out: Array<{ first: number; names: readonly string[]; stats: Promise<ListedStats> }> = [];
    if (names.length === 0) return out;
    const size = Math.ceil(names.length / Math.max(1, Math.min(count, names.length)));
    for (let first = 0; first < names.length; first += size) {
      const slice = names.slice(first, first + size);
      const stats = new Promise<ListedStats>((resolve, reject) => {
        const thread = this.#thread();
        thread.jobs.push({ resolve, reject });
        if (thread.jobs.length === 1) thread.worker.ref();
        // One string (NUL cannot occur in a name) clones far faster than an array of strings.
        thread.worker.postMessage({ dir, joined: slice.join('\0') });
      });
      stats.catch(() => undefined);
      out.push({ first, names: slice, stats });
    }
    return out;
  }

  /**
   * Terminates the threads. Slices still waiting reject (their callers stat them on the thread
   * pool instead); a later call makes threads again, to be ended by another close().
   */
  async close(): Promise<void> {
    const ending: Array<Promise<unknown>> = [];
    for (const [i, thread] of this.#threads.entries()) {
      if (!thread) continue;
      this.#threads[i] = undefined;
      for (const job of thread.jobs.splice(0)) job.reject(new Error('directory lister closed'));
      ending.push(thread.worker.terminate().catch(() => undefined));
    }
    await Promise.all(ending);
  }

  /** The next thread in turn, made at first use. */
  #thread(): Thread {
    const i = this.#next++ % this.#size;
    this.#threads[i] ??= this.#spawn(i);
    return this.#threads[i];
  }

  #spawn(index: number): Thread {
    const worker = new Worker(WORKER_URL, { execArgv: [], workerData: { fields: LISTED_FIELDS, symlink: LISTED_SYMLINK } });
    worker.unref();
    const thread: Thread = { worker, jobs: [] };
    worker.on('message', (stats: Float64Array) => {
      const job = thread.jobs.shift();
      if (thread.jobs.length === 0) worker.unref();
      job?.resolve(stats);
    });
    const lost = (err: Error): void => {
      if (this.#threads[index] === thread) this.#threads[index] = undefined;
      for (const job of thread.jobs.splice(0)) job.reject(err);
    };
    worker.on('error', lost);
    worker.on('exit', () => lost(new Error('directory lister thread exited')));
    return thread;
  }
}
