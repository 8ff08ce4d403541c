import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { ServerEventMap } from '@gorgon/core';
import type { RunningDaemon, Suite } from '../suite.js';

/**
 * Every Gorgon metric is registered here (and nowhere else): `/metrics` is this registry's
 * exposition, and with `--workers` the primary adds up its workers' copies of it
 * (`AggregatorRegistry`). Names follow the Prometheus conventions: `gorgon_` prefix, base units
 * (seconds, bytes), `_total` on counters.
 */
export const registry = new Registry();

/** The labels every per-daemon metric carries: the protocol and the daemon's name ("pop3d"). */
type DaemonLabels = 'protocol' | 'daemon';

/** Seconds: a command is answered in well under a millisecond, or waits on storage. */
const COMMAND_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30];
/** The reply classes in order: `1xx` is index 0. */
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Seconds: a transfer is a small file on loopback, or a large one over a slow link. */
const TRANSFER_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800];

/**
 * Counts the servers keep themselves (connections, bytes, timeouts) are read at scrape time, not
 * counted again per event: a daemon's live counters plus what daemons of the same name counted
 * before a reload replaced them, so a counter never goes back.
 */
const live = new Set<RunningDaemon>();
const retired = new Map<
  string,
  { protocol: string; daemon: string; connections: number; bytesIn: number; bytesOut: number; timeouts: number }
>();

function scraped(key: 'connections' | 'bytesIn' | 'bytesOut' | 'timeouts'): (this: Counter<DaemonLabels>) => void {
  return function collect(this: Counter<DaemonLabels>): void {
    this.reset();
    const sums = new Map<string, { protocol: string; daemon: string; value: number }>();
    for (const old of retired.values()) sums.set(old.daemon, { protocol: old.protocol, daemon: old.daemon, value: old[key] });
    for (const d of live) {
      const sum = sums.get(d.name) ?? { protocol: d.protocol, daemon: d.name, value: 0 };
      sum.value += d.server.counters[key];
      sums.set(d.name, sum);
    }
    for (const { protocol, daemon, value } of sums.values()) this.inc({ protocol, daemon }, value);
  };
}

const labelNames = ['protocol', 'daemon'] as const;

new Gauge({
  name: 'gorgon_connections_open',
  help: 'Connections open now.',
  labelNames,
  registers: [registry],
  collect() {
    this.reset();
    for (const d of live) this.inc({ protocol: d.protocol, daemon: d.name }, d.server.connections);
  },
});
new Counter({
  name: 'gorgon_connections_total',
  help: 'Connections accepted (and given a session) since start.',
  labelNames,
  registers: [registry],
  collect: scraped('connections'),
});
new Counter({
  name: 'gorgon_received_bytes_total',
  help: 'Bytes received from clients.',
  labelNames,
  registers: [registry],
  collect: scraped('bytesIn'),
});
new Counter({
  name: 'gorgon_sent_bytes_total',
  help: 'Bytes sent to clients.',
  labelNames,
  registers: [registry],
  collect: scraped('bytesOut'),
});
new Counter({
  name: 'gorgon_timeouts_total',
  help: 'Connections closed by an idle or total timeout.',
  labelNames,
  registers: [registry],
  collect: scraped('timeouts'),
});
const refused = new Counter({
  name: 'gorgon_connections_refused_total',
  help: 'Connections turned away before a session: max-connections, max-per-ip, refused (the connect hook), fd-exhausted (once per burst).',
  labelNames: [...labelNames, 'listener', 'reason'],
  registers: [registry],
});
/**
 * Commands are the one event per request or command line, so they are counted in plain arrays
 * (a Map look-up, two increments and a bucket search per command) and turned into series only
 * at scrape time: prom-client's `inc`/`observe` hash their labels on every call. Kept by daemon
 * name, so a daemon a reload replaces goes on counting where it was.
 */
