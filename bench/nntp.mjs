// nntp: Gorgon's NNTP server against a raw-Node NNTP responder (no framework) on the same spool,
// and with --peers against INN 2.7 (Debian's inn2, a private instance: bench/nntp-inn.mjs)
// holding the same 10,000 articles, measured alternately in the same run:
//   article-lockstep   ARTICLE 1..N one at a time (articles/s)
//   article-pipelined  the same N ARTICLEs written at once (articles/s)
//   over-10k           OVER 1-10000 of a 10,000-article group (ms; lower is better)
//   post               POST acceptance, 8 connections posting lock-step (articles/s)
//   takethis           MODE STREAM, N TAKETHIS written at once, answered 239 each (articles/s)
//   idle-rss/heap      10,000 open idle NNTP connections (greeted, silent): server memory each
// Durability: Gorgon by default acknowledges an article once it is durable (group commit: one
// journal fdatasync per batch); the raw responder fsyncs one file per article; INN does not
// fsync articles (its default). Against INN the acceptance rows are measured twice: `-vs-inn`
// with Gorgon's fsync off (`DiskNewsStore.open(dir, { fsync: false })`, INN's durability) and
// `-fsync-vs-inn` with Gorgon's default. Readers of INN send MODE READER (innd hands them to
// nnrpd); INN's CPU is innd's and its children's (nnrpd), from /proc.
// Servers and client are separate processes (bench/workers/nntp-*.mjs).
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idleMemoryRows, measureIdleConnections } from './lib/idle-memory.mjs';
import { GROUP, benchArticle } from './lib/nntp-articles.mjs';
import { alternateMany } from './lib/rounds.mjs';
import { median, sleep } from './lib/stats.mjs';
import { innMemory, startInn } from './nntp-inn.mjs';
import { treeCpuMicros } from './pop3-dovecot.mjs';

const ARTICLES = 10_000;
const FETCH = 2_000;
const STREAM = 1_000;
const POSTS = 400;
const POST_CONNECTIONS = 8;
const IDLE_CONNECTIONS = 10_000;
const INN_IDLE_READERS = 200;

/** Writes the spool files directly, in DiskNewsStore's layout (spool-files.ts). */
async function writeSpool(dir) {
  for (const d of [`articles/${GROUP}`, 'articles/bench.stream', 'overview', 'tmp']) await mkdir(join(dir, d), { recursive: true });
  let ov = '';
  let history = '';
  for (let i = 1; i <= ARTICLES; i++) {
    const { data, lines } = benchArticle(i);
    await writeFile(join(dir, 'articles', GROUP, String(i)), data);
    ov += `${i}\tarticle ${i}\tbench${i}@example.org\tSun, 06 Dec 2026 00:00:00 +0000\t<${i}@bench.example.org>\t\t${Buffer.byteLength(data)}\t${lines}\tbench ${GROUP}:${i}\n`;
    history += `<${i}@bench.example.org>\t1765000000\t${GROUP}:${i}\n`;
  }
  await writeFile(join(dir, 'overview', GROUP), ov);
  await writeFile(join(dir, 'overview', 'bench.stream'), '');
  await writeFile(join(dir, 'history'), history);
  await writeFile(join(dir, 'active'), `${GROUP} ${ARTICLES} 1 y\nbench.stream 0 1 y\n`);
}

