import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '@gorgon/core';
import type { AdminSource } from '../admin/source.js';
import { CliError, messageOf } from '../errors.js';
import type { SuitePhase } from '../suite.js';
import { createClusterSource } from './cluster-source.js';
import {
  isWorkerMessage,
  WORKER_COUNT_ENV,
  WORKER_INDEX_ENV,
  WORKER_PORTS_ENV,
  WORKER_RESTART_ENV,
  type RelayedSignal,
} from './messages.js';

/** How the primary of `gorgon serve --workers N` runs. */
export interface PrimaryOptions {
  /** Worker processes to keep running (at least 2; one worker is the plain single process). */
  workers: number;
  log: Logger;
  /**
   * Starts the admin listener (metrics, status page) on the source that adds up every worker's,
   * once all workers are ready; resolves with the function that closes it. The primary binds
   * nothing else: the daemons' ports are shared by the workers through node:cluster.
   */
  startAdmin?: ((source: AdminSource) => Promise<() => Promise<void>>) | undefined;
  /** A worker that exits this many times within `windowMs` is not restarted again (default 5 in 30 s). */
  crashLoop?: { crashes: number; windowMs: number };
  /** The wait before a restart: `initialMs`, doubled for each recent crash, at most `maxMs` (default 250 ms … 5 s). */
  restartDelay?: { initialMs: number; maxMs: number };
  /** How long the workers may take to drain after SIGTERM before they are killed (default 30 s). */
  drainTimeoutMs?: number;
}

/** One worker position: worker `index` keeps its index (and its share of FTP passive ports) across restarts. */
interface Slot {
  index: number;
  worker?: Worker | undefined;
  ready: boolean;
  /** Why the current worker could not start, when it said so. */
  failure?: { message: string; exitCode: number } | undefined;
  /** When its workers exited unasked, within the crash-loop window. */
  crashes: number[];
  restartTimer?: NodeJS.Timeout | undefined;
  gaveUp: boolean;
}

const SIGNALS_RELAYED: RelayedSignal[] = ['SIGHUP', 'SIGUSR1'];