interface VerbStats {
  /** Replies by class: index 0 is `1xx`. */
  byClass: number[];
  /** Observations per bucket (not cumulative; the last slot is past every bound). */
  buckets: number[];
  sum: number;
  count: number;
}
const commandStats = new Map<string, { protocol: string; verbs: Map<string, VerbStats> }>();

/** A metric whose series are made at scrape time from {@link commandStats}. */
function scrapedMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
    reset: () => commandStats.clear(),
  };
  registry.registerMetric(metric as unknown as Metric);
}
type MetricValue = { value: number; labels: Record<string, string | number>; metricName?: string };

scrapedMetric(
  'gorgon_commands_total',
  'Commands answered, by verb (UNKNOWN for verbs the protocol does not have) and reply class (POP3: +OK is 2xx, -ERR is 5xx).',
  'counter',
  () => {
    const out: MetricValue[] = [];
    for (const [daemon, { protocol, verbs }] of commandStats) {
      for (const [verb, v] of verbs) {
        v.byClass.forEach((value, i) => {
          if (value > 0) out.push({ value, labels: { protocol, daemon, verb, reply: CLASSES[i]! } });
        });
      }
    }
    return out;
  },
);
scrapedMetric(
  'gorgon_command_duration_seconds',
  'Time from a command line to its final reply (a transfer command: to the end of the transfer).',
  'histogram',
  () => {
    const out: MetricValue[] = [];
    const name = 'gorgon_command_duration_seconds';
    for (const [daemon, { protocol, verbs }] of commandStats) {
      for (const [verb, v] of verbs) {
        let cumulative = 0;
        COMMAND_BUCKETS.forEach((le, i) => {
          cumulative += v.buckets[i]!;
          out.push({ metricName: `${name}_bucket`, value: cumulative, labels: { le, protocol, daemon, verb } });
        });
        out.push({ metricName: `${name}_bucket`, value: v.count, labels: { le: '+Inf', protocol, daemon, verb } });
        out.push({ metricName: `${name}_sum`, value: v.sum, labels: { protocol, daemon, verb } });
        out.push({ metricName: `${name}_count`, value: v.count, labels: { protocol, daemon, verb } });
      }
    }
    return out;
  },
);
const logins = new Counter({
  name: 'gorgon_logins_total',
  help: 'Login attempts: ok, failed (wrong user or password), unavailable (the authenticator failed).',
  labelNames: [...labelNames, 'result'],
  registers: [registry],
});
const transferSeconds = new Histogram({
  name: 'gorgon_transfer_duration_seconds',
  help: 'Duration of transfers (download, upload, list, retrieve, query), by kind and result.',
  labelNames: [...labelNames, 'kind', 'result'],
  buckets: TRANSFER_BUCKETS,
  registers: [registry],
});
const transferBytes = new Counter({
  name: 'gorgon_transfer_bytes_total',
  help: 'Bytes moved by transfers, by kind.',
  labelNames: [...labelNames, 'kind'],
  registers: [registry],
});
const tlsHandshakes = new Counter({
  name: 'gorgon_tls_handshakes_total',
  help: 'TLS handshakes: implicit (the TLS port) or upgrade (STLS, STARTTLS, AUTH TLS), by result.',
  labelNames: [...labelNames, 'kind', 'result'],
  registers: [registry],
});
const errors = new Counter({
  name: 'gorgon_errors_total',
  help: 'Warnings and errors logged, by kind (the log line event: handler-error, socket-error, tls-failed, reject...).',
  labelNames: [...labelNames, 'kind', 'level'],
  registers: [registry],
});
new Gauge({
  name: 'gorgon_daemons',
  help: 'Daemons running now.',
  registers: [registry],
  collect() {
    this.set(live.size);
  },
});

let defaultsCollected = false;

