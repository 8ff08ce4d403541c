// Shared by the idle-connection benchmarks: open N idle connections from the client worker,
// wait until the server holds them all, and report the server's memory growth per connection.
import { sleep } from './stats.mjs';

/**
 * @param {{ call: (name: string, args?: unknown, timeoutMs?: number) => Promise<any> }} server
 * @param {{ call: (name: string, args?: unknown, timeoutMs?: number) => Promise<any> }} client
 * @returns {Promise<{ rss: number, heap: number, heapTotal: number }>} bytes per connection
 */
export async function measureIdleConnections(server, client, port, count) {
  // Warm-up: a few hundred connections opened and closed first, so code compiled and caches
  // filled on first use (a one-time cost, on either server) are not charged per connection.
  await client.call('open', { port, count: WARMUP }, 60_000);
  await client.call('closeAll', undefined, 60_000);
  await waitFor(server, 0);
  await sleep(300);
  const before = await server.call('mem');
  const { open, failed } = await client.call('open', { port, count }, 120_000);
  if (open !== count) throw new Error(`only ${open} of ${count} connections opened (${failed} failed)`);
  await waitFor(server, count);
  await sleep(300);
  const after = await server.call('mem');
  return {
    rss: (after.rss - before.rss) / count,
    heap: (after.heapUsed - before.heapUsed) / count,
    heapTotal: (after.heapTotal - before.heapTotal) / count,
  };
}

const WARMUP = 300;

/** Waits until the server holds exactly `count` connections. */
async function waitFor(server, count) {
  const end = Date.now() + 30_000;
  while ((await server.call('connections')) !== count) {
    if (Date.now() > end) throw new Error(`server did not reach ${count} connections`);
    await sleep(50);
  }
}

/** The RSS and heap result rows of an idle benchmark (target: at most `ratio` × the baseline). */
export function idleMemoryRows(paired, what, ratio = 1.25) {
  const row = (metric, p, growth) => ({
    metric,
    unit: 'B/conn',
    figure: p.figure,
    baseline: p.baselineFigure,
    ratio: p.ratio,
    target: { op: '<=', ratio },
    rounds: p,
    notes: [`${growth} per ${what}, per-round ratios ${p.ratios.map((r) => r.toFixed(2)).join(' ')}`],
  });
  return [row('idle-rss', paired.rss, 'resident set growth'), row('idle-heap', paired.heap, 'V8 heapUsed growth')];
}
