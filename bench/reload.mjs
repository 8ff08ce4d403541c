#!/usr/bin/env node
// `node bench/reload.mjs` (after `pnpm build`): connections per second against `gorgon serve
// --config` with no reload, then while SIGHUP applies a changed pop3 section every ~50 ms
// (each reload builds a new server and hands the bound socket over), then again without;
// counts connections that failed (refused or reset: should be 0) and the time from SIGHUP to
// the `reload` log line. Compare the phases of one run, side by side (the machine is noisy).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gorgon-bench-reload-'));
const PHASE_MS = Number(process.env.PHASE_MS ?? 5000);
const CLIENTS = 4;
mkdirSync(join(dir, 'mail'));
writeFileSync(join(dir, 'users.json'), '{"users":[]}');
const config = (delay) =>
  writeFileSync(join(dir, 'g.yaml'), `pop3:\n  port: 0\n  maildirs: mail\n  users: users.json\n  loginDelay: ${delay}\n`);
config(0);

const child = spawn(process.execPath, [main, 'serve', '--config', 'g.yaml', '--log-format', 'json'], {
  cwd: dir,
  stdio: ['ignore', 'ignore', 'pipe'],
});
let port;
let partial = '';
const reloadMs = [];
let sentAt = 0;
child.stderr.on('data', (chunk) => {
  partial += chunk;
  const lines = partial.split('\n');
  partial = lines.pop();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line);
    if (r.event === 'started' && port === undefined) port = Number(r.address.split(':').pop());
    if (r.event === 'reload') reloadMs.push(performance.now() - sentAt);
  }
});
while (port === undefined) await new Promise((r) => setTimeout(r, 20));

/** One connection: 'ok' once the greeting arrives, else the error code. */
const greet = () =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', (e) => resolve(e.code));
    s.on('data', () => {
      s.destroy();
      resolve('ok');
    });
  });

async function phase(name, reloading) {
  const end = performance.now() + PHASE_MS;
  let ok = 0;
  let failed = 0;
  let reloads = 0;
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < end) (await greet()) === 'ok' ? ok++ : failed++;
  });
  const hups = (async () => {
    while (reloading && performance.now() < end) {
      config(++reloads);
      const before = reloadMs.length;
      sentAt = performance.now();
      child.kill('SIGHUP');
      while (reloadMs.length === before) await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.all([...clients, hups]);
  return { phase: name, connectionsPerSecond: Math.round(ok / (PHASE_MS / 1000)), failed, reloads };
}

const results = [await phase('before', false), await phase('reloading', true), await phase('after', false)];
reloadMs.sort((a, b) => a - b);
const pick = (q) => reloadMs[Math.min(reloadMs.length - 1, Math.floor(reloadMs.length * q))]?.toFixed(1);
console.table(results);
console.log(`SIGHUP to 'reload' line: median ${pick(0.5)} ms, p95 ${pick(0.95)} ms over ${reloadMs.length} reloads`);
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
rmSync(dir, { recursive: true, force: true });
