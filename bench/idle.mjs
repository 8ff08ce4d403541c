// idle: memory a server spends per open idle connection. 10,000 silent connections are opened
// from a client process to a fresh server process (Gorgon's LineSession server with no idle
// timeout, or a raw net.createServer holding its sockets); the server's RSS and V8 heap after
// full GCs, minus the same before any connection, divided by the number of connections.
import { alternateMany } from './lib/rounds.mjs';
import { sleep } from './lib/stats.mjs';

const CONNECTIONS = 10_000;

export default {
  name: 'idle',
  description: `${CONNECTIONS.toLocaleString('en-US')} open idle connections: server memory per connection (RSS and heap, after GC)`,
  target: { op: '<=', ratio: 1.25 },
  timeoutMs: 150_000,
  /** @param {any} ctx */
  async run(ctx) {
    const client = await ctx.spawnWorker(new URL('./workers/idle-client.mjs', import.meta.url), { name: 'idle-client' });
    const paired = await alternateMany({
      rounds: ctx.rounds ?? 3,
      log: ctx.log,
      measure: async (subject) => {
        // A fresh server per measurement, so one run's heap growth cannot hide the next one's.
        const server = await ctx.spawnWorker(new URL('./workers/line-server.mjs', import.meta.url), {
          name: `idle-${subject}`,
          execArgv: ['--expose-gc'],
          measured: true,
        });
        try {
          const port = await server.call('start', { kind: subject });
          const before = await server.call('mem');
          const { open, failed } = await client.call('open', { port, count: CONNECTIONS });
          if (open !== CONNECTIONS) throw new Error(`only ${open} of ${CONNECTIONS} connections opened (${failed} failed)`);
          await waitFor(async () => (await server.call('connections')) === CONNECTIONS, 20_000);
          await sleep(300);
          const after = await server.call('mem');
          return {
            rss: (after.rss - before.rss) / CONNECTIONS,
            heap: (after.heapUsed - before.heapUsed) / CONNECTIONS,
            heapTotal: (after.heapTotal - before.heapTotal) / CONNECTIONS,
          };
        } finally {
          await client.call('closeAll');
          await server.stop();
        }
      },
    });
    await client.stop();
    const row = (metric, p, what) => ({
      metric,
      unit: 'B/conn',
      figure: p.figure,
      baseline: p.baselineFigure,
      ratio: p.ratio,
      rounds: p,
      notes: [`${what} per connection, per-round ratios ${p.ratios.map((r) => r.toFixed(2)).join(' ')}`],
    });
    const total = paired.heapTotal;
    const rows = [row('rss', paired.rss, 'resident set growth'), row('heap', paired.heap, 'V8 heapUsed growth')];
    rows[0].notes.push(
      `V8 heap reserved (heapTotal, not all of it resident): gorgon ${Math.round(total.figure)} B, baseline ${Math.round(total.baselineFigure)} B per connection`,
    );
    return rows;
  },
};

async function waitFor(test, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > end) throw new Error('server did not see every connection in time');
    await sleep(50);
  }
}
