// nntp: Gorgon's NNTP server against a raw-Node NNTP responder (no framework) on the same spool,
// measured alternately in the same run:
//   article-lockstep   ARTICLE 1..N one at a time (articles/s)
//   article-pipelined  the same N ARTICLEs written at once (articles/s)
//   over-10k           OVER 1-10000 of a 10,000-article group (ms; lower is better)
//   takethis           MODE STREAM, N TAKETHIS written at once, answered 239 each (articles/s);
//                      Gorgon fsyncs the article, its directory, overview and history lines;
//                      the raw responder fsyncs one file per article
//   idle-rss/heap      10,000 open idle NNTP connections (greeted, silent): server memory each
// Servers and client are separate processes (bench/workers/nntp-*.mjs). Not measured yet:
// INN with --peers (see docs/nntp.md).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idleMemoryRows, measureIdleConnections } from './lib/idle-memory.mjs';
import { alternateMany } from './lib/rounds.mjs';
import { median } from './lib/stats.mjs';

const ARTICLES = 10_000;
const FETCH = 2_000;
const STREAM = 1_000;
const GROUP = 'bench.articles';
const IDLE_CONNECTIONS = 10_000;

/** A ~1.5 KiB article with a dot line. */
function article(i) {
  let body = '';
  for (let l = 0; body.length < 1300; l++)
    body += l % 9 === 4 ? `.line ${l} starts with a dot\r\n` : `line ${l} of article ${i}: ${'lorem ipsum '.repeat(3)}\r\n`;
  const head = `Path: bench!not-for-mail\r\nFrom: bench${i}@example.org\r\nNewsgroups: ${GROUP}\r\nSubject: article ${i}\r\nMessage-ID: <${i}@bench.example.org>\r\nDate: Sun, 06 Dec 2026 00:00:00 +0000\r\nXref: bench ${GROUP}:${i}\r\n`;
  return { data: `${head}\r\n${body}`, lines: body.split('\r\n').length - 1 };
}

/** Writes the spool files directly, in DiskNewsStore's layout (spool-files.ts). */
async function writeSpool(dir) {
  for (const d of [`articles/${GROUP}`, 'articles/bench.stream', 'overview', 'tmp']) await mkdir(join(dir, d), { recursive: true });
  let ov = '';
  let history = '';
  for (let i = 1; i <= ARTICLES; i++) {
    const { data, lines } = article(i);
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
  description: `NNTP: ARTICLE lock-step and pipelined (articles/s), OVER of ${ARTICLES.toLocaleString('en-US')} (ms), TAKETHIS acceptance (articles/s), against a raw-Node responder`,
  target: { op: '>=', ratio: 0.8 },
  timeoutMs: 600_000,
  /** @param {any} ctx */
  async run(ctx) {
    if (!existsSync(new URL('../packages/nntp/dist/index.js', import.meta.url)))
      return { skipped: '@gorgon/nntp is not built (run pnpm build)' };
    const root = await mkdtemp(join(tmpdir(), 'gorgon-bench-nntp-'));
    const workers = [];
    try {
      ctx.log(`writing a spool of ${ARTICLES} articles`);
      await writeSpool(root);
      const spawnServer = async (kind) => {
        const w = await ctx.spawnWorker(new URL('./workers/nntp-server.mjs', import.meta.url), { name: `nntp-${kind}`, measured: true });
        workers.push(w);
        return { worker: w, port: await w.call('start', { kind, dir: root }, 120_000) };
      };
      const client = await ctx.spawnWorker(new URL('./workers/nntp-client.mjs', import.meta.url), { name: 'nntp-client' });
      workers.push(client);
      const servers = { gorgon: await spawnServer('gorgon'), baseline: await spawnServer('baseline') };
      const cpuOf = (s) => servers[s].worker.call('cpu');
      let streamRound = 0;
      const withCpu = (ops, fn) => async (subject) => {
        const before = await cpuOf(subject);
        const value = await fn(subject);
        return { value, cpu: ((await cpuOf(subject)) - before) / ops };
      };
      const measures = [
        [
          'article-lockstep',
          'articles/s',
          { op: '>=', ratio: 0.8 },
          withCpu(
            FETCH,
            async (s) =>
              (await client.call('article', { port: servers[s].port, group: GROUP, count: FETCH, pipelined: false }, 120_000)).rate,
          ),
        ],
        [
          'article-pipelined',
          'articles/s',
          { op: '>=', ratio: 0.8 },
          withCpu(
            FETCH,
            async (s) =>
              (await client.call('article', { port: servers[s].port, group: GROUP, count: FETCH, pipelined: true }, 120_000)).rate,
          ),
        ],
        [
          'over-10k',
          'ms',
          { op: '<=', ratio: 1.25 },
          withCpu(1, async (s) => (await client.call('over', { port: servers[s].port, group: GROUP, count: ARTICLES }, 120_000)).ms),
        ],
        [
          'takethis',
          'articles/s',
          { op: '>=', ratio: 0.5 },
          withCpu(
            STREAM,
            async (s) =>
              (
                await client.call(
                  'takethis',
                  { port: servers[s].port, count: STREAM, prefix: `${s}${streamRound++}`, group: 'bench.stream' },
                  240_000,
                )
              ).rate,
          ),
        ],
      ];
      const rows = [];
      for (const [metric, unit, target, measure] of measures) {
        if (!ctx.wants(metric)) continue;
        for (const s of ['gorgon', 'baseline']) await measure(s); // warm-up
        ctx.log(metric);
        const paired = await alternateMany({ rounds: ctx.rounds ?? 3, log: ctx.log, measure });
        const v = paired.value;
        const c = paired.cpu;
        rows.push({
          metric,
          unit,
          figure: v.figure,
          baseline: v.baselineFigure,
          ratio: v.ratio,
          target,
          notes: [
            `per-round ratios ${v.ratios.map((r) => r.toFixed(2)).join(' ')}`,
            `server CPU per op: ${median(c.gorgon).toFixed(1)} µs vs ${median(c.baseline).toFixed(1)} µs, ratio ${c.ratio.toFixed(2)}`,
          ],
        });
      }
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      if (ctx.wants('idle')) rows.push(...(await idle(ctx, root)));
      return rows;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await rm(root, { recursive: true, force: true });
    }
  },
};

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
