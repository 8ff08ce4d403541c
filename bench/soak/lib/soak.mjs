// The chaos soak (issue 13): every protocol under load while the server is SIGKILLed again
// and again, then the invariants. `runSoak(options)` returns the report; bench/soak/run.mjs is
// the command line, test/soak/soak.test.ts runs a short one in CI.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../../packages/core/dist/index.js';
import { DiskNewsStore } from '../../../packages/nntp/dist/index.js';
import { FtpLedger, ftpCheck, ftpClient } from './ftp.mjs';
import { sampleMetrics, summarize } from './memory.mjs';
import { GROUP, NntpLedger, nntpCheck, nntpClient } from './nntp.mjs';
import { deliverer, Pop3Ledger, pop3Check, pop3Client, pop3Setup, pop3TouchAll } from './pop3.mjs';
import { Unit } from './unit.mjs';
import { sleep, World } from './world.mjs';

/** Defaults of the full soak (`pnpm soak`). */
export const DEFAULTS = {
  kills: 1000,
  /** Seconds of the memory phase: one long-lived `gorgon serve` under the same load. */
  seconds: 180,
  seed: undefined,
  /** `daemons`: pop3d, ftpd and nntpd, each killed on its own; `serve`: one process, all protocols. */
  mode: 'daemons',
  /** Chance that an operation's connection is reset (SO_LINGER 0) in the middle. */
  reset: 0.1,
  /** Full checks every this many kills of a unit (while it is down). */
  checkEvery: 10,
  /** Chance that a kill waits for a transfer in flight, then lands 0-8 ms into it. */
  aimed: 0.7,
  /** Longest a life lasts when the kill is not aimed (uniform from 0). */
  maxUptimeMs: 500,
  /** The kill phase stops here even if fewer kills were made. */
  maxMinutes: 12,
  keep: false,
  log: () => undefined,
};

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function setup(dir) {
  const hash = await hashPassword('soak');
  const users = join(dir, 'users.json');
  await writeFile(
    users,
    JSON.stringify({
      users: [
        { name: 'soak', password: hash, ftp: { perms: 'elradfmwMT' } },
        ...['u0', 'u1', 'u2', 'u3'].map((name) => ({ name, password: hash })),
      ],
    }),
  );
  const paths = {
    users,
    maildirs: join(dir, 'maildirs'),
    ftpRoot: join(dir, 'ftp'),
    spool: join(dir, 'spool'),
    config: join(dir, 'gorgon.yaml'),
  };
  await pop3Setup(paths.maildirs);
  await mkdir(paths.ftpRoot, { recursive: true });
  const store = await DiskNewsStore.open(paths.spool);
  await store.createGroup(GROUP);
  await store.close();
  return paths;
}

function units(mode, paths, ports, dir) {
  const pop3 = ['--port', String(ports.pop3), '--maildirs', paths.maildirs, '--users', paths.users];
  const ftp = ['--port', String(ports.ftp), '--root', paths.ftpRoot, '--users', paths.users];
  const nntp = ['--port', String(ports.nntp), '--spool', paths.spool, '--anonymous-post', 'soak.*', '--path-host', 'soak-server'];
  if (mode === 'serve') return [new Unit('serve', ['pop3', 'ftp', 'nntp'], ['serve', '--config', paths.config], dir)];
  return [
    new Unit('pop3d', ['pop3'], ['pop3d', ...pop3], dir),
    new Unit('ftpd', ['ftp'], ['ftpd', ...ftp], dir),
    new Unit('nntpd', ['nntp'], ['nntpd', ...nntp], dir),
  ];
}

async function writeConfig(paths, ports) {
  const config = {
    log: { level: 'info' },
    admin: { port: 0 },
    pop3: { port: ports.pop3, maildirs: paths.maildirs, users: paths.users },
    ftp: { port: ports.ftp, root: paths.ftpRoot, users: paths.users },
    nntp: { port: ports.nntp, spool: paths.spool, anonymousPost: 'soak.*', pathHost: 'soak-server' },
  };
  await writeFile(paths.config, JSON.stringify(config, null, 2));
}

