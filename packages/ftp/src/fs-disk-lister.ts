import { Worker } from 'node:worker_threads';

/** One directory entry as the lister thread reports it. */
export interface ListedEntry {
  name: string;
  kind: 'file' | 'dir' | 'other';
  size: number;
  mtimeMs: number;
  mode: number;
  dev: number;
  ino: number;
}

// The thread's code, evaluated as a CommonJS script (no separate file to build or resolve).
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
parentPort.on('message', ({ id, dir, names }) => {
  const out = [];
  for (const name of names) {
    let st;
    try {
      st = fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false });
    } catch (err) {
      st = undefined;
    }
    if (!st) continue; // vanished since readdir
    out.push({ name, kind: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other', size: st.size, mtimeMs: st.mtimeMs, mode: st.mode, dev: st.dev, ino: st.ino });
  }
  parentPort.postMessage({ id, out });
});
`;

interface Pending {
  resolve(entries: ListedEntry[]): void;
  reject(err: Error): void;
}

/**
 * Stats the entries of large directories on one helper thread: one synchronous `lstat` per
 * entry there, the result sent back in one message. A 10,000-entry directory then costs one
 * round trip instead of 10,000 thread-pool hand-offs (≈ 11 µs each on a small VM), and the event
 * loop never blocks. A round trip to the thread costs a millisecond or two on a busy machine, so
 * small directories stay on the thread pool. The thread is shared, made at first use and does
 * not keep the process alive.
 */
export class DirectoryLister {
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #ids = 0;

  /** lstat of `names` in `dir` (no symlinks among them), in one round trip. */
  stat(dir: string, names: readonly string[]): Promise<ListedEntry[]> {
    const worker = this.#start();
    const id = ++this.#ids;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage({ id, dir, names });
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (msg: { id: number; out?: ListedEntry[]; error?: { code?: string; message: string } }) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (this.#pending.size === 0) worker.unref();
      if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      else p.resolve(msg.out ?? []);
    });
    const fail = (err: Error): void => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('directory lister thread exited')));
    this.#worker = worker;
    return worker;
  }
}

/** The lister every DiskFs of this process shares. */
export const sharedLister = new DirectoryLister();
