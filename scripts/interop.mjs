#!/usr/bin/env node
// `pnpm interop`: starts the Gorgon suite with demo data on free ports (the built CLI), runs
// `gorgon interop` against every protocol it serves, and writes the matrix into docs/interop.md
// (between the matrix markers; the rest of the page is hand-written). Exit status 1 when a cell
// failed (the page is written all the same).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'packages/cli/dist/main.js');
const page = join(root, 'docs/interop.md');
const START = '<!-- matrix:start (written by pnpm interop) -->';
const END = '<!-- matrix:end -->';

if (!existsSync(main)) {
  console.error(`interop: ${main} is missing; run pnpm build first.`);
  process.exit(1);
}

/** `gorgon serve --demo --ephemeral-ports` in a temporary directory; resolves with each daemon's port. */
async function startSuite(dir) {
  const child = spawn(
    process.execPath,
    [main, 'serve', '--demo', '--ephemeral-ports', '--data', join(dir, 'data'), '--log-format', 'json'],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const ports = {};
  let log = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the suite did not start within 30 s:\n${log}`)), 30_000);
    let partial = '';
    child.stderr.on('data', (chunk) => {
      log += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const record = JSON.parse(line);
        if (record.event === 'started') ports[record.daemon] = Number(record.address.split(':').pop());
        if (record.event === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the suite exited (${code}) before it was ready:\n${log}`));
    });
  });
  return { child, ports };
}

const dir = await mkdtemp(join(tmpdir(), 'gorgon-pnpm-interop-'));
const { child, ports } = await startSuite(dir);
const at = (daemon) => `127.0.0.1:${ports[daemon]}`;
// The demo's accounts (demo / demo), its files and groups: README.md and the demo notes in the log.
const urls = [
  `ftp://demo:demo@${at('ftpd')}/pub/`,
  `ftps://demo:demo@${at('ftpsd')}/pub/`,
  `pop3://demo:demo@${at('pop3d')}/`,
  `pop3s://demo:demo@${at('pop3sd')}/`,
  `nntp://demo:demo@${at('nntpd')}/gorgon.test`,
  `nntps://demo:demo@${at('nntpsd')}/gorgon.test`,
  `http://${at('httpd')}/files/hello.txt`,
  `https://${at('httpsd')}/files/hello.txt`,
  `finger://${at('fingerd')}/alice`,
];
const flags = ['--insecure', '--write', '--upload-dir', 'incoming', '--post-group', 'gorgon.test'];
const args = ['interop', ...urls, ...flags, '--json', '--log-level', 'warn'];

let stdout = '';
let code;
try {
  const run = spawn(process.execPath, [main, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  run.stdout.on('data', (d) => (stdout += d));
  code = await new Promise((resolve) => run.once('exit', resolve));
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(dir, { recursive: true, force: true });
}
if (code !== 0 && code !== 1) {
  console.error(`interop: gorgon interop exited with ${code}`);
  process.exit(1);
}
const report = JSON.parse(stdout);
const { renderMarkdown } = await import(join(root, 'packages/cli/dist/interop/render.js'));

const versions = report.clients.map((c) => `| ${c.label} | ${c.version ?? '—'} | ${c.missing ?? c.bin} |`);
const section = [
  START,
  '',
  `Measured ${report.date.replace(/\.\d+Z$/, 'Z')} on \`${report.machine.host}\` (${report.machine.os}, Node ${report.machine.node}) with`,
  '`pnpm interop`, which started `gorgon serve --demo --ephemeral-ports` and ran:',
  '',
  '```sh',
  `gorgon interop ${urls.map((u) => u.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT')).join(' \\\n  ')} \\\n  ${flags.join(' ')}`,
  '```',
  '',
  '| client | version | program |',
  '|---|---|---|',
  ...versions,
  '',
  renderMarkdown(report)
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .trimEnd(),
  '',
  END,
].join('\n');

const text = await readFile(page, 'utf8').catch(() => `# Interop matrix\n\n${START}\n${END}\n`);
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < from) {
  console.error(`interop: ${page} has no matrix markers (${START} … ${END}).`);
  process.exit(1);
}
await writeFile(page, `${text.slice(0, from)}${section}${text.slice(to + END.length)}`);
const { pass, fail } = report.totals;
console.log(`interop: ${pass} passed, ${fail} failed, ${report.totals['n/a']} n/a; wrote ${page}`);
process.exit(fail > 0 ? 1 : 0);
