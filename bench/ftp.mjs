// ftp: Gorgon's FTP server against raw-Node programs doing the same I/O with no protocol, and
// (with --peers) against Debian's vsftpd and pyftpdlib, measured alternately in the same run:
//   retr        RETR of a 1 GiB file (MB/s) vs a raw net server piping an fs stream to the socket
//   stor        STOR of 1 GiB (MB/s, to the 226 after fsync + rename) vs a raw socket-to-file copy
//               + fsync; server CPU per GB in the notes
//   stor-nofsync  the same with fsync off on both sides (Gorgon `disk: { fsync: false }`), and a
//               `.cpu` row: server CPU per GB; with --peers also against pure-ftpd (never fsyncs)
//   sessions    20 clients looping connect USER PASS TYPE I PASV RETR 4 KiB QUIT (sessions/s)
//               vs pyftpdlib (--peers)
//   list        LIST of a 10,000-file directory (ms) vs vsftpd's LIST (--peers); MLSD in the notes
//   idle-*      10,000 open idle control connections (greeted): server memory per connection vs a
//               raw server that greets and holds its sockets (separate client process)
// With --peers, pure-ftpd (apt) is measured against Gorgon too: RETR, STOR (fsync off), MLSD
// (LIST in the notes) and sessions, logged in as the user `bench` on both sides.
// `--only` picks metrics: retr, stor, stor-nofsync, sessions, list (LIST and MLSD), idle; the
// 1 GiB file is written only when retr or a stor is wanted.
// GORGON_BENCH_FTP_MIB sets the transfer size (default 1024).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPureFtpd, startPyftpdlib, startVsftpd } from './ftp-peers.mjs';
import { treeCpuMicros } from './pop3-dovecot.mjs';
import { alternate, alternateMany } from './lib/rounds.mjs';
import { idleMemoryRows, measureIdleConnections } from './lib/idle-memory.mjs';

const MIB = Number(process.env['GORGON_BENCH_FTP_MIB'] ?? 1024);
const BIG = MIB * 1024 * 1024;
const SMALL = 4096;
const LIST_FILES = 10_000;
const SESSION_CLIENTS = 20;
const IDLE_CONNECTIONS = 10_000;
const USER = 'bench';
const PASS = 'bench';

/**
 * Leaves 1.2 × the upload's size of free memory that the hypervisor still backs, just before a
 * measured STOR: writes that much to a scratch file in `root`, then deletes it. This VM reports
 * freed pages to its host at once (free page reporting, min_free_ms=0), and a page the host took
 * back costs a host fault when the page cache next uses it: `dd` of 1 GiB to a file took 2.0–2.75 s
 * of system time on such pages and 0.2 s on pages freed just before, and the same STOR ran at
 * 0.6 or 3.5 s/GB depending on which it got (the kernel's copy into new page-cache pages, 5-10×
 * slower). Which server drew the short straw was chance (the `sync` before each upload gives the
 * host time to take back what the previous upload freed), and it decided the row; primed, every
 * upload starts from the same memory. The scratch file's pages are dropped, not written back.
 */
function primePageCache(root) {
  const scratch = join(root, 'prime.tmp');
  spawnSync('dd', ['if=/dev/zero', `of=${scratch}`, 'bs=1M', `count=${Math.ceil((MIB * 6) / 5)}`, 'status=none']);
  spawnSync('rm', ['-f', scratch]);
}

/** The benchmark's root; `big` writes the MIB-sized big.bin (only RETR and STOR need it). */
async function makeRoot(log, big) {
  const root = await mkdtemp(join(tmpdir(), 'gorgon-bench-ftp-'));
  await chmod(root, 0o755); // vsftpd's anonymous user must read it
  log(`writing ${big ? `${MIB} MiB big.bin and ` : ''}${LIST_FILES} files into ${root}`);
  if (big) {
    const block = randomBytes(1024 * 1024);
    const handle = await open(join(root, 'big.bin'), 'w', 0o644);
    for (let i = 0; i < MIB; i++) await handle.write(block);
    await handle.close();
  }
  await writeFile(join(root, 'small.bin'), randomBytes(SMALL), { mode: 0o644 });
  await mkdir(join(root, 'many'), { mode: 0o755 });
  for (let i = 0; i < LIST_FILES; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, LIST_FILES - i) }, (_, k) =>
        writeFile(join(root, 'many', `file-${String(i + k).padStart(5, '0')}.dat`), 'x', { mode: 0o644 }),
      ),
    );
  }
  await mkdir(join(root, 'upload'));
  await chmod(join(root, 'upload'), 0o777); // pure-ftpd's virtual user (uid 65534) uploads here
  return root;
}

