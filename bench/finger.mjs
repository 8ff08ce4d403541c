// finger: requests per second with 50 concurrent clients (connect, "alice\r\n", read until
// close), Gorgon's finger server against a raw-Node server sending the same reply text.
import { existsSync } from 'node:fs';
import { alternate } from './lib/rounds.mjs';

const CONCURRENCY = 50;
const ROUND_MS = 1000;

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

    const cpu = { gorgon: [], baseline: [] };
    const clientCpu = { gorgon: [], baseline: [] };
    const once = async (subject, durationMs) => {
      const [before, clientBefore] = await Promise.all([servers[subject].call('cpu'), client.call('cpu')]);
      const r = await client.call('run', { port: ports[subject], concurrency: CONCURRENCY, durationMs, expect });
      const [after, clientAfter] = await Promise.all([servers[subject].call('cpu'), client.call('cpu')]);
      return { rate: r.rate, cpuUsPerRequest: (after - before) / r.completed, clientUs: (clientAfter - clientBefore) / r.completed };
    };
    for (const subject of ['gorgon', 'baseline']) await once(subject, 1000); // warm-up
    const paired = await alternate({
      rounds: ctx.rounds ?? 9,
      log: ctx.log,
      measure: async (subject) => {
        const r = await once(subject, ROUND_MS);
        cpu[subject].push(r.cpuUsPerRequest);
        clientCpu[subject].push(r.clientUs);
        return r.rate;
      },
    });
    await Promise.all([gorgon.stop(), baseline.stop(), client.stop()]);
    const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    return {
      unit: 'req/s',
      figure: paired.figure,
      baseline: paired.baselineFigure,
      ratio: paired.ratio,
      rounds: paired,
      details: { serverCpuUsPerRequest: cpu, clientCpuUsPerRequest: clientCpu, replyBytes: Buffer.byteLength(expect, 'latin1') },
      notes: [
        `server CPU per request: gorgon ${med(cpu.gorgon).toFixed(1)} µs, baseline ${med(cpu.baseline).toFixed(1)} µs; ` +
          `per-round ratios ${paired.ratios.map((r) => r.toFixed(2)).join(' ')}`,
        `load generator CPU per request: ${med(clientCpu.gorgon).toFixed(1)} µs against gorgon, ${med(clientCpu.baseline).toFixed(1)} µs against baseline`,
      ],
    };
  },
};