export default {
  name: 'nntp',
  description: `NNTP: ARTICLE lock-step and pipelined (articles/s), OVER of ${ARTICLES.toLocaleString('en-US')} (ms), POST and TAKETHIS acceptance (articles/s), against a raw-Node responder and, with --peers, INN`,
  target: { op: '>=', ratio: 0.8 },
  timeoutMs: 900_000,
  /** @param {any} ctx */
  async run(ctx) {
    if (!existsSync(new URL('../packages/nntp/dist/index.js', import.meta.url)))
      return { skipped: '@gorgon/nntp is not built (run pnpm build)' };
    const root = await mkdtemp(join(tmpdir(), 'gorgon-bench-nntp-'));
    const workers = [];
    let inn;
    try {
      ctx.log(`writing a spool of ${ARTICLES} articles`);
      await writeSpool(join(root, 'raw'));
      // Each Gorgon server has its own copy: a spool belongs to one process.
      await cp(join(root, 'raw'), join(root, 'gorgon'), { recursive: true });
      if (ctx.peers) await cp(join(root, 'raw'), join(root, 'nofsync'), { recursive: true });
      const spawnServer = async (name, args) => {
        const w = await ctx.spawnWorker(new URL('./workers/nntp-server.mjs', import.meta.url), { name: `nntp-${name}`, measured: true });
        workers.push(w);
        return { worker: w, port: await w.call('start', args, 120_000) };
      };
      const client = await ctx.spawnWorker(new URL('./workers/nntp-client.mjs', import.meta.url), { name: 'nntp-client' });
      workers.push(client);
      /** @type {Record<string, { worker?: any, port: number }>} */
      const servers = {
        gorgon: await spawnServer('gorgon', { kind: 'gorgon', dir: join(root, 'gorgon') }),
        baseline: await spawnServer('baseline', { kind: 'baseline', dir: join(root, 'raw') }),
      };
      if (ctx.peers) {
        servers['gorgon-nofsync'] = await spawnServer('gorgon-nofsync', { kind: 'gorgon', dir: join(root, 'nofsync'), fsync: false });
        inn = await startInn({ groups: [GROUP, 'bench.stream'], log: ctx.log, spawnProcess: ctx.spawnProcess });
        if (inn.port) {
          ctx.log(`loading the same ${ARTICLES} articles into INN (TAKETHIS)`);
          await client.call('feed', { port: inn.port, count: ARTICLES }, 600_000);
          servers.inn = { port: inn.port };
        }
      }
      const cpuOf = async (s) => (s === 'inn' ? treeCpuMicros(inn.pid) : await servers[s].worker.call('cpu'));
      let streamRound = 0;
      const withCpu = (ops, fn) => async (subject) => {
        const before = await cpuOf(subject);
        const value = await fn(subject);
        // INN's nnrpd exits when its connection closes: let innd reap it so its time is counted.
        if (subject === 'inn') await sleep(150);
        return { value, cpu: ((await cpuOf(subject)) - before) / ops };
      };
      const reader = (s) => s === 'inn';
      const article = (pipelined) =>
        withCpu(
          FETCH,
          async (s) =>
            (await client.call('article', { port: servers[s].port, group: GROUP, count: FETCH, pipelined, modeReader: reader(s) }, 120_000))
              .rate,
        );
      const over = withCpu(
        1,
        async (s) =>
          (await client.call('over', { port: servers[s].port, group: GROUP, count: ARTICLES, modeReader: reader(s) }, 120_000)).ms,
      );
      const post = withCpu(
        POSTS,
        async (s) =>
          (
            await client.call(
              'post',
              { port: servers[s].port, count: POSTS, connections: POST_CONNECTIONS, group: 'bench.stream', modeReader: reader(s) },
              240_000,
            )
          ).rate,
      );
      const takethis = withCpu(
        STREAM,
        async (s) =>
          (
            await client.call(
              'takethis',
              { port: servers[s].port, count: STREAM, prefix: `${s}${streamRound++}`, group: 'bench.stream' },
              240_000,
            )
          ).rate,
      );
      // metric, unit, measure, target vs raw, [target vs INN, Gorgon subject vs INN][]
      const measures = [
        ['article-lockstep', 'articles/s', article(false), { op: '>=', ratio: 0.8 }, [[{ op: '>=', ratio: 1 }, 'gorgon', '']]],
        ['article-pipelined', 'articles/s', article(true), { op: '>=', ratio: 0.8 }, [[{ op: '>=', ratio: 1 }, 'gorgon', '']]],
        ['over-10k', 'ms', over, { op: '<=', ratio: 1.25 }, [[{ op: '<=', ratio: 0.1 }, 'gorgon', '']]],
        [
          'post',
          'articles/s',
          post,
          { op: '>=', ratio: 0.8 },
          [
            [{ op: '>=', ratio: 1 }, 'gorgon-nofsync', ''],
            [{ op: '>=', ratio: 1 }, 'gorgon', '-fsync'],
          ],
        ],
        [
          'takethis',
          'articles/s',
          takethis,
          { op: '>=', ratio: 0.5 },
          [
            [{ op: '>=', ratio: 1 }, 'gorgon-nofsync', ''],
            [{ op: '>=', ratio: 1 }, 'gorgon', '-fsync'],
          ],
        ],
      ];
      const rows = [];
      for (const [metric, unit, measure, target, peerRows] of measures) {
        if (!ctx.wants(metric)) continue;
        for (const s of Object.keys(servers)) await measure(s); // warm-up
        ctx.log(metric);
        rows.push(row(metric, unit, await alternateMany({ rounds: ctx.rounds ?? 3, log: ctx.log, measure }), target, 'raw-Node responder'));
        if (!ctx.peers) continue;
        for (const [peerTarget, subject, suffix] of peerRows) {
          const name = `${metric}${suffix}-vs-inn`;
          if (!servers.inn) {
            rows.push({ metric: name, skipped: inn?.reason ?? 'INN not started', target: peerTarget });
            continue;
          }
          ctx.log(`${name} (Gorgon ${subject === 'gorgon' ? 'fsync on, its default' : 'fsync off, as INN'})`);
          const paired = await alternateMany({
            rounds: ctx.rounds ?? 3,
            log: ctx.log,
            measure: (s) => measure(s === 'baseline' ? 'inn' : subject),
          });
          rows.push(
            row(name, unit, paired, peerTarget, `${inn.version} (Gorgon ${subject === 'gorgon' ? 'fsync on' : 'fsync off'}, INN no fsync)`),
          );
        }
      }
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      if (ctx.wants('idle')) {
        const idleRows = await idle(ctx, join(root, 'gorgon'));
        rows.push(...idleRows);
        const rss = idleRows.find((r) => r.metric === 'idle-rss');
        if (ctx.peers && servers.inn && rss) rows.push(await innIdle(ctx, inn, rss.figure));
      }
      return rows;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await inn?.stop();
      await rm(root, { recursive: true, force: true });
    }
  },
};

