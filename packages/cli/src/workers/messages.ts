import type { SuiteStatus } from '../admin/source.js';

/** Signals the primary passes on to its workers (SIGTERM: drain; SIGHUP: reload; SIGUSR1: reopen logs). */
export type RelayedSignal = 'SIGTERM' | 'SIGHUP' | 'SIGUSR1';

/** What the primary sends a worker over the cluster IPC channel. */
export type PrimaryMessage = { gorgon: 'signal'; signal: RelayedSignal } | { gorgon: 'status'; id: number };

/** What a worker sends the primary. */
export type WorkerMessage =
  /** Every listener is bound: the worker serves. */
  | { gorgon: 'ready'; index: number }
  /** The worker could not start; the message is the one sentence the primary reports. */
  | { gorgon: 'failed'; message: string; exitCode: number }
  | { gorgon: 'status-reply'; id: number; status?: SuiteStatus; error?: string };

/** Environment variables that tell a forked process it is worker `index` of `count`. */
export const WORKER_INDEX_ENV = 'GORGON_WORKER_INDEX';
export const WORKER_COUNT_ENV = 'GORGON_WORKERS';

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
