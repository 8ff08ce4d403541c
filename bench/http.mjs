// http: Gorgon's HTTP/1.1 static file server against a raw-Node responder and node:http serving
// the same files, with wrk (Debian package wrk) as the load generator in its own process:
//   keepalive   4 KiB file, 50 keep-alive connections (req/s), and the server CPU per request
//   close       the same with `Connection: close` (req/s)
//   nodehttp    4 KiB keep-alive against node:http (req/s)
//   big         a 1 GiB file over one connection (MB/s, curl to /dev/null), against the raw stream
// Peers (nginx, Apache) and the 10,000-idle row are not measured yet (see docs/http.md).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idleMemoryRows, measureIdleConnections } from './lib/idle-memory.mjs';
import { alternateMany } from './lib/rounds.mjs';

const WRK = '/usr/bin/wrk';
const CURL = '/usr/bin/curl';
const ROUND_S = 3;

/** @returns {Promise<string>} */
function run(cmd, args) {
  return new Promise((resolve, reject) => execFile(cmd, args, { timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out))));
}

async function wrk(port, close) {
  const out = await run(WRK, [
    '-t2',
    '-c50',
    `-d${ROUND_S}s`,
    ...(close ? ['-H', 'Connection: close'] : []),
    `http://127.0.0.1:${port}/4k.bin`,
  ]);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  if (!(rate > 0)) throw new Error(`wrk: no rate in ${out}`);
  return { rate, total };
}

export default {
  name: 'http',
  description:
    'HTTP/1.1 static files: 4 KiB keep-alive x50 and Connection: close (wrk), 1 GiB (curl); vs a raw-Node responder and node:http',
  target: { op: '>=', ratio: 1.0 },
  timeoutMs: 300_000,
  /** @param {any} ctx */
  async run(ctx) {
    if (!existsSync(new URL('../packages/http/dist/index.js', import.meta.url))) return { skipped: '@gorgon/http is not built' };
    if (!existsSync(WRK)) return { skipped: 'wrk is not installed (apt-get install wrk)' };
    const root = mkdtempSync(join(tmpdir(), 'gorgon-bench-http-'));
    try {
      writeFileSync(join(root, '4k.bin'), Buffer.alloc(4096, 7));
      const fd = openSync(join(root, '1g.bin'), 'w');
      ftruncateSync(fd, 1 << 30);
      closeSync(fd);
      mkdirSync(join(root, 'dir'));
      const script = new URL('./workers/http-server.mjs', import.meta.url);
      const workers = {
        gorgon: await ctx.spawnWorker(script, { name: 'http-gorgon', measured: true }),
        raw: await ctx.spawnWorker(script, { name: 'http-raw', measured: true }),
        nodehttp: await ctx.spawnWorker(script, { name: 'http-nodehttp', measured: true }),
      };
      const ports = {};
      for (const [kind, w] of Object.entries(workers)) ports[kind] = await w.call('start', { kind, root });
      const rows = [];
      const rounds = ctx.rounds ?? 3;
      const measureRps = (base, close) => async (subject) => {
        const kind = subject === 'gorgon' ? 'gorgon' : base;
        const before = await workers[kind].call('cpu');
        const { rate, total } = await wrk(ports[kind], close);
        const after = await workers[kind].call('cpu');
        return { rate, cpu: (after - before) / total };
      };
      // Warm-up: the JIT settles before the measured rounds.
      for (const kind of ['gorgon', 'raw', 'nodehttp']) await wrk(ports[kind], false);
      const row = (metric, unit, p, target, note) => ({
        metric,
        unit,
        figure: p.figure,
        baseline: p.baselineFigure,
        ratio: p.ratio,
        target,
        rounds: p,
        notes: [`${note}; per-round ratios ${p.ratios.map((r) => r.toFixed(2)).join(' ')}`],
      });
      if (ctx.wants('keepalive')) {
        const p = await alternateMany({ rounds, log: (m) => ctx.log(`keepalive: ${m}`), measure: measureRps('raw', false) });
        rows.push(
          row(
            'keepalive',
            'req/s',
            p.rate,
            { op: '>=', ratio: 1.0 },
            '4 KiB, 50 keep-alive connections, vs the raw-Node responder (bytes in memory)',
          ),
        );
        rows.push(row('keepalive-cpu', 'µs/req', p.cpu, { op: '<=', ratio: 1.25 }, 'server CPU per request, vs the raw-Node responder'));
      }
      if (ctx.wants('nodehttp')) {
        const p = await alternateMany({ rounds, log: (m) => ctx.log(`nodehttp: ${m}`), measure: measureRps('nodehttp', false) });
        rows.push(
          row('nodehttp', 'req/s', p.rate, { op: '>=', ratio: 1.0 }, '4 KiB keep-alive x50 vs node:http reading the file per request'),
        );
        rows.push(row('nodehttp-cpu', 'µs/req', p.cpu, { op: '<=', ratio: 1.0 }, 'server CPU per request vs node:http'));
      }
      if (ctx.wants('close')) {
        const p = await alternateMany({ rounds, log: (m) => ctx.log(`close: ${m}`), measure: measureRps('raw', true) });
        rows.push(
          row(
            'close',
            'req/s',
            p.rate,
            { op: '>=', ratio: 0.9 },
            '4 KiB with Connection: close, 50 connections, vs the raw-Node responder',
          ),
        );
      }
      if (ctx.wants('big') && existsSync(CURL)) {
        const p = await alternateMany({
          rounds,
          log: (m) => ctx.log(`big: ${m}`),
          measure: async (subject) => {
            const port = ports[subject === 'gorgon' ? 'gorgon' : 'raw'];
            const out = await run(CURL, ['-s', '-o', '/dev/null', '-w', '%{speed_download}', `http://127.0.0.1:${port}/1g.bin`]);
            return { rate: Number(out) / 1e6 };
          },
        });
        rows.push(
          row(
            'big',
            'MB/s',
            p.rate,
            { op: '>=', ratio: 0.95 },
            '1 GiB file, one connection, curl to /dev/null, vs fs.createReadStream piped to the socket',
          ),
        );
      }
      await Promise.all(Object.values(workers).map((w) => w.stop()));
      if (ctx.wants('idle')) {
        // 10,000 silent connections to a fresh server process each time (bench/lib/idle-memory.mjs).
        const client = await ctx.spawnWorker(new URL('./workers/idle-client.mjs', import.meta.url), { name: 'http-idle-client' });
        const p = await alternateMany({
          rounds,
          log: (m) => ctx.log(`idle: ${m}`),
          measure: async (subject) => {
            const server = await ctx.spawnWorker(script, { name: `http-idle-${subject}`, execArgv: ['--expose-gc'], measured: true });
            try {
              const port = await server.call('start', { kind: subject === 'gorgon' ? 'gorgon' : 'raw', root });
              return await measureIdleConnections(server, client, port, 10_000);
            } finally {
              await client.call('closeAll');
              await server.stop();
            }
          },
        });
        await client.stop();
        rows.push(...idleMemoryRows(p, 'idle connection', 1.25, 'idle-'));
      }
      return rows;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};
