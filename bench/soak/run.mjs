// pnpm soak [--kills N] [--seconds S] [--seed N] [--mode daemons|serve] [--reset P] [--json] [--out FILE] [--keep]
//
// The chaos soak of issue 13: drives FTP (STOR, APPE), POP3 (delivery, RETR, DELE + QUIT) and
// NNTP (POST, TAKETHIS, ARTICLE) with resets at random while SIGKILLing the server N times,
// restarting it each time, then checks the invariants (docs/operations.md, "Chaos soak").
// Exit status 1 when an invariant was violated. Uses the built packages: `pnpm soak` builds first.
import { writeFile } from 'node:fs/promises';
import { DEFAULTS, runSoak } from './lib/soak.mjs';

function parse(argv) {
  const o = {};
  const number = (flag, v) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--kills') o.kills = number(a, argv[++i]);
    else if (a === '--seconds') o.seconds = number(a, argv[++i]);
    else if (a === '--seed') o.seed = number(a, argv[++i]);
    else if (a === '--reset') o.reset = number(a, argv[++i]);
    else if (a === '--check-every') o.checkEvery = number(a, argv[++i]);
    else if (a === '--max-minutes') o.maxMinutes = number(a, argv[++i]);
    else if (a === '--mode') {
      o.mode = argv[++i];
      if (o.mode !== 'daemons' && o.mode !== 'serve') throw new Error('--mode is daemons or serve');
    } else if (a === '--help' || a === '-h') {
      console.log(
        `usage: node bench/soak/run.mjs [--kills ${DEFAULTS.kills}] [--seconds ${DEFAULTS.seconds}] [--seed N] [--mode daemons|serve] [--reset ${DEFAULTS.reset}] [--check-every ${DEFAULTS.checkEvery}] [--max-minutes ${DEFAULTS.maxMinutes}] [--json] [--keep]`,
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const mib = (b) => (b / 1048576).toFixed(1);

function print(r) {
  const lines = [];
  lines.push(
    `chaos soak ${r.date}, seed ${r.seed}, mode ${r.mode}: ${r.kills} SIGKILLs (${Object.entries(r.killsByUnit)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}; ${r.kill.aimed} aimed at a transfer, ${r.kill.uniform} uniform), ${r.lives} starts (median ${r.startMs} ms to ready), ${r.durationSeconds} s (kill phase ${r.killPhaseSeconds} s)`,
  );
  lines.push('operation            attempted  acknowledged  refused  unknown  reset');
  for (const [k, v] of Object.entries(r.ops))
    lines.push(
      `${k.padEnd(20)} ${String(v.attempted).padStart(9)} ${String(v.acknowledged).padStart(13)} ${String(v.refused).padStart(8)} ${String(v.unknown).padStart(8)} ${String(v.reset).padStart(6)}`,
    );
  lines.push(
    `checks: ${r.checks.full} full (while down, and the final one), ${r.checks.tempAfterSweep} temporary-file checks after a restart's sweep`,
  );
  lines.push(`ledger: ${JSON.stringify(r.ledger)}`);
  lines.push(
    `sweeps: ${r.sweeps.uploadRemoved} upload temporary files removed at restarts, ${r.sweeps.maildirRemoved} Maildir leftovers removed; ${r.sweeps.articlesRefusedLogged} article-refused log lines`,
  );
  if (r.memory) {
    const m = r.memory;
    lines.push(
      `memory (gorgon serve, ${m.seconds} s, ${m.samples} samples; medians of the first and last fifth after warm-up, and mid-run):`,
    );
    lines.push(
      `  RSS        ${mib(m.rss.start)} -> ${mib(m.rss.mid)} -> ${mib(m.rss.end)} MiB (max ${mib(m.rss.max)}; x${m.rss.growth.toFixed(2)}, second half x${m.rss.secondHalfGrowth.toFixed(2)})`,
    );
    lines.push(
      `  heap used  ${mib(m.heapUsed.start)} -> ${mib(m.heapUsed.mid)} -> ${mib(m.heapUsed.end)} MiB (max ${mib(m.heapUsed.max)}; x${m.heapUsed.growth.toFixed(2)})`,
    );
    lines.push(
      `  heap total ${mib(m.heapTotal.start)} -> ${mib(m.heapTotal.end)} MiB; external ${mib(m.external.start)} -> ${mib(m.external.end)} MiB`,
    );
  }
  lines.push(`warnings logged by the servers: ${r.warnings} ${JSON.stringify(r.warningEvents)}`);
  lines.push(`violations: ${r.violations} ${JSON.stringify(r.violationsByKind)}`);
  for (const v of r.violationDetails) lines.push(`  ${v.kind}: ${v.detail} (after kill ${v.atKill})`);
  if (r.dir) lines.push(`data kept in ${r.dir}`);
  return lines.join('\n');
}

let options;
try {
  options = parse(process.argv.slice(2));
} catch (err) {
  console.error(`soak: ${err.message}`);
  process.exit(2);
}
const report = await runSoak({ ...options, log: (line) => console.error(`soak: ${line}`) });
if (options.out) await writeFile(options.out, JSON.stringify(report, null, 2));
if (options.json) console.log(JSON.stringify(report, null, 2));
else console.log(print(report));
process.exit(report.violations > 0 ? 1 : 0);
