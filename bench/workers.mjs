// workers: `gorgon serve --workers 2` against `--workers 1` (the single process), the same config,
// both running at once and measured alternately in the same run (ABBA):
//   pop3-sessions   POP3 sessions/s: 24 clients in 3 load generator processes looping connect,
//                   USER, PASS, STAT, QUIT (each user its own maildrop of 5 messages)
//   ftp-retr        FTP RETR throughput: 3 load generator processes, each 2 RETRs of a 64 MiB file
//                   one after the other, all three at once; MB/s = all bytes / wall time
// and the server's CPU per operation (the primary and its workers together, from /proc) as the
// `.cpu` rows. "figure" is 2 workers, "baseline" 1 worker: the ratio is the speed-up. The
// machine this runs on has 2 cores shared with the load generators (and other work), so the
// ceiling is well under 2×.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { alternateMany } from './lib/rounds.mjs';
import { readFileSync } from 'node:fs';
import { treeCpuMicros } from './pop3-dovecot.mjs';

/** CPU time (µs) of process `pid` alone (the primary, without its workers), from /proc. */
function ownCpuMicros(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) / 100) * 1e6;
}

const GENERATORS = 3;
const USERS_PER_GENERATOR = 8;
const SESSION_MS = 3000;
const FILE_BYTES = 64 * 1024 * 1024;
const RETRS_PER_GENERATOR = 2;
const PASSWORD = 'bench-pass';

/**
 * Starts `gorgon serve` with `workers` processes; resolves once every worker serves (the
 * primary's `workers-ready` line, or `ready` for one process). Logs at info, as operators run it.
 */
function startSuite(ctx, main, config, workers) {
  const child = ctx.spawnProcess(
    process.execPath,
    [main, 'serve', '--config', config, '--workers', String(workers), '--log-format', 'json', '--log-level', 'info'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`--workers ${workers} did not start:\n${text}`)), 30_000);
    const want = workers > 1 ? '"event":"workers-ready"' : '"event":"ready"';
    child.stderr.on('data', (chunk) => {
      if (text !== undefined) text += chunk;
      if (text?.includes(want)) {
        clearTimeout(timer);
        text = undefined; // read on (so the pipe never fills), keep nothing
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`--workers ${workers} exited (${code}):\n${text}`)));
  });
}

