import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RunningDaemon, Suite } from '../suite.js';
import { attachMetrics, scrapeMetrics } from './metrics.js';
import type { AdminSource, SuiteStatus } from './source.js';

/** Options of {@link createLocalSource}; the defaults suit a status page read by a person. */
export interface LocalSourceOptions {
  /** How often open connections are sampled for the charts (ms). Default 5000. */
  sampleEveryMs?: number;
  /** How far back the charts go (ms). Default 15 minutes. */
  historyMs?: number;
  /** Client addresses shown. Default 10. */
  topClients?: number;
  /** Client addresses remembered per window; past it, new ones count as `other`. Default 1000. */
  maxClientAddresses?: number;
  /** Top clients are counted over two windows of this length (ms). Default 5 minutes. */
  clientWindowMs?: number;
  /** Errors kept for the page. Default 50. */
  recentErrors?: number;
  /** The version shown; default the CLI package's. */
  version?: string;
}

/** A source for one process, with the timer and listeners it made taken down by `close()`. */
export interface LocalSource extends AdminSource {
  close(): void;
}

/** How often the event-loop delay is sampled (ms). */
const LAG_RESOLUTION_MS = 20;

/** Longest error text kept: a client's bad input must not fill the page or the memory. */
const MAX_ERROR_TEXT = 300;

let cliVersion: string | undefined;
function packageVersion(): string {
  cliVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cliVersion;
}

/**
 * What the admin listener serves for this process: the metrics registry (attached to the
 * suite's daemons), and a status made of the daemons' counters, samples of open connections,
 * the busiest client addresses and the latest warnings and errors. Everything it keeps is
 * bounded: samples by `historyMs`, addresses by `maxClientAddresses`, errors by `recentErrors`.
 */
export function createLocalSource(suite: Suite, options: LocalSourceOptions = {}): LocalSource {
  const sampleEveryMs = options.sampleEveryMs ?? 5000;
  const historyMs = options.historyMs ?? 15 * 60_000;
  const maxSamples = Math.max(2, Math.ceil(historyMs / sampleEveryMs) + 1);
  const topCount = options.topClients ?? 10;
  const maxAddresses = options.maxClientAddresses ?? 1000;
  const clientWindowMs = options.clientWindowMs ?? 5 * 60_000;
  const maxErrors = options.recentErrors ?? 50;
  const version = options.version ?? packageVersion();

  const detachMetrics = attachMetrics(suite);
  const history: SuiteStatus['history'] = [];
  // Two windows: the current one and the one before, so "the last minutes" never starts empty.
  let clients = new Map<string, number>();
  let previousClients = new Map<string, number>();
  let windowStart = Date.now();
  const errors: SuiteStatus['recentErrors'] = [];
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();

  const countClient = (address: string): void => {
    const now = Date.now();
    if (now - windowStart >= clientWindowMs) {
      previousClients = clients;
      clients = new Map();
      windowStart = now;
    }
    const known = clients.get(address);
    if (known !== undefined) clients.set(address, known + 1);
    else if (clients.size < maxAddresses) clients.set(address, 1);
    else clients.set('other', (clients.get('other') ?? 0) + 1);
  };

  const watching = new Map<RunningDaemon, Array<() => void>>();
  const watch = (daemon: RunningDaemon): void => {
    if (watching.has(daemon)) return;
    watching.set(daemon, [
      daemon.server.on('connect', (e) => countClient(e.remoteAddress)),
      daemon.server.on('error', (e) => {
        errors.unshift({
          t: Date.now(),
          daemon: daemon.name,
          kind: e.kind,
          message: e.message.length > MAX_ERROR_TEXT ? `${e.message.slice(0, MAX_ERROR_TEXT)}...` : e.message,
        });
        if (errors.length > maxErrors) errors.length = maxErrors;
      }),
    ]);
  };
  const unwatch = (daemon: RunningDaemon): void => {
    for (const off of watching.get(daemon) ?? []) off();
    watching.delete(daemon);
  };
  for (const daemon of suite.daemons) watch(daemon);
  const offs = [suite.on('added', watch), suite.on('removed', unwatch)];

  const sample = (): void => {
    const connections: Record<string, number> = {};
    for (const d of suite.daemons) connections[d.name] = (connections[d.name] ?? 0) + d.server.connections;
    history.push({ t: Date.now(), connections });
    if (history.length > maxSamples) history.splice(0, history.length - maxSamples);
  };
  sample();
  const timer = setInterval(sample, sampleEveryMs);
  timer.unref();

  return {
    metrics: scrapeMetrics,
    phase: () => suite.phase,
    async status(): Promise<SuiteStatus> {
      const merged = new Map(previousClients);
      for (const [address, n] of clients) merged.set(address, (merged.get(address) ?? 0) + n);
      const topClients = [...merged]
        .sort((a, b) => b[1] - a[1])
        .slice(0, topCount)
        .map(([address, connections]) => ({ address, connections }));
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      // The histogram holds the time between its timer's turns: the resolution plus the lag.
      const lagSeconds = Number.isFinite(lag.mean) ? Math.max(0, lag.mean / 1e6 - LAG_RESOLUTION_MS) / 1000 : 0;
      lag.reset();
      return {
        version,
        pid: process.pid,
        startedAt: suite.startedAt,
        phase: suite.phase,
        workers: 1,
        daemons: suite.daemons.map((d) => {
          const c = d.server.counters;
          return {
            name: d.name,
            protocol: d.protocol,
            address: d.address,
            ...(d.tlsAddress === undefined ? {} : { tlsAddress: d.tlsAddress }),
            connections: d.server.connections,
            total: c.connections,
            rejected: c.rejected,
            bytesIn: c.bytesIn,
            bytesOut: c.bytesOut,
            errors: c.errors,
          };
        }),
        history: history.slice(),
        topClients,
        recentErrors: errors.slice(),
        process: {
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
          eventLoopLagSeconds: lagSeconds,
        },
      };
    },
    close() {
      clearInterval(timer);
      lag.disable();
      for (const off of offs) off();
      for (const daemon of [...watching.keys()]) unwatch(daemon);
      detachMetrics();
    },
  };
}
