// finger: requests per second with 50 concurrent clients (connect, "alice\r\n", read until
// close), Gorgon's finger server against a raw-Node server sending the same reply text, with
// the directories an operator uses: a JSON users file (`--users`, the main rows), the system's
// passwd and ~/.plan (`--system-users`), and an embedder's in-memory directory.
import { existsSync } from 'node:fs';
import { alternateMany } from './lib/rounds.mjs';

const CONCURRENCY = 50;
const ROUND_MS = 500;
/**
 * Load generator processes sharing the 50 lanes. One process was itself the bottleneck (its CPU
 * per request is about the server's), which pulled the ratio towards 1; several are not.
 * GORGON_BENCH_FINGER_CLIENTS changes it, to show the server's figures do not move with it.
 */
const CLIENTS = Number(process.env.GORGON_BENCH_FINGER_CLIENTS ?? 3);
/**
 * Directory kinds measured: `json` gives the main rows. GORGON_BENCH_FINGER_KINDS=json measures
 * only it (quicker, for A/B runs and profiles).
 */
const KINDS = process.env.GORGON_BENCH_FINGER_KINDS?.split(',') ?? ['json', 'system', 'memory'];

export default {
  name: 'finger',
  description: `finger requests/s, ${CONCURRENCY} concurrent clients in ${CLIENTS} processes (connect, "alice", read to close), JSON users file`,
  target: { op: '>=', ratio: 0.9 },
  timeoutMs: 150_000,
  /** @param {any} ctx */
  async run(ctx) {
    const dist = new URL('../packages/finger/dist/index.js', import.meta.url);
    if (!existsSync(dist) || typeof (await import(dist.href)).JsonUserDirectory !== 'function') {
      return { skipped: '@gorgon/finger is not built yet (no JsonUserDirectory in packages/finger/dist)' };
    }
    const serverScript = new URL('./workers/finger-server.mjs', import.meta.url);
    const clientScript = new URL('./workers/finger-client.mjs', import.meta.url);
    // A baseline process per kind, as Gorgon has: with one baseline serving every kind, it was
    // busy all along while the Gorgon server of the kind measured last had sat idle through the
    // others' rounds, and that kind read 1.3-1.4× where it read 0.96× when measured first.
    const workers = await Promise.all([
      ...KINDS.flatMap((kind) => [
        ctx.spawnWorker(serverScript, { name: `finger-gorgon-${kind}`, measured: true }),
        ctx.spawnWorker(serverScript, { name: `finger-baseline-${kind}`, measured: true }),
      ]),
      ...Array.from({ length: CLIENTS }, (_, i) => ctx.spawnWorker(clientScript, { name: `finger-client-${i}` })),
    ]);
    const gorgons = Object.fromEntries(KINDS.map((kind, i) => [kind, workers[2 * i]]));
    const baselines = Object.fromEntries(KINDS.map((kind, i) => [kind, workers[2 * i + 1]]));
    const clients = workers.slice(2 * KINDS.length);
    const lanes = clients.map((_, i) => Math.floor(CONCURRENCY / CLIENTS) + (i < CONCURRENCY % CLIENTS ? 1 : 0));
    const clientCpu = async () => (await Promise.all(clients.map((c) => c.call('cpu')))).reduce((a, b) => a + b, 0);

    /** Per kind: Gorgon's port, the baseline's port (answering with Gorgon's bytes), the reply. */
    const setups = {};
    for (const kind of KINDS) {
      const port = await gorgons[kind].call('start', { kind: 'gorgon', directory: kind });
      const expect = await clients[0].call('fetch', { port });
      if (!expect.includes('Alice Liddell') || !expect.includes('White Rabbit')) {
        throw new Error(`unexpected finger reply (${kind}): ${JSON.stringify(expect)}`);
      }
      const basePort = await baselines[kind].call('start', { kind: 'baseline', reply: expect });
      if ((await clients[0].call('fetch', { port: basePort })) !== expect) throw new Error('baseline reply differs from Gorgon reply');
      setups[kind] = { gorgon: { worker: gorgons[kind], port }, baseline: { worker: baselines[kind], port: basePort }, expect };
    }

    /** One timed window against one server, every load generator at once. */
    const once = async (kind, subject, durationMs) => {
      const { worker, port } = setups[kind][subject];
      const { expect } = setups[kind];
      const [before, clientBefore] = await Promise.all([worker.call('cpu'), clientCpu()]);
      const results = await Promise.all(clients.map((c, i) => c.call('run', { port, concurrency: lanes[i], durationMs, expect })));
      const [after, clientAfter] = await Promise.all([worker.call('cpu'), clientCpu()]);
      const completed = results.reduce((a, r) => a + r.completed, 0);
      const rate = results.reduce((a, r) => a + r.rate, 0);
      // CPU is in µs; over a window of durationMs, cores = µs / (ms × 1000).
      return {
        rate,
        cpu: (after - before) / completed,
        clientCpu: (clientAfter - clientBefore) / completed,
        clientCores: (clientAfter - clientBefore) / (durationMs * 1000),
        serverCores: (after - before) / (durationMs * 1000),
      };
    };
    // Warm-up, long enough for the JIT to settle: Gorgon has more code to optimise, and early
    // rounds cost it up to 4× the CPU per request that it settles at.
    for (let i = 0; i < 2; i++) for (const kind of KINDS) for (const subject of ['gorgon', 'baseline']) await once(kind, subject, 1000);

    const rounds = ctx.rounds ?? 9;
    const paired = {};
    for (const kind of KINDS) {
      const log = (msg) => ctx.log(`${kind}: ${msg}`);
      // Warmed again right before its rounds: a server left idle while the kinds before it were
      // measured (15 s and more) came back at 1.7-3.2× its settled CPU in its first rounds.
      for (const subject of ['gorgon', 'baseline']) await once(kind, subject, 1000);
      paired[kind] = await alternateMany({
        rounds: kind === 'json' ? rounds : Math.max(3, Math.ceil(rounds / 2)),
        log,
        measure: (subject) => once(kind, subject, ROUND_MS),
      });
    }
    await Promise.all(workers.map((w) => w.stop()));

    const ratios = (p) => p.ratios.map((r) => r.toFixed(2)).join(' ');
    const { rate, clientCpu: lg, clientCores, serverCores } = paired.json;
    const cpuRow = (kind, metric, target) => ({
      metric,
      unit: 'µs/req',
      figure: paired[kind].cpu.figure,
      baseline: paired[kind].cpu.baselineFigure,
      ratio: paired[kind].cpu.ratio,
      target,
      rounds: paired[kind].cpu,
      notes: [`server CPU per request (${kind} directory), per-round ratios ${ratios(paired[kind].cpu)}`],
    });
    return [
      {
        unit: 'req/s',
        figure: rate.figure,
        baseline: rate.baselineFigure,
        ratio: rate.ratio,
        rounds: rate,
        details: { replyBytes: Buffer.byteLength(setups.json.expect, 'latin1'), clients: CLIENTS },
        notes: [
          `JSON users file; per-round ratios ${ratios(rate)}`,
          `${CLIENTS} load generator processes: ${lg.figure.toFixed(1)} µs CPU per request against gorgon (${clientCores.figure.toFixed(2)} cores), ` +
            `${lg.baselineFigure.toFixed(1)} µs against baseline (${clientCores.baselineFigure.toFixed(2)} cores); ` +
            `server ${serverCores.figure.toFixed(2)} / ${serverCores.baselineFigure.toFixed(2)} cores`,
        ],
      },
      // Server CPU time per request: steadier than throughput on a busy machine. The target of
      // issue 9.4 for the JSON directory: ≤ 1.15× the raw server.
      cpuRow('json', 'cpu', { op: '<=', ratio: 1.15 }),
      ...(paired.system ? [cpuRow('system', 'system-cpu', { op: '<=', ratio: 1.5 })] : []),
      ...(paired.memory ? [cpuRow('memory', 'memory-cpu', { op: '<=', ratio: 1.15 })] : []),
    ];
  },
};
