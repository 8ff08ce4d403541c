import type { SuiteStatus } from '../admin/source.js';

/** Signals the primary passes on to its workers (SIGTERM: drain; SIGHUP: reload; SIGUSR1: reopen logs). */
export type RelayedSignal = 'SIGTERM' | 'SIGHUP' | 'SIGUSR1';

/** What the primary sends a worker over the cluster IPC channel. */
export type PrimaryMessage = { gorgon: 'signal'; signal: RelayedSignal } | { gorgon: 'status'; id: number };

/** What a worker sends the primary. */
export type WorkerMessage =
  /** Every listener is bound: the worker serves. */
  | { gorgon: 'ready'; index: number; ports: Record<string, number> }
  /** The worker could not start; the message is the one sentence the primary reports. */
  | { gorgon: 'failed'; message: string; exitCode: number }
  | { gorgon: 'status-reply'; id: number; status?: SuiteStatus; error?: string };

/** Environment variables that tell a forked process it is worker `index` of `count`. */
export const WORKER_INDEX_ENV = 'GORGON_WORKER_INDEX';
export const WORKER_COUNT_ENV = 'GORGON_WORKERS';
/** Set ("1") when the primary forks a worker again after it exited unasked. */
export const WORKER_RESTART_ENV = 'GORGON_WORKER_RESTART';
/**
 * The ports the first worker picked for daemons configured with port 0 (JSON, daemon name →
 * port). node:cluster shares a `listen(0)` by the order of such calls in each worker, which
 * differs when a worker runs fewer daemons (NNTP runs in the first alone); concrete ports, the
 * same in every worker, cannot mix two daemons up.
 */
export const WORKER_PORTS_ENV = 'GORGON_WORKER_PORTS';

function tagged(message: unknown): message is { gorgon: string } {
  return typeof message === 'object' && message !== null && typeof (message as { gorgon?: unknown }).gorgon === 'string';
}

/** Gorgon's own messages, told apart from others on the same channel (prom-client's). */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return tagged(message);
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return tagged(message);
}