/**
 * Starts counting a suite's daemons: those running now and those a reload adds; a daemon
 * removed has its event listeners taken off (its counts stay, under its name). Returns the
 * function that stops. Process figures (CPU, memory, event-loop lag) are prom-client's default
 * metrics, prefixed `gorgon_`.
 */
export function attachMetrics(suite: Suite): () => void {
  if (!defaultsCollected) {
    defaultsCollected = true;
    collectDefaultMetrics({ register: registry, prefix: 'gorgon_' });
    // Gauges named like counters (prom-client's totals of handles, requests, resources): promtool
    // rejects the name, and the same figures are there by type (gorgon_nodejs_active_handles).
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(`gorgon_${name}`);
    }
  }
  const detachers = new Map<RunningDaemon, () => void>();
  const add = (daemon: RunningDaemon): void => {
    if (detachers.has(daemon) || live.has(daemon)) return;
    detachers.set(daemon, watchDaemon(daemon));
  };
  const remove = (daemon: RunningDaemon): void => {
    const detach = detachers.get(daemon);
    if (!detach) return;
    detachers.delete(daemon);
    detach();
  };
  for (const daemon of suite.daemons) add(daemon);
  const offAdded = suite.on('added', add);
  const offRemoved = suite.on('removed', remove);
  return () => {
    offAdded();
    offRemoved();
    for (const daemon of [...detachers.keys()]) remove(daemon);
  };
}

/** Listens to one daemon's server events; returns the function that stops (and retires its counts). */
function watchDaemon(daemon: RunningDaemon): () => void {
  const base = { protocol: daemon.protocol, daemon: daemon.name };
  const server = daemon.server;
  let stats = commandStats.get(daemon.name);
  if (!stats) {
    stats = { protocol: daemon.protocol, verbs: new Map() };
    commandStats.set(daemon.name, stats);
  }
  const verbs = stats.verbs;
  const bounds = COMMAND_BUCKETS;
  const loginOk = logins.labels({ ...base, result: 'ok' });
  const offs = [
    server.on('commandDone', (e: ServerEventMap['commandDone']) => {
      let v = verbs.get(e.verb);
      if (!v) {
        v = { byClass: [0, 0, 0, 0, 0], buckets: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 };
        verbs.set(e.verb, v);
      }
      const i = e.reply.charCodeAt(0) - 49; // '1' → 0
      v.byClass[i] = (v.byClass[i] ?? 0) + 1;
      const seconds = e.ms / 1000;
      let b = 0;
      while (b < bounds.length && seconds > bounds[b]!) b++;
      v.buckets[b]!++;
      v.sum += seconds;
      v.count++;
    }),
    server.on('login', () => loginOk.inc()),
    server.on('loginFailed', (e) => logins.inc({ ...base, result: e.reason === 'credentials' ? 'failed' : 'unavailable' })),
    server.on('refused', (e) => refused.inc({ ...base, listener: e.listener, reason: e.reason })),
    server.on('transfer', (e) => {
      transferSeconds.observe({ ...base, kind: e.kind, result: e.ok ? 'ok' : 'failed' }, e.ms / 1000);
      transferBytes.inc({ ...base, kind: e.kind }, e.bytes);
    }),
    server.on('tls', (e) => tlsHandshakes.inc({ ...base, kind: e.kind, result: e.ok ? 'ok' : 'failed' })),
    server.on('error', (e) => errors.inc({ ...base, kind: e.kind, level: e.level })),
  ];
  live.add(daemon);
  return () => {
    for (const off of offs) off();
    live.delete(daemon);
    const c = server.counters;
    const old = retired.get(daemon.name) ?? { ...base, connections: 0, bytesIn: 0, bytesOut: 0, timeouts: 0 };
    old.connections += c.connections;
    old.bytesIn += c.bytesIn;
    old.bytesOut += c.bytesOut;
    old.timeouts += c.timeouts;
    retired.set(daemon.name, old);
  };
}

/** The exposition of every metric, as `/metrics` serves it. */
export async function scrapeMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
