// http: Gorgon's HTTP/1.1 static file server against a raw-Node responder and node:http serving
// the same files, with wrk (Debian package wrk) as the load generator in its own process:
//   keepalive   4 KiB file, 50 keep-alive connections (req/s), and the server CPU per request
//   close       the same with `Connection: close` (req/s), and the server CPU per request
//   nodehttp    4 KiB keep-alive against node:http (req/s)
//   big         a 1 GiB file over one connection (MB/s, curl to /dev/null), against the raw stream
//   idle        10,000 silent connections (bytes each)
// With --peers, the same keepalive, close and big rows against nginx and Apache httpd (mpm_event)
// from apt (bench/http-peers.mjs), each with the server CPU per request of both sides.
// Gorgon is what `gorgon httpd --root DIR --cache-bytes 67108864` serves: a DiskStore with the
// open-file cache (files up to 256 KiB, re-checked at most once a second).
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall, startApache, startNginx } from './http-peers.mjs';
import { idleMemoryRows, measureIdleConnections } from './lib/idle-memory.mjs';
import { alternateMany } from './lib/rounds.mjs';

const WRK = '/usr/bin/wrk';
const CURL = '/usr/bin/curl';
const TIME = '/usr/bin/time';
const ROUND_S = 3;
/** wrk threads and connections: 2 threads (the machine has 2 cores), 50 connections. */
const WRK_THREADS = Number(process.env['GORGON_BENCH_WRK_THREADS'] ?? 2);

/** @returns {Promise<{ out: string, err: string }>} */
function run(cmd, args) {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, out, stderr) => (err ? reject(err) : resolve({ out, err: stderr }))),
  );
}

/** One wrk run; with /usr/bin/time, wrk's own CPU (user + system seconds) too. */
async function wrk(port, close) {
  const args = [
    `-t${WRK_THREADS}`,
    '-c50',
    `-d${ROUND_S}s`,
    ...(close ? ['-H', 'Connection: close'] : []),
    `http://127.0.0.1:${port}/4k.bin`,
  ];
  const timed = existsSync(TIME);
  const { out, err } = timed ? await run(TIME, ['-f', 'wrk-cpu %U %S', WRK, ...args]) : await run(WRK, args);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  if (!(rate > 0)) throw new Error(`wrk: no rate in ${out}`);
  if (/Non-2xx|Socket errors: connect [1-9]/.test(out)) throw new Error(`wrk: errors: ${out}`);
  const cpu = /wrk-cpu ([\d.]+) ([\d.]+)/.exec(err);
  return { rate, total, wrkCpu: cpu ? ((Number(cpu[1]) + Number(cpu[2])) * 1e6) / total : Number.NaN };
}

