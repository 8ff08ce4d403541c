// finger: requests per second with 50 concurrent clients (connect, "alice\r\n", read until
// close), Gorgon's finger server against a raw-Node server sending the same reply text.
import { existsSync } from 'node:fs';
import { alternateMany } from './lib/rounds.mjs';

const CONCURRENCY = 50;
const ROUND_MS = 500;

export default {
  name: 'finger',
  description: `finger requests/s, ${CONCURRENCY} concurrent clients (connect, "alice", read to close)`,
  target: { op: '>=', ratio: 0.9 },
  timeoutMs: 120_000,
  /** @param {any} ctx */
  async run(ctx) {
    const dist = new URL('../packages/finger/dist/index.js', import.meta.url);
    if (!existsSync(dist) || typeof (await import(dist.href)).createFingerServer !== 'function') {
      return { skipped: '@gorgon/finger is not built yet (no createFingerServer in packages/finger/dist)' };
    }
    const serverScript = new URL('./workers/finger-server.mjs', import.meta.url);
    const [gorgon, baseline, client] = await Promise.all([
      ctx.spawnWorker(serverScript, { name: 'finger-gorgon', measured: true }),
      ctx.spawnWorker(serverScript, { name: 'finger-baseline', measured: true }),
      ctx.spawnWorker(new URL('./workers/finger-client.mjs', import.meta.url), { name: 'finger-client' }),
    ]);
    const servers = { gorgon, baseline };
    const ports = { gorgon: await gorgon.call('start', { kind: 'gorgon' }) };
    // The baseline answers with exactly the bytes Gorgon sends, so both do the same work.
    const expect = await client.call('fetch', { port: ports.gorgon });
    if (!expect.includes('Alice Liddell')) throw new Error(`unexpected finger reply: ${JSON.stringify(expect)}`);
    ports.baseline = await baseline.call('start', { kind: 'baseline', reply: expect });
    const check = await client.call('fetch', { port: ports.baseline });
    if (check !== expect) throw new Error('baseline reply differs from Gorgon reply');

    const once = async (subject, durationMs) => {
      const [before, clientBefore] = await Promise.all([servers[subject].call('cpu'), client.call('cpu')]);
      const r = await client.call('run', { port: ports[subject], concurrency: CONCURRENCY, durationMs, expect });
      const [after, clientAfter] = await Promise.all([servers[subject].call('cpu'), client.call('cpu')]);
      return { rate: r.rate, cpu: (after - before) / r.completed, clientCpu: (clientAfter - clientBefore) / r.completed };
    };
    // Warm-up, long enough for the JIT to settle: Gorgon has more code to optimise, and early
    // rounds cost it up to 4× the CPU per request that it settles at.
    for (let i = 0; i < 3; i++) for (const subject of ['gorgon', 'baseline']) await once(subject, 1000);
    const paired = await alternateMany({ rounds: ctx.rounds ?? 15, log: ctx.log, measure: (subject) => once(subject, ROUND_MS) });
    await Promise.all([gorgon.stop(), baseline.stop(), client.stop()]);
    const { rate, cpu, clientCpu } = paired;
    const ratios = (p) => p.ratios.map((r) => r.toFixed(2)).join(' ');
    return [
      {
        unit: 'req/s',
        figure: rate.figure,
        baseline: rate.baselineFigure,
        ratio: rate.ratio,
        rounds: rate,
        details: { replyBytes: Buffer.byteLength(expect, 'latin1') },
        notes: [
          `per-round ratios ${ratios(rate)}`,
          `load generator CPU per request: ${clientCpu.figure.toFixed(1)} µs against gorgon, ${clientCpu.baselineFigure.toFixed(1)} µs against baseline`,
        ],
      },
      {
        // Server CPU time per request: steadier than throughput on a busy machine. The target is
        // the throughput target restated as cost (1 / 0.9).
        metric: 'cpu',
        unit: 'µs/req',
        figure: cpu.figure,
        baseline: cpu.baselineFigure,
        ratio: cpu.ratio,
        target: { op: '<=', ratio: 1.11 },
        rounds: cpu,
        notes: [`server CPU per request, per-round ratios ${ratios(cpu)}`],
      },
    ];
  },
};