async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export default {
  name: 'workers',
  description: `gorgon serve --workers 2 vs --workers 1: POP3 sessions/s (login + STAT + QUIT, ${GENERATORS * USERS_PER_GENERATOR} clients) and FTP RETR MB/s (${GENERATORS} × ${RETRS_PER_GENERATOR} × 64 MiB), server CPU per op`,
  target: { op: '>=', ratio: 1.0 },
  timeoutMs: 600_000,
  /** @param {any} ctx */
  async run(ctx) {
    const main = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
    const pop3Dist = new URL('../packages/pop3/dist/index.js', import.meta.url);
    const coreDist = new URL('../packages/core/dist/index.js', import.meta.url);
    if (!existsSync(main) || !existsSync(pop3Dist)) return { skipped: 'the CLI is not built (run pnpm build)' };
    const pop3 = await import(pop3Dist.href);
    const core = await import(coreDist.href);
    const dir = await mkdtemp(join(tmpdir(), 'gorgon-bench-workers-'));
    const workers = [];
    try {
      const users = Array.from({ length: GENERATORS * USERS_PER_GENERATOR }, (_, i) => `w${i}`);
      const hash = await core.hashPassword(PASSWORD);
      await writeFile(
        join(dir, 'users.json'),
        JSON.stringify({ users: [...users, 'bench'].map((name) => ({ name, password: hash, ftp: { perms: 'elr' } })) }),
      );
      const maildirs = join(dir, 'maildirs');
      for (const user of users)
        for (let m = 0; m < 5; m++) await pop3.deliver(maildirs, user, `Subject: ${m}\r\n\r\n${'body line\r\n'.repeat(40)}`);
      const root = join(dir, 'ftp');
      await mkdir(root, { recursive: true });
      await writeFile(join(root, 'big.bin'), randomBytes(FILE_BYTES));

      const subjects = {};
      for (const [subject, count] of [
        ['gorgon', 2],
        ['baseline', 1],
      ]) {
        const pop3Port = await freePort();
        const ftpPort = await freePort();
        const config = join(dir, `workers-${count}.yaml`);
        await writeFile(
          config,
          [
            'pop3:',
            `  port: ${pop3Port}`,
            `  maildirs: ${maildirs}`,
            '  users: users.json',
            // Steady state: each worker keeps its own login cache, so with the default 60 s a
            // round could fall on the minute when every user's scrypt check runs again.
            '  authCacheSeconds: 3600',
            'ftp:',
            `  port: ${ftpPort}`,
            `  root: ${root}`,
            '  users: users.json',
            '  fsync: false',
            '',
          ].join('\n'),
        );
        const child = await startSuite(ctx, main, config, count);
        subjects[subject] = { pid: child.pid, pop3Port, ftpPort, count };
        ctx.log(`--workers ${count}: pid ${child.pid}, pop3 ${pop3Port}, ftp ${ftpPort}`);
      }

      const pop3Clients = [];
      const ftpClients = [];
      for (let g = 0; g < GENERATORS; g++) {
        pop3Clients.push(await ctx.spawnWorker(new URL('./workers/pop3-client.mjs', import.meta.url), { name: `pop3-client-${g}` }));
        ftpClients.push(await ctx.spawnWorker(new URL('./workers/ftp-client.mjs', import.meta.url), { name: `ftp-client-${g}` }));
      }
      workers.push(...pop3Clients, ...ftpClients);
      const clientCpu = async (list) => (await Promise.all(list.map((c) => c.call('cpu')))).reduce((a, b) => a + b, 0);

      const sessions = async (subject, durationMs) => {
        const { pid, pop3Port } = subjects[subject];
        const [cpu0, own0, lg0] = [treeCpuMicros(pid), ownCpuMicros(pid), await clientCpu(pop3Clients)];
        const results = await Promise.all(
          pop3Clients.map((c, g) =>
            c.call('sessions', {
              port: pop3Port,
              users: users.slice(g * USERS_PER_GENERATOR, (g + 1) * USERS_PER_GENERATOR),
              pass: PASSWORD,
              durationMs,
            }),
          ),
        );
        const [cpu1, own1, lg1] = [treeCpuMicros(pid), ownCpuMicros(pid), await clientCpu(pop3Clients)];
        const done = results.reduce((a, r) => a + r.done, 0);
        return {
          rate: results.reduce((a, r) => a + r.rate, 0),
          cpu: (cpu1 - cpu0) / done,
          // With workers, the primary accepts every connection and passes it on over IPC.
          primaryCpu: (own1 - own0) / done,
          serverCores: (cpu1 - cpu0) / (durationMs * 1000),
          clientCpu: (lg1 - lg0) / done,
        };
      };
      const retr = async (subject) => {
        const { pid, ftpPort } = subjects[subject];
        const cpu0 = treeCpuMicros(pid);
        const start = process.hrtime.bigint();
        await Promise.all(
          ftpClients.map(async (c) => {
            for (let i = 0; i < RETRS_PER_GENERATOR; i++) {
              await c.call('retr', { port: ftpPort, kind: 'gorgon', user: 'bench', pass: PASSWORD, path: 'big.bin', size: FILE_BYTES });
            }
          }),
        );
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const bytes = FILE_BYTES * RETRS_PER_GENERATOR * GENERATORS;
        const cpu1 = treeCpuMicros(pid);
        return { mbps: bytes / 1e6 / seconds, cpuPerGB: (cpu1 - cpu0) / 1e6 / (bytes / 1e9), serverCores: (cpu1 - cpu0) / 1e6 / seconds };
      };

      // Warm-up: logins cached (in every worker: each has its own cache, and round-robin sends
      // each user to each worker), JIT settled in every worker, the file in the page cache.
      // Each worker gets half the load, so it takes twice as long to get its hot paths compiled:
      // with 2 × 2 s, the first measured rounds still cost 2 workers 2–3× the CPU per session
      // and settled later (a trend, not noise), hence 5 × 2.5 s.
      for (let i = 0; i < 5; i++) {
        for (const subject of ['gorgon', 'baseline']) {
          if (ctx.wants('pop3-sessions')) await sessions(subject, 2500);
          if (ctx.wants('ftp-retr') && i < 2) await retr(subject);
        }
      }
      const rounds = ctx.rounds ?? 5;
      const rows = [];
      const ratios = (p) => p.ratios.map((r) => r.toFixed(2)).join(' ');
      if (ctx.wants('pop3-sessions')) {
        const p = await alternateMany({ rounds, log: (m) => ctx.log(`pop3 sessions: ${m}`), measure: (s) => sessions(s, SESSION_MS) });
        rows.push(
          {
            metric: 'pop3-sessions',
            unit: 'sess/s',
            figure: p.rate.figure,
            baseline: p.rate.baselineFigure,
            ratio: p.rate.ratio,
            rounds: p.rate,
            notes: [
              `figure = --workers 2, baseline = --workers 1 (node:cluster scheduling: ${process.env.NODE_CLUSTER_SCHED_POLICY || 'rr'}); per-round ratios ${ratios(p.rate)}`,
              `server cores used: ${p.serverCores.figure.toFixed(2)} (2 workers) vs ${p.serverCores.baselineFigure.toFixed(2)} (1); ` +
                `load generators ${p.clientCpu.figure.toFixed(0)} µs CPU per session`,
            ],
          },
          {
            metric: 'pop3-sessions.cpu',
            unit: 'µs/sess',
            figure: p.cpu.figure,
            baseline: p.cpu.baselineFigure,
            ratio: p.cpu.ratio,
            target: { op: '<=', ratio: 1.25 },
            rounds: p.cpu,
            notes: [
              `server CPU (primary + workers) per session; per-round ratios ${ratios(p.cpu)}`,
              `of which the primary (2 workers: it accepts and hands each connection over IPC): ${p.primaryCpu.figure.toFixed(0)} µs/sess; ` +
                `the single process: ${p.primaryCpu.baselineFigure.toFixed(0)} µs/sess (all of it)`,
            ],
          },
        );
      }
      if (ctx.wants('ftp-retr')) {
        const p = await alternateMany({ rounds, log: (m) => ctx.log(`ftp retr: ${m}`), measure: (s) => retr(s) });
        rows.push(
          {
            metric: 'ftp-retr',
            unit: 'MB/s',
            figure: p.mbps.figure,
            baseline: p.mbps.baselineFigure,
            ratio: p.mbps.ratio,
            rounds: p.mbps,
            notes: [
              `figure = --workers 2, baseline = --workers 1; per-round ratios ${ratios(p.mbps)}`,
              `server cores used: ${p.serverCores.figure.toFixed(2)} (2 workers) vs ${p.serverCores.baselineFigure.toFixed(2)} (1)`,
            ],
          },
          {
            metric: 'ftp-retr.cpu',
            unit: 's/GB',
            figure: p.cpuPerGB.figure,
            baseline: p.cpuPerGB.baselineFigure,
            ratio: p.cpuPerGB.ratio,
            target: { op: '<=', ratio: 1.25 },
            rounds: p.cpuPerGB,
            notes: [`server CPU (primary + workers) per GB sent; per-round ratios ${ratios(p.cpuPerGB)}`],
          },
        );
      }
      return rows;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  },
};
