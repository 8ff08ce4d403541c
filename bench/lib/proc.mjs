// Child processes for benchmarks: servers and load generators run as forked Node workers that
// answer requests over IPC (see worker.mjs). Every worker is tracked and killed when the run
// ends, fails, times out or is interrupted, so no benchmark leaves a process behind.
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();

/** Where `--profile` puts CPU profiles of the measured (server) workers, if set. */
let profileDir;
/** @param {string | undefined} dir */
export function setProfileDir(dir) {
  profileDir = dir;
}

/**
 * @typedef {object} Worker
 * @property {number} pid
 * @property {string} name
 * @property {(op: string, args?: unknown, timeoutMs?: number) => Promise<any>} call
 *   Runs handler `op` in the worker and resolves with its result.
 * @property {() => Promise<void>} stop  Asks the worker to exit, kills it after 2 s.
 * @property {() => void} kill           SIGKILL now.
 */

/**
 * Extra Node flags for the processes under test (`GORGON_BENCH_SERVER_FLAGS="--trace-gc"`): to see
 * what the collector does in a server through a whole benchmark, or to try a V8 flag on it.
 */
const serverFlags = (process.env.GORGON_BENCH_SERVER_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');

/**
 * Starts `script` (a path or URL of a worker module) as a child Node process and waits for it
 * to report ready.
 * @param {string | URL} script
 * @param {{ name?: string, args?: string[], execArgv?: string[], readyTimeoutMs?: number, measured?: boolean }} [options]
 *   `measured`: this is the process under test (a server); `--profile` records its CPU profile.
 * @returns {Promise<Worker>}
 */
export async function spawnWorker(script, options = {}) {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  const name = options.name ?? path.split('/').pop();
  const child = fork(path, options.args ?? [], {
    execArgv: [
      ...(options.execArgv ?? []),
      ...(options.measured ? serverFlags : []),
      ...(profileDir && options.measured
        ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`]
        : []),
    ],
    // stdout goes to our stderr so that `--json` output on stdout stays clean.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(process.stderr);
  live.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  void exited.then(() => live.delete(child));

  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
  const pending = new Map();
  let nextId = 0;
  let ready;
  const readyPromise = new Promise((resolve, reject) => (ready = { resolve, reject }));
  child.on('message', (/** @type {any} */ msg) => {
    if (msg?.ready) return ready.resolve(undefined);
    const p = pending.get(msg?.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  void exited.then(({ code, signal }) => {
    const err = new Error(`${name} exited (code ${code}, signal ${signal})`);
    ready.reject(err);
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  });

  const readyTimer = setTimeout(() => ready.reject(new Error(`${name} not ready in time`)), options.readyTimeoutMs ?? 15_000);
  try {
    await readyPromise;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(readyTimer);
  }

  return {
    pid: /** @type {number} */ (child.pid),
    name,
    call(op, args, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${op} took more than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, op, args });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect?.();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Starts any program (a stock peer server: dovecot, vsftpd, python3 -m pyftpdlib) as a tracked
 * child, killed with the workers at the end of its benchmark.
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [options]
 */
export function spawnProcess(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], ...options });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Kills every worker still running (end of a benchmark, timeout, Ctrl-C). */
export function killAllWorkers() {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

process.once('exit', killAllWorkers);