const ratios = (p) => p.ratios.map((r) => r.toFixed(2)).join(' ');
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

export default {
  name: 'ftp',
  description: `FTP: RETR/STOR ${MIB} MiB (MB/s), sessions/s (${SESSION_CLIENTS} clients), LIST of ${LIST_FILES} files (ms), ${IDLE_CONNECTIONS.toLocaleString('en-US')} idle connections (B/conn)`,
  target: { op: '>=', ratio: 0.95 },
  timeoutMs: 1_200_000,
  /** @param {any} ctx */
  async run(ctx) {
    if (!existsSync(new URL('../packages/ftp/dist/index.js', import.meta.url)))
      return { skipped: '@gorgon/ftp is not built (run pnpm build)' };
    const root = await makeRoot(ctx.log, ctx.wants('retr') || ctx.wants('stor') || ctx.wants('stor-nofsync'));
    const workers = [];
    const peers = [];
    try {
      /** A server worker and its port; `cpu()` is its CPU time so far (µs). */
      const startServer = async (kind, options = {}) => {
        const name = `ftp-${kind}${options.fsync === false ? '-nofsync' : ''}`;
        const w = await ctx.spawnWorker(new URL('./workers/ftp-server.mjs', import.meta.url), { name, measured: true });
        workers.push(w);
        const port = await w.call('start', { kind, root, ...options });
        return { port, cpu: () => w.call('cpu'), split: () => w.call('cpuSplit') };
      };
      const client = await ctx.spawnWorker(new URL('./workers/ftp-client.mjs', import.meta.url), { name: 'ftp-client' });
      workers.push(client);
      const gorgonServer = await startServer('gorgon');
      const gorgon = gorgonServer.port;
      const rows = [];
      let pure;
      if (ctx.peers && ['retr', 'stor-nofsync', 'sessions', 'list'].some((m) => ctx.wants(m))) {
        pure = await startPureFtpd({ root, user: USER, pass: PASS, log: ctx.log });
        peers.push(pure);
        if (pure.port) pure.cpu = async () => treeCpuMicros(pure.pid);
      }
      const pureSkip = (metric) => ({ metric, skipped: ctx.peers ? `pure-ftpd: ${pure?.reason}` : 'pure-ftpd: run with --peers' });

      // RETR
      if (ctx.wants('retr')) {
        const rawServer = await startServer('raw-retr');
        const rawRetr = rawServer.port;
        /** One RETR: MB/s, and the serving process's CPU seconds per GB sent. */
        const retr = async (s) => {
          const server = s === 'gorgon' ? gorgonServer : rawServer;
          const before = await server.cpu();
          const r = await client.call(
            'retr',
            s === 'gorgon'
              ? { port: gorgon, kind: 'ftp', user: USER, pass: PASS, path: 'big.bin', size: BIG }
              : { port: rawRetr, kind: 'raw', size: BIG },
            300_000,
          );
          return { value: r.mbps, cpu: ((await server.cpu()) - before) / 1e6 / (BIG / 1e9) };
        };
        await retr('gorgon');
        await retr('baseline');
        ctx.log('retr');
        const both = await alternateMany({ rounds: ctx.rounds ?? 3, log: ctx.log, measure: retr });
        const pr = both.value;
        const c = both.cpu;
        const cpuText = `server CPU s/GB: Gorgon ${c.gorgon.map((x) => x.toFixed(3)).join(' ')}, baseline ${c.baseline.map((x) => x.toFixed(3)).join(' ')} (medians ${c.figure.toFixed(3)} / ${c.baselineFigure.toFixed(3)}, ratio ${c.ratio.toFixed(2)})`;
        rows.push({
          metric: 'retr',
          unit: 'MB/s',
          figure: pr.figure,
          baseline: pr.baselineFigure,
          ratio: pr.ratio,
          rounds: pr,
          target: { op: '>=', ratio: 0.95 },
          notes: [`RETR ${MIB} MiB vs raw fs stream → socket; per-round ratios ${ratios(pr)}`, cpuText],
        });
        if (pure?.port) {
          ctx.log('retr vs pure-ftpd');
          const retrAt = (s) =>
            client
              .call(
                'retr',
                { port: s === 'gorgon' ? gorgon : pure.port, kind: 'ftp', user: USER, pass: PASS, path: 'big.bin', size: BIG },
                300_000,
              )
              .then((r) => r.mbps);
          await retrAt('baseline');
          const pp = await alternate({ rounds: ctx.rounds ?? 3, log: ctx.log, measure: retrAt });
          rows.push({
            metric: 'retr-vs-pureftpd',
            unit: 'MB/s',
            figure: pp.figure,
            baseline: pp.baselineFigure,
            ratio: pp.ratio,
            rounds: pp,
            target: { op: '>=', ratio: 1.0 },
            notes: [`RETR ${MIB} MiB against pure-ftpd ${pure.version}; per-round ratios ${ratios(pp)}`],
          });
        } else if (ctx.wants('retr')) rows.push(pureSkip('retr-vs-pureftpd'));
      }

      // STOR: fsync on both sides (Gorgon's default), then off on both sides and against pure-ftpd
      const GB = BIG / 1e9;
      /** One STOR to `server`: MB/s, and the server's CPU seconds per GB (children included for a peer). */
      const storOnce = async (server, args) => {
        // Every upload starts with no dirty pages left by the one before: the kernel's writeback
        // of the previous GiB otherwise lands on whichever server runs next (system time from
        // 0.6 to 2.5 s/GB for the same code).
        spawnSync('sync');
        primePageCache(root);
        const before = await server.cpu();
        const split = await server.split?.();
        const clientBefore = await client.call('cpu');
        const r = await client.call('stor', { size: BIG, ...args }, 300_000);
        // The load generator's share: one core of it (clientCores near 1) would mean the
        // client, not the server, sets the pace.
        const clientCpu = (await client.call('cpu')) - clientBefore;
        await ctx.sleep(100); // a peer's session process exits and is counted in its parent
        const cpu = ((await server.cpu()) - before) / 1e6 / GB;
        const load = { clientCpu: clientCpu / 1e6 / GB, clientCores: clientCpu / 1e6 / (BIG / 1e6 / r.mbps) };
        if (split) {
          const now = await server.split();
          return { value: r.mbps, cpu, ...load, user: (now.user - split.user) / 1e6 / GB, system: (now.system - split.system) / 1e6 / GB };
        }
        return { value: r.mbps, cpu, ...load };
      };
      const ftpArgs = (port, path = 'upload/bench.bin') => ({ port, kind: 'ftp', user: USER, pass: PASS, path });
      // Two unmeasured uploads per side first, so that every measured upload replaces a file of
      // the same size, as the one before it did: on this VM, page-cache pages the guest never
      // touched before cost a host fault each, and an upload that follows one which freed
      // nothing (the first to a new name) paid 2-2.5 s/GB of system time instead of 0.6-1.
      const warmUp = async (a, b) => {
        for (let i = 0; i < 2; i++) for (const f of [a, b]) if (f) await f();
      };
      const cpuNote = (p) =>
        `server CPU s/GB: Gorgon ${p.cpu.gorgon.map((c) => c.toFixed(2)).join(' ')}, baseline ${p.cpu.baseline.map((c) => c.toFixed(2)).join(' ')} (medians ${p.cpu.figure.toFixed(2)} / ${p.cpu.baselineFigure.toFixed(2)}, ratio ${p.cpu.ratio.toFixed(2)})`;
      const loadNote = (p) =>
        `load generator: ${p.clientCpu.figure.toFixed(2)} / ${p.clientCpu.baselineFigure.toFixed(2)} s/GB, ` +
        `${p.clientCores.figure.toFixed(2)} / ${p.clientCores.baselineFigure.toFixed(2)} cores (medians, Gorgon / the other)`;
      if (ctx.wants('stor')) {
        const raw = await startServer('raw-stor');
        ctx.log('stor (fsync on both sides)');
        await warmUp(
          () => storOnce(gorgonServer, ftpArgs(gorgon)),
          () => storOnce(raw, { port: raw.port, kind: 'raw' }),
        );
        const p = await alternateMany({
          rounds: ctx.rounds ?? 3,
          log: ctx.log,
          measure: (s) => (s === 'gorgon' ? storOnce(gorgonServer, ftpArgs(gorgon)) : storOnce(raw, { port: raw.port, kind: 'raw' })),
        });
        const ps = p.value;
        rows.push({
          metric: 'stor',
          unit: 'MB/s',
          figure: ps.figure,
          baseline: ps.baselineFigure,
          ratio: ps.ratio,
          rounds: ps,
          target: { op: '>=', ratio: 0.9 },
          notes: [`STOR ${MIB} MiB to 226 (fsync + rename) vs raw socket → file + fsync; per-round ratios ${ratios(ps)}`, cpuNote(p)],
        });
      }
      if (ctx.wants('stor-nofsync')) {
        const g = await startServer('gorgon', { fsync: false });
        const raw = await startServer('raw-stor', { fsync: false });
        ctx.log('stor (fsync off on both sides)');
        await warmUp(
          () => storOnce(g, ftpArgs(g.port)),
          () => storOnce(raw, { port: raw.port, kind: 'raw' }),
        );
        const p = await alternateMany({
          rounds: ctx.rounds ?? 3,
          log: ctx.log,
          measure: (s) => (s === 'gorgon' ? storOnce(g, ftpArgs(g.port)) : storOnce(raw, { port: raw.port, kind: 'raw' })),
        });
        const ps = p.value;
        rows.push({
          metric: 'stor-nofsync',
          unit: 'MB/s',
          figure: ps.figure,
          baseline: ps.baselineFigure,
          ratio: ps.ratio,
          rounds: ps,
          target: { op: '>=', ratio: 0.9 },
          notes: [
            `STOR ${MIB} MiB, fsync off (disk.fsync false) vs raw socket → file, no fsync; per-round ratios ${ratios(ps)}`,
            loadNote(p),
          ],
        });
        const split = (k) => `${p[k].gorgon.map((c) => c.toFixed(2)).join(' ')} / ${p[k].baseline.map((c) => c.toFixed(2)).join(' ')}`;
        rows.push({
          metric: 'stor-nofsync.cpu',
          unit: 's/GB',
          figure: p.cpu.figure,
          baseline: p.cpu.baselineFigure,
          ratio: p.cpu.ratio,
          rounds: p.cpu,
          target: { op: '<=', ratio: 1.2 },
          notes: [
            `server CPU per GB stored, fsync off on both sides; per-round ratios ${ratios(p.cpu)}`,
            `user s/GB (Gorgon / raw) ${split('user')}; system ${split('system')}`,
          ],
        });
        if (pure?.port) {
          ctx.log('stor vs pure-ftpd (fsync off on both sides)');
          await warmUp(() => storOnce(pure, ftpArgs(pure.port, 'upload/pure.bin')));
          const pp = await alternateMany({
            rounds: ctx.rounds ?? 3,
            log: ctx.log,
            measure: (s) => (s === 'gorgon' ? storOnce(g, ftpArgs(g.port)) : storOnce(pure, ftpArgs(pure.port, 'upload/pure.bin'))),
          });
          const v = pp.value;
          rows.push({
            metric: 'stor-vs-pureftpd',
            unit: 'MB/s',
            figure: v.figure,
            baseline: v.baselineFigure,
            ratio: v.ratio,
            rounds: v,
            target: { op: '>=', ratio: 1.0 },
            notes: [
              `STOR ${MIB} MiB against pure-ftpd ${pure.version}, fsync off on both (pure-ftpd cannot fsync); per-round ratios ${ratios(v)}`,
              cpuNote(pp).replace('baseline', 'pure-ftpd'),
              loadNote(pp),
            ],
          });
        } else rows.push(pureSkip('stor-vs-pureftpd'));
      }

      // Peers for sessions (pyftpdlib; vsftpd in the notes) and LIST (vsftpd)
      let py;
      let vs;
      if (ctx.peers && ctx.wants('sessions')) {
        py = await startPyftpdlib({ root, log: ctx.log });
        peers.push(py);
      }
      if (ctx.peers && (ctx.wants('sessions') || ctx.wants('list'))) {
        vs = await startVsftpd({ root, log: ctx.log });
        peers.push(vs);
      }

      // sessions/s (anonymous on every server, so the same work)
      const sessionsAt = (port, user = 'anonymous', pass = 'bench@') =>
        client
          .call('sessions', { port, user, pass, path: 'small.bin', size: SMALL, clients: SESSION_CLIENTS, durationMs: 1000 }, 60_000)
          .then((r) => r.rate);
      const gorgonSessions = [];
      if (ctx.wants('sessions') && py?.port) {
        ctx.log('sessions vs pyftpdlib');
        // Steady state: three warm-up rounds each (Node's JIT needs a few thousand sessions).
        for (let i = 0; i < 3; i++) {
          await sessionsAt(gorgon);
          await sessionsAt(py.port);
        }
        const p = await alternate({ rounds: ctx.rounds ?? 5, log: ctx.log, measure: (s) => sessionsAt(s === 'gorgon' ? gorgon : py.port) });
        const notes = [`baseline: pyftpdlib ${py.version}; per-round ratios ${ratios(p)}`];
        if (vs?.port) {
          const v = [];
          for (let i = 0; i < 3; i++) v.push(await sessionsAt(vs.port));
          notes.push(`vsftpd ${vs.version}: ${med(v).toFixed(0)} sessions/s; Gorgon/vsftpd = ${(p.figure / med(v)).toFixed(2)}`);
        }
        rows.push({
          metric: 'sessions',
          unit: 'sessions/s',
          figure: p.figure,
          baseline: p.baselineFigure,
          ratio: p.ratio,
          rounds: p,
          target: { op: '>=', ratio: 1.0 },
          notes,
        });
      } else if (ctx.wants('sessions')) {
        for (let i = 0; i < 3; i++) gorgonSessions.push(await sessionsAt(gorgon));
        rows.push({
          metric: 'sessions',
          skipped: `baseline is pyftpdlib: run with --peers (${py?.reason ?? 'not requested'}); Gorgon alone: ${med(gorgonSessions).toFixed(0)} sessions/s`,
          target: { op: '>=', ratio: 1.0 },
        });
      }

      if (ctx.wants('sessions') && pure?.port) {
        ctx.log('sessions vs pure-ftpd (user bench on both)');
        for (let i = 0; i < 2; i++) {
          await sessionsAt(gorgon, USER, PASS);
          await sessionsAt(pure.port, USER, PASS);
        }
        const p = await alternate({
          rounds: ctx.rounds ?? 3,
          log: ctx.log,
          measure: (s) => (s === 'gorgon' ? sessionsAt(gorgon, USER, PASS) : sessionsAt(pure.port, USER, PASS)),
        });
        rows.push({
          metric: 'sessions-vs-pureftpd',
          unit: 'sessions/s',
          figure: p.figure,
          baseline: p.baselineFigure,
          ratio: p.ratio,
          rounds: p,
          target: { op: '>=', ratio: 1.0 },
          notes: [
            `pure-ftpd ${pure.version} (a process per session; MD5-crypt password), user bench on both; per-round ratios ${ratios(p)}`,
          ],
        });
      } else if (ctx.wants('sessions')) rows.push(pureSkip('sessions-vs-pureftpd'));

      // LIST / MLSD of 10,000 files
      const listAt = async (port, verb, user = 'anonymous', pass = 'bench@') => {
        const r = await client.call('list', { port, user, pass, path: 'many', verb }, 60_000);
        if (r.lines !== LIST_FILES) throw new Error(`${verb} gave ${r.lines} lines, expected ${LIST_FILES}`);
        return r.ms;
      };
      const mlsd = [];
      if (ctx.wants('list')) for (let i = 0; i < 5; i++) mlsd.push(await listAt(gorgon, 'MLSD'));
      if (ctx.wants('list') && vs?.port) {
        ctx.log('LIST vs vsftpd');
        await listAt(gorgon, 'LIST');
        await listAt(vs.port, 'LIST');
        const p = await alternate({
          rounds: ctx.rounds ?? 5,
          log: ctx.log,
          measure: (s) => listAt(s === 'gorgon' ? gorgon : vs.port, 'LIST'),
        });
        rows.push({
          metric: 'list',
          unit: 'ms',
          figure: p.figure,
          baseline: p.baselineFigure,
          ratio: p.ratio,
          rounds: p,
          target: { op: '<=', ratio: 1.0 },
          notes: [`baseline: vsftpd ${vs.version} LIST; Gorgon MLSD ${med(mlsd).toFixed(1)} ms; per-round ratios ${ratios(p)}`],
        });
      } else if (ctx.wants('list')) {
        const list = [];
        for (let i = 0; i < 5; i++) list.push(await listAt(gorgon, 'LIST'));
        rows.push({
          metric: 'list',
          skipped: `baseline is vsftpd: run with --peers (${vs?.reason ?? 'not requested'}); Gorgon alone: LIST ${med(list).toFixed(1)} ms, MLSD ${med(mlsd).toFixed(1)} ms`,
          target: { op: '<=', ratio: 1.0 },
        });
      }
      if (ctx.wants('list') && pure?.port) {
        ctx.log('MLSD vs pure-ftpd');
        const at = (s, verb) => (s === 'gorgon' ? listAt(gorgon, verb, USER, PASS) : listAt(pure.port, verb, USER, PASS));
        await at('gorgon', 'MLSD');
        await at('baseline', 'MLSD');
        const p = await alternate({ rounds: ctx.rounds ?? 5, log: ctx.log, measure: (s) => at(s, 'MLSD') });
        const pl = await alternate({ rounds: 3, log: ctx.log, measure: (s) => at(s, 'LIST') });
        rows.push({
          metric: 'mlsd-vs-pureftpd',
          unit: 'ms',
          figure: p.figure,
          baseline: p.baselineFigure,
          ratio: p.ratio,
          rounds: p,
          target: { op: '<=', ratio: 1.0 },
          notes: [
            `MLSD of ${LIST_FILES} files against pure-ftpd ${pure.version}; per-round ratios ${ratios(p)}`,
            `LIST: Gorgon ${pl.figure.toFixed(1)} ms, pure-ftpd ${pl.baselineFigure.toFixed(1)} ms (ratio ${pl.ratio.toFixed(2)}; per round ${ratios(pl)})`,
          ],
        });
      } else if (ctx.wants('list')) rows.push(pureSkip('mlsd-vs-pureftpd'));
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      if (ctx.wants('idle')) rows.push(...(await idle(ctx, root)));
      return rows;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      for (const p of peers) await p.stop();
      await rm(root, { recursive: true, force: true });
    }
  },
};

/** Server memory per idle, greeted FTP control connection, Gorgon against the raw server. */
async function idle(ctx, root) {
  const client = await ctx.spawnWorker(new URL('./workers/idle-client.mjs', import.meta.url), { name: 'ftp-idle-client' });
  try {
    const paired = await alternateMany({
      rounds: ctx.rounds ?? 3,
      log: ctx.log,
      measure: async (subject) => {
        const server = await ctx.spawnWorker(new URL('./workers/ftp-server.mjs', import.meta.url), {
          name: `ftp-idle-${subject}`,
          execArgv: ['--expose-gc'],
          measured: true,
        });
        try {
          const port = await server.call('start', { kind: subject === 'gorgon' ? 'gorgon' : 'raw-idle', root });
          return await measureIdleConnections(server, client, port, IDLE_CONNECTIONS);
        } finally {
          await client.call('closeAll', undefined, 60_000);
          await server.stop();
        }
      },
    });
    return idleMemoryRows(paired, 'idle greeted FTP control connection');
  } finally {
    await client.stop();
  }
}