/** Waits until nothing is in flight for `protocols`, at most `ms`. */
async function settle(world, protocols, ms = 3000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && protocols.some((p) => world.inflight[p] > 0)) await sleep(5);
  // Replies already read but not yet handled are handled within a turn or two of the loop.
  await sleep(20);
}

export async function runSoak(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const seed = o.seed ?? Math.floor(Math.random() * 1e9);
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-soak-'));
  const paths = await setup(dir);
  const ports = { pop3: await freePort(), ftp: await freePort(), nntp: await freePort() };
  await writeConfig(paths, ports);
  const world = new World({ seed, dir, ports, resetProbability: o.reset });
  const ftp = new FtpLedger();
  const pop3 = new Pop3Ledger(paths.maildirs);
  const nntp = new NntpLedger(paths.spool);
  const checks = { full: 0, tempAfterSweep: 0 };

  const checkProtocols = async (protocols, final) => {
    checks.full++;
    if (protocols.includes('ftp')) await ftpCheck(world, ftp, paths.ftpRoot, { livePid: final ? undefined : null, contents: true });
    if (protocols.includes('pop3')) await pop3Check(world, pop3, { final });
    if (protocols.includes('nntp')) await nntpCheck(world, nntp, { final });
  };

  const clients = [
    ...Array.from({ length: 3 }, () => ftpClient(world, ftp)),
    ...Array.from({ length: 2 }, () => pop3Client(world, pop3)),
    deliverer(world, pop3),
    nntpClient(world, nntp, 'poster'),
    nntpClient(world, nntp, 'poster'),
    nntpClient(world, nntp, 'streamer'),
    nntpClient(world, nntp, 'reader'),
  ];
  const failed = Promise.all(clients).catch((err) => {
    world.violation('driver-error', String(err?.stack ?? err));
    world.stopping = true;
  });

  // After a start: once the sweep of upload temporary files is logged, none of a dead process may be left.
  const afterStart = async (unit) => {
    if (!unit.protocols.includes('ftp')) return;
    const sweep = await unit.waitFor((r) => r.event === 'upload-sweep', 10_000).catch(() => undefined);
    if (!sweep) return world.violation('ftp-no-sweep', `${unit.name} life ${unit.lives}: no upload-sweep line`);
    checks.tempAfterSweep++;
    await ftpCheck(world, ftp, paths.ftpRoot, { livePid: unit.pid, contents: false });
  };

  // The kill phase: each unit lives, dies by SIGKILL, is checked while down, lives again.
  const killDeadline = started + o.maxMinutes * 60_000;
  const aimedKills = { aimed: 0, uniform: 0 };
  const lifeOf = async (unit) => {
    while (world.kills < o.kills && Date.now() < killDeadline && !world.stopping) {
      await unit.start();
      await afterStart(unit);
      const aimed = world.chance(o.aimed);
      if (aimed) {
        const until = Date.now() + 1500;
        while (Date.now() < until && !unit.protocols.some((p) => world.inflight[p] > 0)) await sleep(2);
        await sleep(world.between(0, 8));
      } else await sleep(world.between(0, o.maxUptimeMs));
      if (world.kills >= o.kills) break;
      aimedKills[aimed ? 'aimed' : 'uniform']++;
      // Counted before the await: the three units run concurrently, and counting after the
      // kill let two of them pass the check above at N-1 and make N+1 kills.
      world.kills++;
      await unit.kill();
      if (world.kills % 50 === 0)
        o.log(`${world.kills} kills, ${world.violations.length} violations, ${Math.round((Date.now() - started) / 1000)} s`);
      await settle(world, unit.protocols);
      if (unit.kills % o.checkEvery === 0) await checkProtocols(unit.protocols, false);
    }
    if (unit.alive) await unit.kill();
  };
  const all = units(o.mode, paths, ports, dir);
  await Promise.all(all.map(lifeOf));
  const killPhaseMs = Date.now() - started;
  o.log(`kill phase done: ${world.kills} kills in ${Math.round(killPhaseMs / 1000)} s; checking with everything down`);
  await settle(world, ['ftp', 'pop3', 'nntp']);
  await checkProtocols(['ftp', 'pop3', 'nntp'], false);

  // The memory phase: one long-lived `gorgon serve` under the same load, /metrics sampled;
  // NNTP offers only articles it already has (the spool's memory grows with its articles).
  nntp.grow = false;
  const articlesBefore = nntp.acked.length;
  const serve = new Unit('serve', ['pop3', 'ftp', 'nntp'], ['serve', '--config', paths.config], dir);
  await serve.start();
  await afterStart(serve);
  o.log(`memory phase: ${o.seconds} s of gorgon serve (pid ${serve.pid})`);
  const samples = [];
  const memoryUntil = Date.now() + o.seconds * 1000;
  while (Date.now() < memoryUntil && !world.stopping) {
    samples.push(await sampleMetrics(serve.adminPort).catch(() => ({ t: Date.now() })));
    await sleep(Math.min(2000, Math.max(250, (o.seconds * 1000) / 60)));
  }
  samples.push(await sampleMetrics(serve.adminPort).catch(() => ({ t: Date.now() })));

  // The end: the clients stop, one login per Maildir, a graceful stop, the final checks.
  world.stopping = true;
  await failed;
  await pop3TouchAll(world);
  const stopCode = await serve.stop();
  if (stopCode !== 0) world.violation('serve-stop', `gorgon serve exited ${stopCode} on SIGTERM`);
  await checkProtocols(['ftp', 'pop3', 'nntp'], true);

  const warnings = [...all, serve].flatMap((u) => u.notable.filter((r) => r.level >= 40));
  const byKind = {};
  for (const v of world.violations) byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
  const warmupMs = Math.min(10_000, (o.seconds * 1000) / 5);
  const memory =
    samples.filter((s) => s.rss).length >= 2
      ? {
          rss: summarize(samples, 'rss', warmupMs),
          heapUsed: summarize(samples, 'heapUsed', warmupMs),
          heapTotal: summarize(samples, 'heapTotal', warmupMs),
          external: summarize(samples, 'external', warmupMs),
          native: summarize(samples, 'native', warmupMs),
          samples: samples.length,
          seconds: o.seconds,
        }
      : undefined;
  const report = {
    date: new Date(started).toISOString(),
    seed,
    mode: o.mode,
    kills: world.kills,
    killsByUnit: Object.fromEntries(all.map((u) => [u.name, u.kills])),
    kill: { ...aimedKills, resetProbability: o.reset },
    lives: all.reduce((n, u) => n + u.lives, 0) + serve.lives,
    startMs: medianOf(all.flatMap((u) => u.startMs)),
    killPhaseSeconds: Math.round(killPhaseMs / 1000),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    checks,
    ops: world.ops,
    ledger: {
      ftpNames: ftp.stor.size + ftp.appe.size,
      ftpMaxTempFilesSeen: ftp.maxTempSeen,
      pop3Delivered: pop3.messages.size,
      pop3Deleted: [...pop3.messages.values()].filter((m) => m.state === 'deleted').length,
      pop3MaxLeftoversSeen: pop3.maxLeftovers,
      nntpAcknowledged: nntp.acked.length,
      nntpNumbersSeen: nntp.numbers.size,
    },
    sweeps: {
      uploadRemoved: [...all, serve]
        .flatMap((u) => u.notable)
        .filter((r) => r.event === 'upload-sweep')
        .reduce((n, r) => n + (r.removed ?? 0), 0),
      maildirRemoved: [...all, serve]
        .flatMap((u) => u.notable)
        .filter((r) => r.event === 'maildir-sweep')
        .reduce((n, r) => n + (r.removed?.length ?? 0), 0),
      articlesRefusedLogged: [...all, serve].flatMap((u) => u.notable).filter((r) => r.event === 'article-refused').length,
    },
    memory: memory && { ...memory, nntpArticlesAdded: nntp.acked.length - articlesBefore },
    memorySamples: samples,
    warnings: warnings.length,
    warningEvents: countBy(warnings.map((r) => r.event ?? r.msg)),
    violations: world.violations.length,
    violationsByKind: byKind,
    violationDetails: world.violations.slice(0, 50),
    dir: o.keep ? dir : undefined,
  };
  if (!o.keep) await rm(dir, { recursive: true, force: true });
  return report;
}

function medianOf(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function countBy(xs) {
  const out = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