/**
 * The primary process of `gorgon serve --workers N`: forks N workers (the first alone, so that
 * demo data and certificates are made once and a bad config is reported once), each of which
 * builds and runs the daemons of the same config behind ports node:cluster shares between them.
 * A worker that exits unasked is restarted after a growing delay without touching the others,
 * unless it keeps crashing. SIGHUP and SIGUSR1 are passed on to every worker; SIGTERM and SIGINT
 * make every worker drain, and the primary exits when all have (killing any left after
 * `drainTimeoutMs`). Resolves then; rejects with a CliError when the workers cannot start or
 * every one of them is in a crash loop.
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { workers: count, log } = options;
  const crashLoop = options.crashLoop ?? { crashes: 5, windowMs: 30_000 };
  const restartDelay = options.restartDelay ?? { initialMs: 250, maxMs: 5000 };
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, ready: false, crashes: [], gaveUp: false }));
  let phase: SuitePhase = 'starting';
  let closeAdmin: (() => Promise<void>) | undefined;
  let finish: (err?: Error) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  done.catch(() => {}); // awaited below; a failure during start-up is thrown from there instead
  const readiness = new Map<Slot, { resolve: () => void; reject: (err: Error) => void }>();
  const name = (slot: Slot): string => `worker ${slot.index + 1}`;
  const alive = (): Slot[] => slots.filter((s) => s.worker);
  /** The ports the first worker bound (see WORKER_PORTS_ENV); given to every worker forked after it. */
  let ports: Record<string, number> | undefined;

  const fork = (slot: Slot, restart = false): Promise<void> => {
    const worker = cluster.fork({
      [WORKER_INDEX_ENV]: String(slot.index),
      [WORKER_COUNT_ENV]: String(count),
      [WORKER_RESTART_ENV]: restart ? '1' : '',
      [WORKER_PORTS_ENV]: JSON.stringify(ports ?? {}),
    });
    Object.assign(slot, { worker, ready: false, failure: undefined });
    const ready = new Promise<void>((resolve, reject) => readiness.set(slot, { resolve, reject }));
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message) || slot.worker !== worker) return;
      if (message.gorgon === 'ready') {
        ports ??= message.ports;
        slot.ready = true;
        readiness.get(slot)?.resolve();
        readiness.delete(slot);
      } else if (message.gorgon === 'failed') {
        slot.failure = { message: message.message, exitCode: message.exitCode };
      }
    });
    worker.on('exit', (code: number | null, signal: string | null) => onExit(slot, worker, code, signal as NodeJS.Signals | null));
    return ready;
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: NodeJS.Signals | null): void => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.ready = false;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const pending = readiness.get(slot);
    readiness.delete(slot);
    if (pending) {
      const reason = slot.failure?.message ?? `${name(slot)} exited (${how}) before it was ready.`;
      pending.reject(new CliError(reason, slot.failure?.exitCode ?? 1));
    }
    if (phase === 'draining' || phase === 'stopped') {
      log.info(
        { event: 'worker-stopped', worker: slot.index + 1, pid: worker.process.pid, code, signal },
        `${name(slot)} stopped (${how})`,
      );
      if (alive().length === 0) void stopped();
      return;
    }
    if (phase === 'starting') return; // start-up reports it through `pending`
    restart(slot, worker.process.pid, how);
  };

  const restart = (slot: Slot, pid: number | undefined, how: string): void => {
    const now = Date.now();
    slot.crashes = slot.crashes.filter((t) => now - t < crashLoop.windowMs);
    slot.crashes.push(now);
    const why = slot.failure ? `: ${slot.failure.message}` : '';
    const fields = { worker: slot.index + 1, pid, how, crashes: slot.crashes.length };
    if (slot.crashes.length >= crashLoop.crashes) {
      slot.gaveUp = true;
      const serving = slots.filter((s) => !s.gaveUp).length;
      const seconds = crashLoop.windowMs / 1000;
      log.error(
        { event: 'worker-crash-loop', ...fields },
        `${name(slot)} (pid ${pid}) exited (${how})${why}; it exited ${slot.crashes.length} times in ${seconds} s, so it is not restarted: ${serving} of ${count} workers serve`,
      );
      if (serving === 0) {
        phase = 'stopped';
        void closeAdmin?.();
        detach();
        finish(new CliError(`every worker exited ${crashLoop.crashes} times in ${seconds} s; stopped (the log above says why).`));
      }
      return;
    }
    const delay = Math.min(restartDelay.initialMs * 2 ** (slot.crashes.length - 1), restartDelay.maxMs);
    log.warn(
      { event: 'worker-exit', ...fields, restartInMs: delay },
      `${name(slot)} (pid ${pid}) exited (${how})${why}; restarting it in ${delay} ms`,
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (phase !== 'running') return;
      fork(slot, true).then(
        () =>
          log.info(
            { event: 'worker-restarted', worker: slot.index + 1, pid: slot.worker?.process.pid },
            `${name(slot)} restarted (pid ${slot.worker?.process.pid})`,
          ),
        () => {}, // its exit goes through onExit again
      );
    }, delay);
  };

  const send = (slot: Slot, signal: RelayedSignal): void => {
    const worker = slot.worker;
    if (!worker) return;
    if (slot.ready && worker.isConnected()) worker.send({ gorgon: 'signal', signal });
    // A worker still starting may not listen to its channel yet; its own SIGTERM handler
    // (or the default action, before it has one) stops it. Reloads wait until it is ready.
    else if (signal === 'SIGTERM') worker.process.kill('SIGTERM');
  };

  let drainTimer: NodeJS.Timeout | undefined;
  const stopped = async (): Promise<void> => {
    if (phase === 'stopped') return;
    phase = 'stopped';
    clearTimeout(drainTimer);
    detach();
    await closeAdmin?.().catch((err: unknown) => log.warn({ event: 'admin-close-failed' }, messageOf(err)));
    finish();
  };

  /** SIGTERM, SIGINT, or a failed start-up: every worker drains; `done` settles when all have exited. */
  const drain = (): void => {
    if (phase === 'stopped') return;
    phase = 'draining';
    for (const slot of slots) {
      clearTimeout(slot.restartTimer);
      send(slot, 'SIGTERM');
    }
    drainTimer = setTimeout(() => {
      for (const slot of alive()) {
        log.warn(
          { event: 'worker-killed', worker: slot.index + 1, pid: slot.worker?.process.pid },
          `${name(slot)} still running after ${drainTimeoutMs} ms: killed`,
        );
        slot.worker?.process.kill('SIGKILL');
      }
    }, drainTimeoutMs);
    if (alive().length === 0) void stopped();
  };

  const onStop = (signal: NodeJS.Signals): void => {
    if (phase === 'draining') {
      log.warn({ event: 'forced-exit', signal }, 'second signal: exiting now');
      for (const slot of alive()) slot.worker?.process.kill('SIGKILL');
      process.exit(130);
    }
    if (phase === 'stopped') return;
    log.info({ event: 'shutdown', signal, workers: alive().length }, `${signal}: shutting down ${alive().length} workers`);
    // A Ctrl-C reaches the workers too (one process group): they get a moment to see their own
    // SIGINT first, or the primary's word and then the SIGINT would count as a second signal.
    if (signal === 'SIGINT') {
      phase = 'draining';
      setTimeout(drain, 200);
    } else drain();
  };
  const onRelay = (signal: NodeJS.Signals): void => {
    if (phase !== 'running' && phase !== 'starting') return;
    log.debug({ event: 'relay', signal }, `${signal}: passed on to every worker`);
    for (const slot of slots) send(slot, signal as RelayedSignal);
  };
  const detach = (): void => {
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
    for (const signal of SIGNALS_RELAYED) process.off(signal, onRelay);
  };
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  for (const signal of SIGNALS_RELAYED) process.on(signal, onRelay);

  try {
    // The first worker alone: it makes the demo data and certificates the others then read,
    // and a config that cannot start fails once, not N times.
    await fork(slots[0]!);
    if (phase === 'starting') await Promise.all(slots.slice(1).map((slot) => fork(slot)));
  } catch (err) {
    if (phase === 'starting') {
      // Whatever started is stopped before the failure is reported.
      drain();
      await done.catch(() => {});
      throw err;
    }
  }
  if (phase === 'starting') {
    phase = 'running';
    const pids = alive().map((s) => s.worker?.process.pid);
    log.info({ event: 'workers-ready', workers: count, pids }, `${count} workers ready (pids ${pids.join(', ')})`);
    if (options.startAdmin) {
      const source = createClusterSource({
        workers: () => slots.flatMap((s) => (s.ready && s.worker ? [s.worker] : [])),
        phase: () => phase,
      });
      try {
        closeAdmin = await options.startAdmin(source);
      } catch (err) {
        drain();
        await done.catch(() => {});
        throw err;
      }
    }
  }
  await done;
}