/** A row from paired rounds of `{ value, cpu }`, the server CPU per operation in the notes. */
function row(metric, unit, paired, target, against) {
  const v = paired.value;
  const c = paired.cpu;
  return {
    metric,
    unit,
    figure: v.figure,
    baseline: v.baselineFigure,
    ratio: v.ratio,
    target,
    notes: [
      `against ${against}: per-round ratios ${v.ratios.map((r) => r.toFixed(2)).join(' ')}`,
      `server CPU per op: ${median(c.gorgon).toFixed(1)} µs vs ${median(c.baseline).toFixed(1)} µs, ratio ${c.ratio.toFixed(2)}`,
    ],
  };
}

/**
 * INN's memory per idle reader against Gorgon's per idle connection (the idle-rss row's
 * figure): INN_IDLE_READERS connections after MODE READER (one nnrpd each, so far fewer than
 * Gorgon's 10,000), the growth of the proportional set size (PSS) of innd and its children,
 * per connection. One measurement, not paired rounds: the two differ by three orders of
 * magnitude.
 */
async function innIdle(ctx, inn, gorgonPerConn) {
  const client = await ctx.spawnWorker(new URL('./workers/nntp-client.mjs', import.meta.url), { name: 'nntp-inn-idle-client' });
  try {
    const before = await innMemory(inn.pid);
    await client.call('openReaders', { port: inn.port, count: INN_IDLE_READERS }, 300_000);
    await sleep(500);
    const after = await innMemory(inn.pid);
    await client.call('closeReaders', undefined, 60_000);
    const perConn = (after.pss - before.pss) / INN_IDLE_READERS;
    return {
      metric: 'idle-vs-inn',
      unit: 'B/conn',
      figure: gorgonPerConn,
      baseline: perConn,
      ratio: gorgonPerConn / perConn,
      target: { op: '<=', ratio: 1 },
      notes: [
        `Gorgon: the idle-rss row (10,000 connections); INN: ${INN_IDLE_READERS} idle readers (${after.readers - before.readers} nnrpd processes), growth of the PSS of innd and its children per connection`,
      ],
    };
  } finally {
    await client.stop();
  }
}

/** Idle connections: server memory per connection, each subject in a fresh --expose-gc worker. */
async function idle(ctx, root) {
  const client = await ctx.spawnWorker(new URL('./workers/idle-client.mjs', import.meta.url), { name: 'nntp-idle-client' });
  try {
    const paired = await alternateMany({
      rounds: ctx.rounds ?? 3,
      log: ctx.log,
      measure: async (subject) => {
        const server = await ctx.spawnWorker(new URL('./workers/nntp-server.mjs', import.meta.url), {
          name: `nntp-idle-${subject}`,
          execArgv: ['--expose-gc'],
          measured: true,
        });
        try {
          const port = await server.call('start', { kind: subject, dir: root }, 120_000);
          return await measureIdleConnections(server, client, port, IDLE_CONNECTIONS);
        } finally {
          await client.call('closeAll', undefined, 60_000);
          await server.stop();
        }
      },
    });
    return idleMemoryRows(paired, 'idle NNTP connection');
  } finally {
    await client.stop();
  }
}
