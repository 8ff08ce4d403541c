#!/usr/bin/env node
// `pnpm bench [name ...] [--peers] [--json] [--rounds N] [--strict]`
// Runs the registered benchmarks (all, or those named), each against its raw-Node baseline in
// the same run, and prints a table: benchmark, figure, baseline, ratio, target, PASS/MISS.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { killAllWorkers, setProfileDir, spawnProcess, spawnWorker } from './lib/proc.mjs';
import { sleep } from './lib/stats.mjs';
import { formatTable, targetText } from './lib/table.mjs';
import { registry } from './registry.mjs';

const USAGE = `usage: node bench/run.mjs [name ...] [options]
  name          benchmarks to run (default: all): ${Object.keys(registry).join(', ')}
  --peers       also compare with stock servers installed from apt (benchmarks that have them)
  --json        machine-readable results on stdout (progress still goes to stderr)
  --rounds N    paired rounds per benchmark (default: each benchmark's own, at least 3)
  --strict      exit with status 2 when a target is missed
  --profile     record CPU profiles of the server processes in bench/out/prof (node --cpu-prof)
  --only M,...  only these metrics of the named benchmarks (e.g. --only sessions,list)
  --list        list the benchmarks and exit`;

function parseArgs(argv) {
  const opts = { names: [], peers: false, json: false, rounds: undefined, strict: false, list: false, profile: false, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--peers') opts.peers = true;
    else if (a === '--json') opts.json = true;
    else if (a === '--strict') opts.strict = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--only')
      opts.only = new Set(
        String(argv[++i] ?? '')
          .split(',')
          .filter(Boolean),
      );
    else if (a === '--rounds') opts.rounds = Math.max(3, Number(argv[++i]));
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--') continue;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else opts.names.push(a);
  }
  for (const n of opts.names) if (!(n in registry)) throw new Error(`no benchmark named ${n}\n${USAGE}`);
  if (opts.rounds !== undefined && !Number.isInteger(opts.rounds)) throw new Error('--rounds takes an integer');
  return opts;
}

function check(result, target) {
  const ok = target.op === '>=' ? result.ratio >= target.ratio : result.ratio <= target.ratio;
  return ok ? 'PASS' : 'MISS';
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const names = opts.names.length ? opts.names : Object.keys(registry);
  if (opts.list) {
    for (const n of names) {
      const b = await load(n);
      console.log(`${n.padEnd(10)} ${targetText(b.target).padEnd(8)} ${b.description}`);
    }
    return 0;
  }
  const err = (msg) => process.stderr.write(`${msg}\n`);
  if (opts.profile) {
    const dir = fileURLToPath(new URL('./out/prof', import.meta.url));
    setProfileDir(dir);
    err(`CPU profiles of server processes go to ${dir}`);
  }
  const env = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  };
  err(`gorgon bench: ${env.date}, node ${env.node}, ${env.cpus} × ${env.cpuModel}`);
  const rows = [];
  for (const name of names) {
    const bench = await load(name);
    err(`\n== ${name}: ${bench.description}`);
    const ctx = {
      name,
      peers: opts.peers,
      json: opts.json,
      rounds: opts.rounds,
      root: fileURLToPath(new URL('..', import.meta.url)),
      log: (msg) => err(`   [${name}] ${msg}`),
      /** False for a metric left out by --only: the benchmark skips its work. */
      wants: (metric) => !opts.only || opts.only.has(metric),
      spawnWorker,
      spawnProcess,
      sleep,
    };
    const started = Date.now();
    let timer;
    try {
      const timeoutMs = bench.timeoutMs ?? 120_000;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
      });
      const out = await Promise.race([bench.run(ctx), timeout]);
      for (const r of Array.isArray(out) ? out : [out]) {
        const id = r.metric ? `${name}.${r.metric}` : name;
        const target = r.target ?? bench.target;
        if (r.skipped) rows.push({ id, status: 'SKIP', reason: r.skipped, target });
        else rows.push({ id, ...r, target, status: check(r, target) });
      }
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      rows.push({ id: name, status: 'ERROR', reason, target: bench.target });
      err(`   [${name}] ERROR ${e instanceof Error ? e.stack : e}`);
    } finally {
      clearTimeout(timer);
      killAllWorkers();
    }
    err(`   [${name}] done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (opts.json) console.log(JSON.stringify({ env, results: rows }, null, 2));
  else {
    console.log(`\n${formatTable(rows)}`);
    for (const r of rows) for (const note of r.notes ?? []) console.log(`  ${r.id}: ${note}`);
  }
  if (rows.some((r) => r.status === 'ERROR')) return 1;
  if (opts.strict && rows.some((r) => r.status === 'MISS')) return 2;
  return 0;
}

async function load(name) {
  const mod = await registry[name]();
  const bench = mod.default ?? mod;
  for (const key of ['name', 'description', 'target', 'run']) {
    if (!(key in bench)) throw new Error(`bench/${name}.mjs does not export ${key}`);
  }
  return bench;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAllWorkers();
    process.exit(130);
  });
}

main().then(
  (code) => {
    killAllWorkers();
    process.exit(code);
  },
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    killAllWorkers();
    process.exit(1);
  },
);
