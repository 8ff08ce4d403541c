import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { AdminSource, DaemonStatus, SuiteStatus } from '../admin/source.js';
import type { SuitePhase } from '../suite.js';
import { isWorkerMessage } from './messages.js';

/** What the primary's admin source asks and adds up. */
export interface ClusterSourceOptions {
  /** The workers to ask: those that are ready (one restarting after a crash is left out). */
  workers: () => Worker[];
  /** The primary's phase: `/healthz` turns 503 as soon as the primary starts draining. */
  phase: () => SuitePhase;
  /** How long a worker may take to answer a status request before it is left out (default 2 s). */
  timeoutMs?: number;
  /** The width of a history time bucket (default: the workers' own sampling interval). */
  historyBucketMs?: number;
}

let nextRequest = 0;

/**
 * The admin source of the primary of `gorgon serve --workers N`: `status()` asks every ready
 * worker for its own over IPC and adds the answers up ({@link mergeStatuses}); `metrics()` is
 * prom-client's cluster aggregation (each worker registers its registry with
 * `AggregatorRegistry.setRegistries`): counters and gauges summed over the workers.
 */
export function createClusterSource(options: ClusterSourceOptions): AdminSource {
  const aggregator = new AggregatorRegistry();
  const timeoutMs = options.timeoutMs ?? 2000;
  const startedAt = Date.now();
  return {
    async metrics() {
      const body = await aggregator.clusterMetrics();
      return { contentType: aggregator.contentType, body };
    },
    async status() {
      const answers = await Promise.all(options.workers().map((worker) => askStatus(worker, timeoutMs)));
      const statuses = answers.filter((s): s is SuiteStatus => s !== undefined);
      const usage = process.memoryUsage();
      const cpu = process.cpuUsage();
      const own = { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
      return mergeStatuses(statuses, {
        pid: process.pid,
        startedAt,
        phase: options.phase(),
        process: own,
        ...(options.historyBucketMs === undefined ? {} : { historyBucketMs: options.historyBucketMs }),
      });
    },
    phase: () => options.phase(),
  };
}

/** One worker's status, or undefined when it does not answer in time or has no admin source. */
function askStatus(worker: Worker, timeoutMs: number): Promise<SuiteStatus | undefined> {
  if (!worker.isConnected()) return Promise.resolve(undefined);
  const id = ++nextRequest;
  return new Promise((resolve) => {
    const settle = (status: SuiteStatus | undefined): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(status);
    };
    const onMessage = (message: unknown): void => {
      if (isWorkerMessage(message) && message.gorgon === 'status-reply' && message.id === id) settle(message.status);
    };
    const onExit = (): void => settle(undefined);
    const timer = setTimeout(() => settle(undefined), timeoutMs);
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    worker.send({ gorgon: 'status', id });
  });
}

/** The primary's own figures, added to its workers'. */
export interface PrimaryView {
  pid: number;
  startedAt: number;
  phase: SuitePhase;
  process?: { rssBytes: number; heapUsedBytes: number; cpuSeconds: number };
  historyBucketMs?: number;
}

const DEFAULT_BUCKET_MS = 10_000;

/**
 * Several workers' statuses as one: daemons summed by name, history summed by time bucket (each
 * worker's latest sample in a bucket), top clients merged and summed by address, recent errors
 * merged newest first, process figures summed (event-loop lag: the worst), `workers` = how many
 * answered. Lists keep the length the workers' own had.
 */
export function mergeStatuses(statuses: SuiteStatus[], primary: PrimaryView): SuiteStatus {
  const daemons = new Map<string, DaemonStatus>();
  for (const status of statuses) {
    for (const d of status.daemons) {
      const sum = daemons.get(d.name);
      if (!sum) {
        daemons.set(d.name, { ...d });
        continue;
      }
      sum.connections += d.connections;
      sum.total += d.total;
      sum.rejected += d.rejected;
      sum.bytesIn += d.bytesIn;
      sum.bytesOut += d.bytesOut;
      sum.errors += d.errors;
    }
  }
  const topLength = Math.max(0, ...statuses.map((s) => s.topClients.length));
  const clients = new Map<string, number>();
  for (const status of statuses) for (const c of status.topClients) clients.set(c.address, (clients.get(c.address) ?? 0) + c.connections);
  const topClients = [...clients]
    .map(([address, connections]) => ({ address, connections }))
    .sort((a, b) => b.connections - a.connections || a.address.localeCompare(b.address))
    .slice(0, topLength);
  const errorsLength = Math.max(0, ...statuses.map((s) => s.recentErrors.length));
  const recentErrors = statuses
    .flatMap((s) => s.recentErrors)
    .sort((a, b) => b.t - a.t)
    .slice(0, errorsLength);
  const own = primary.process ?? { rssBytes: 0, heapUsedBytes: 0, cpuSeconds: 0 };
  const process = statuses.reduce(
    (sum, s) => ({
      rssBytes: sum.rssBytes + s.process.rssBytes,
      heapUsedBytes: sum.heapUsedBytes + s.process.heapUsedBytes,
      cpuSeconds: sum.cpuSeconds + s.process.cpuSeconds,
      eventLoopLagSeconds: Math.max(sum.eventLoopLagSeconds, s.process.eventLoopLagSeconds),
    }),
    { ...own, eventLoopLagSeconds: 0 },
  );
  return {
    version: statuses[0]?.version ?? 'unknown',
    pid: primary.pid,
    startedAt: primary.startedAt,
    phase: primary.phase,
    workers: statuses.length,
    daemons: [...daemons.values()],
    history: mergeHistory(statuses, primary.historyBucketMs ?? samplingInterval(statuses) ?? DEFAULT_BUCKET_MS),
    topClients,
    recentErrors,
    process,
  };
}

/** The workers' sampling interval: the median gap between samples of the first history that has two. */
function samplingInterval(statuses: SuiteStatus[]): number | undefined {
  const history = statuses.find((s) => s.history.length >= 2)?.history;
  if (!history) return undefined;
  const gaps = history
    .slice(1)
    .map((h, i) => h.t - history[i]!.t)
    .filter((g) => g > 0)
    .sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

/**
 * Workers sample at their own moments; samples are lined up in buckets of `bucketMs`, each
 * worker counting once per bucket (its latest sample there), and summed per daemon.
 */
function mergeHistory(statuses: SuiteStatus[], bucketMs: number): SuiteStatus['history'] {
  const buckets = new Map<number, Record<string, number>>();
  for (const status of statuses) {
    const latest = new Map<number, Record<string, number>>();
    for (const sample of status.history) latest.set(Math.floor(sample.t / bucketMs) * bucketMs, sample.connections);
    for (const [t, connections] of latest) {
      const sum = buckets.get(t) ?? {};
      for (const [daemon, n] of Object.entries(connections)) sum[daemon] = (sum[daemon] ?? 0) + n;
      buckets.set(t, sum);
    }
  }
  return [...buckets].sort(([a], [b]) => a - b).map(([t, connections]) => ({ t, connections }));
}