export default {
  name: 'http',
  description:
    'HTTP/1.1 static files: 4 KiB keep-alive x50 and Connection: close (wrk), 1 GiB (curl); vs a raw-Node responder, node:http and (--peers) nginx and Apache',
  target: { op: '>=', ratio: 1.0 },
  timeoutMs: 600_000,
  /** @param {any} ctx */
  async run(ctx) {
    if (!existsSync(new URL('../packages/http/dist/index.js', import.meta.url))) return { skipped: '@gorgon/http is not built' };
    // wrk is Debian's `wrk`: installed here when missing (as root), else the benchmark is skipped.
    const noWrk = aptInstall('wrk', WRK, ctx.log);
    if (noWrk) return { skipped: noWrk };
    const root = mkdtempSync(join(tmpdir(), 'gorgon-bench-http-'));
    chmodSync(root, 0o755); // the peers run as www-data
    /** @type {Array<{ stop: () => Promise<void> }>} */
    const peers = [];
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
      /** Each subject: its port and its CPU so far (µs). */
      const subjects = {};
      for (const [kind, w] of Object.entries(workers)) {
        subjects[kind] = { port: await w.call('start', { kind, root }), cpu: () => w.call('cpu') };
      }
      const peerNotes = {};
      if (ctx.peers) {
        for (const [name, start] of [
          ['nginx', startNginx],
          ['apache', startApache],
        ]) {
          try {
            const peer = await start({ root, log: ctx.log, spawnProcess: ctx.spawnProcess });
            if ('reason' in peer) {
              peerNotes[name] = peer.reason;
              continue;
            }
            peers.push(peer);
            subjects[name] = { port: peer.port, cpu: async () => peer.cpuMicros() };
            peerNotes[name] = `${peer.version}: ${peer.settings}`;
            ctx.log(`${name}: ${peerNotes[name]}`);
          } catch (err) {
            peerNotes[name] = `did not start: ${/** @type {Error} */ (err).message}`;
          }
        }
      }
      const rows = [];
      const rounds = ctx.rounds ?? 3;
      const measureRps = (base, close) => async (subject) => {
        const s = subjects[subject === 'gorgon' ? 'gorgon' : base];
        const before = await s.cpu();
        const { rate, total, wrkCpu } = await wrk(s.port, close);
        const after = await s.cpu();
        return { rate, cpu: (after - before) / total, wrkCpu };
      };
      // Warm-up: the JIT settles (and the peers' caches fill) before the measured rounds.
      for (const s of Object.values(subjects)) await wrk(s.port, false);
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
      const wrkNote = (p) =>
        `wrk's own CPU ${p.wrkCpu.figure.toFixed(1)} / ${p.wrkCpu.baselineFigure.toFixed(1)} µs per request (2 cores in all)`;
      /** The keep-alive or close rows against `base`: req/s and the server CPU per request. */
      const rpsRows = async (metric, base, close, target, cpuTarget, what) => {
        const p = await alternateMany({ rounds, log: (m) => ctx.log(`${metric}: ${m}`), measure: measureRps(base, close) });
        rows.push(row(metric, 'req/s', p.rate, target, `${what}; ${wrkNote(p)}`));
        rows.push(row(`${metric}-cpu`, 'µs/req', p.cpu, cpuTarget, `server CPU per request (${what})`));
      };
      const ka = '4 KiB, 50 keep-alive connections';
      const cl = '4 KiB, Connection: close, 50 connections';
      if (ctx.wants('keepalive')) {
        await rpsRows(
          'keepalive',
          'raw',
          false,
          { op: '>=', ratio: 1.0 },
          { op: '<=', ratio: 1.25 },
          `${ka}, vs the raw-Node responder (bytes in memory)`,
        );
      }
      if (ctx.wants('nodehttp')) {
        await rpsRows(
          'nodehttp',
          'nodehttp',
          false,
          { op: '>=', ratio: 1.0 },
          { op: '<=', ratio: 1.0 },
          `${ka}, vs node:http reading the file per request`,
        );
      }
      if (ctx.wants('close')) {
        await rpsRows('close', 'raw', true, { op: '>=', ratio: 0.9 }, { op: '<=', ratio: 1.25 }, `${cl}, vs the raw-Node responder`);
      }
      const bigRow = async (metric, base, target, what) => {
        const p = await alternateMany({
          rounds,
          log: (m) => ctx.log(`${metric}: ${m}`),
          measure: async (subject) => {
            const s = subjects[subject === 'gorgon' ? 'gorgon' : base];
            const before = await s.cpu();
            const { out } = await run(CURL, ['-s', '-o', '/dev/null', '-w', '%{speed_download}', `http://127.0.0.1:${s.port}/1g.bin`]);
            const after = await s.cpu();
            return { rate: Number(out) / 1e6, cpu: (after - before) / 1e6 / 1.073741824 };
          },
        });
        const cpu = `server CPU ${p.cpu.figure.toFixed(2)} / ${p.cpu.baselineFigure.toFixed(2)} s per GB`;
        rows.push(
          row(
            metric,
            'MB/s',
            p.rate,
            target,
            `1 GiB file (sparse, so in the page cache), one connection, curl to /dev/null, ${what}; ${cpu}`,
          ),
        );
      };
      if (ctx.wants('big') && existsSync(CURL)) {
        await bigRow('big', 'raw', { op: '>=', ratio: 0.95 }, 'vs fs.createReadStream piped to the socket');
      }
      if (ctx.peers) {
        for (const [name, kaTarget, bigTarget] of [
          ['nginx', 1.0, 1.0],
          ['apache', 1.5, 1.0],
        ]) {
          if (!subjects[name]) {
            rows.push({ metric: `keepalive-vs-${name}`, skipped: peerNotes[name] });
            continue;
          }
          const note = peerNotes[name];
          if (ctx.wants('keepalive')) {
            await rpsRows(`keepalive-vs-${name}`, name, false, { op: '>=', ratio: kaTarget }, { op: '<=', ratio: 1.0 }, `${ka}; ${note}`);
          }
          if (ctx.wants('close')) {
            await rpsRows(
              `close-vs-${name}`,
              name,
              true,
              { op: '>=', ratio: 1.0 },
              { op: '<=', ratio: 1.0 },
              `${cl} (no target in the issue); ${note}`,
            );
          }
          if (ctx.wants('big') && existsSync(CURL)) await bigRow(`big-vs-${name}`, name, { op: '>=', ratio: bigTarget }, `vs ${name}`);
        }
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
      for (const peer of peers) await peer.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
};
