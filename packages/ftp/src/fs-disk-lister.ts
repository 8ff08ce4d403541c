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

// The threads' code, evaluated as a CommonJS script (no separate file to build or resolve).
// Results go back as one transferred Float64Array per chunk: no object per entry to clone.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
parentPort.on('message', ({ dir, names }) => {
  const out = new Float64Array(names.length * ${LISTED_FIELDS});
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  for (let i = 0, o = 0; i < names.length; i++, o += ${LISTED_FIELDS}) {
    let st;
    try {
      st = lstatSync(prefix + names[i], { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st) {
      out[o] = -1; // vanished since readdir
      continue;
    }
    out[o] = st.isDirectory() ? 1 : st.isFile() ? 0 : st.isSymbolicLink() ? ${LISTED_SYMLINK} : 2;
    out[o + 1] = st.size;
    out[o + 2] = st.mtimeMs;
    out[o + 3] = st.mode;
    out[o + 4] = st.dev;
    out[o + 5] = st.ino;
  }
  parentPort.postMessage(out, [out.buffer]);
});
`;

interface Request {
  readonly out: Float64Array;
  remaining: number;
  failed: boolean;
  resolve(stats: ListedStats): void;
  reject(err: Error): void;
}

/** A slice of one request's names, statted by one thread in one message. */
interface Job {
  readonly request: Request;
  readonly dir: string;
  readonly names: readonly string[];
  /** Index of the slice's first name in the request. */
  readonly first: number;
}

/** Options of {@link DirectoryLister}. */
export interface DirectoryListerOptions {
  /** Helper threads at most. Default: the machine's parallelism, 4 at most. */
  threads?: number;
  /** A request of more names than this is split across threads. Default 1024. */
  sliceNames?: number;
}

/**
 * Stats the entries of large directories on a few helper threads: one synchronous `lstat` per
 * entry there, each slice of names answered in one message. A 10,000-entry directory then costs
 * a few round trips instead of 10,000 thread-pool hand-offs (≈ 11 µs each on a small VM), the
 * event loop never blocks, and the slices run on all cores at once (the lstats are most of a
 * large LIST: ≈ 4 µs each on a small VM). A round trip to a thread costs a millisecond or two on
 * a busy machine, so small directories stay on the thread pool. The threads are shared, made at
 * first use, and do not keep the process alive.
 */
export class DirectoryLister {
  readonly #threads: number;
  readonly #sliceNames: number;
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  #queue: Job[] = [];

  constructor(options: DirectoryListerOptions = {}) {
    this.#threads = Math.max(1, options.threads ?? Math.min(4, availableParallelism()));
    this.#sliceNames = Math.max(1, options.sliceNames ?? 1024);
  }

  /** lstat of `names` in `dir`, in their order. */
  stat(dir: string, names: readonly string[]): Promise<ListedStats> {
    return new Promise((resolve, reject) => {
      const request: Request = { out: new Float64Array(names.length * LISTED_FIELDS), remaining: 0, failed: false, resolve, reject };
      if (names.length === 0) return resolve(request.out);
      // Slices small enough that every thread gets a few (a slow thread does not hold the
      // whole answer), large enough that round trips stay few.
      const size = Math.max(this.#sliceNames, Math.ceil(names.length / (this.#threads * 2)));
      for (let first = 0; first < names.length; first += size) {
        request.remaining++;
        this.#queue.push({ request, dir, names: names.slice(first, first + size), first });
      }
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      if (job.request.failed) continue;
      let worker = this.#idle.pop();
      if (!worker) {
        if (this.#busy.size >= this.#threads) {
          this.#queue.unshift(job);
          return;
        }
        try {
          worker = this.#spawn();
        } catch (err) {
          this.#fail(job.request, err as Error);
          continue;
        }
      }
      this.#busy.set(worker, job);
      worker.ref();
      worker.postMessage({ dir: job.dir, names: job.names });
    }
  }

  #spawn(): Worker {
    const worker = new Worker(SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (stats: Float64Array) => {
      const job = this.#busy.get(worker);
      if (!job) return;
      this.#busy.delete(worker);
      worker.unref();
      this.#idle.push(worker);
      const request = job.request;
      if (!request.failed) {
        request.out.set(stats, job.first * LISTED_FIELDS);
        if (--request.remaining === 0) request.resolve(request.out);
      }
      this.#pump();
    });
    const lost = (err: Error): void => {
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      const i = this.#idle.indexOf(worker);
      if (i !== -1) this.#idle.splice(i, 1);
      if (job) this.#fail(job.request, err);
      this.#pump();
    };
    worker.on('error', lost);
    worker.on('exit', () => lost(new Error('directory lister thread exited')));
    return worker;
  }

  #fail(request: Request, err: Error): void {
    if (request.failed) return;
    request.failed = true;
    this.#queue = this.#queue.filter((j) => j.request !== request);
    request.reject(err);
  }
}

/** The lister every DiskFs of this process shares. */
export const sharedLister = new DirectoryLister();
