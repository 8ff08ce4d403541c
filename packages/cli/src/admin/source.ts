import type { SuitePhase } from '../suite.js';

/** One daemon on the status page. */
export interface DaemonStatus {
  name: string;
  protocol: string;
  address: string;
  /** The implicit-TLS port's address, when the daemon has one (its connections are counted here too). */
  tlsAddress?: string;
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  total: number;
  /** Connections refused by a limit. */
  rejected: number;
  bytesIn: number;
  bytesOut: number;
  errors: number;
}

/** What the status page shows: one process's view, or the primary's sum over its workers. */
export interface SuiteStatus {
  version: string;
  pid: number;
  /** ms since the epoch. */
  startedAt: number;
  phase: SuitePhase;
  /** Worker processes behind this view (1 without `--workers`). */
  workers: number;
  daemons: DaemonStatus[];
  /** Samples over the last minutes, oldest first: open connections per daemon name at time `t` (ms). */
  history: Array<{ t: number; connections: Record<string, number> }>;
  /** Client addresses with the most connections over the last minutes, most first. */
  topClients: Array<{ address: string; connections: number }>;
  /** The latest errors, newest first. */
  recentErrors: Array<{ t: number; daemon?: string; kind: string; message: string }>;
  process: { rssBytes: number; heapUsedBytes: number; cpuSeconds: number; eventLoopLagSeconds: number };
}

/**
 * What the admin listener serves from: `/metrics`, `/status.json` (and the page built on it),
 * `/healthz`. One process serves its own (a local source); the primary of `--workers` serves a
 * source that asks every worker and adds their answers up.
 */
export interface AdminSource {
  /** Prometheus text exposition of every metric. */
  metrics(): Promise<{ contentType: string; body: string }>;
  status(): Promise<SuiteStatus>;
  /** `/healthz` answers 200 while `running`, 503 otherwise. */
  phase(): SuitePhase;
}
