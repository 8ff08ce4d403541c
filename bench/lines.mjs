// lines: pipelined line-protocol throughput through a LineSession, end to end over loopback,
// against a hand-written 'data' + indexOf server answering the same way (workers/line-server.mjs).
import { alternate } from './lib/rounds.mjs';

const COMMANDS = 1_000_000;

export default {
  name: 'lines',
  description: `${COMMANDS.toLocaleString('en-US')} pipelined "NOOP 123" commands → "250 OK" over one loopback connection`,
  target: { op: '>=', ratio: 0.8 },
  timeoutMs: 120_000,
  /** @param {any} ctx */
  async run(ctx) {
    const server = new URL('./workers/line-server.mjs', import.meta.url);
    const [gorgon, baseline, client] = await Promise.all([
      ctx.spawnWorker(server, { name: 'lines-gorgon', measured: true }),
      ctx.spawnWorker(server, { name: 'lines-baseline', measured: true }),
      ctx.spawnWorker(new URL('./workers/line-client.mjs', import.meta.url), { name: 'lines-client' }),
    ]);
    const servers = { gorgon, baseline };
    const ports = {
      gorgon: await gorgon.call('start', { kind: 'gorgon' }),
      baseline: await baseline.call('start', { kind: 'baseline' }),
    };
    const cpu = { gorgon: [], baseline: [] };
    const once = async (subject, commands) => {
      const before = await servers[subject].call('cpu');
      const { ms } = await client.call('run', { port: ports[subject], commands });
      const used = (await servers[subject].call('cpu')) - before;
      return { rate: commands / (ms / 1000), cpuNsPerCommand: (used * 1000) / commands };
    };
    // Warm-up: let both servers and the client reach optimised code before measuring.
    for (const subject of ['gorgon', 'baseline']) await once(subject, COMMANDS / 2);
    const paired = await alternate({
      rounds: ctx.rounds ?? 5,
      log: ctx.log,
      measure: async (subject) => {
        const r = await once(subject, COMMANDS);
        cpu[subject].push(r.cpuNsPerCommand);
        return r.rate;
      },
    });
    await Promise.all([gorgon.stop(), baseline.stop(), client.stop()]);
    const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    return {
      unit: 'cmd/s',
      figure: paired.figure,
      baseline: paired.baselineFigure,
      ratio: paired.ratio,
      rounds: paired,
      details: { serverCpuNsPerCommand: { gorgon: cpu.gorgon, baseline: cpu.baseline } },
      notes: [
        `server CPU per command: gorgon ${med(cpu.gorgon).toFixed(0)} ns, baseline ${med(cpu.baseline).toFixed(0)} ns; ` +
          `per-round ratios ${paired.ratios.map((r) => r.toFixed(2)).join(' ')}`,
      ],
    };
  },
};
