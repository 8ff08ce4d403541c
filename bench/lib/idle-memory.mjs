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
    // Outside the young generation: its committed size follows V8's heuristics (measured on the
    // FTP server: the same connections cost 2.6 KB of RSS each with 1 MiB semi-spaces and 4.1 KB
    // with 16 MiB ones), and after the full GCs it holds nothing of the connections.
    rss: (after.rss - after.young - (before.rss - before.young)) / count,
    rssAll: (after.rss - before.rss) / count,
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

/**
 * The RSS and heap result rows of an idle benchmark (target: at most `ratio` × the baseline).
 * `prefix` names them: `${prefix}rss`, `${prefix}heap`.
 */
export function idleMemoryRows(paired, what, ratio = 1.25, prefix = 'idle-') {
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
  const rows = [
    row(`${prefix}rss`, paired.rss, 'resident set growth outside the young generation'),
    row(`${prefix}heap`, paired.heap, 'V8 heapUsed growth'),
  ];
  const all = paired.rssAll;
  const total = paired.heapTotal;
  rows[0].notes.push(
    `whole resident set growth (young generation included): gorgon ${Math.round(all.figure)} B, baseline ${Math.round(all.baselineFigure)} B per connection (${all.ratio.toFixed(2)}x)`,
    `V8 heap reserved (heapTotal, not all of it resident): gorgon ${Math.round(total.figure)} B, baseline ${Math.round(total.baselineFigure)} B per connection`,
  );
  return rows;
}
