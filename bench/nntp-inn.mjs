// The --peers side of the `nntp` benchmark: Debian's INN 2.7 (`inn2`, installed by
// scripts/install-clients.sh), run as a private instance on a free loopback port with its own
// spool in a temporary directory (the recipe of /work/shared/INTEROP.md, as
// packages/nntp/test/inn-peer.ts does for the interop tests). No system service is touched.
//
// Settings changed from Debian's inn.conf, and why:
//   paths, port, bindaddress 127.0.0.1, pathhost, domain   a private instance
//   artcutoff 0          the benchmark's articles carry a fixed date
//   nicekids 0           nnrpd at the same priority as Gorgon (Debian: niced by 4)
//   nnrpdloadlimit 0     nnrpd refuses readers above load 16, which this shared machine reaches
// Everything else is Debian's default, notably: tradspool articles, tradindexed overview,
// nnrpdcheckart true, and no fsync per article (INN writes articles and overview without
// fsync; the history and active files are synced every `icdsynccount` = 10 articles).
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './lib/stats.mjs';

const run = promisify(execFile);
const BIN = '/usr/lib/news/bin';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function unavailable(log) {
  if (process.getuid?.() !== 0) return 'running innd as user news needs root';
  if (!existsSync(join(BIN, 'innd'))) {
    log('inn2 is missing: running scripts/install-clients.sh');
    spawnSync('bash', [new URL('../scripts/install-clients.sh', import.meta.url).pathname], { stdio: 'ignore', timeout: 600_000 });
  }
  if (!existsSync(join(BIN, 'innd'))) return 'inn2 is not installed (scripts/install-clients.sh installs it)';
  if (!existsSync('/etc/news/inn.conf')) return '/etc/news/inn.conf is missing (inn2 half-installed)';
  return undefined;
}

/**
 * Starts innd as `news` with `groups` (status y) in a fresh tree.
 * @returns {Promise<{ port?: number, pid?: number, version?: string, reason?: string, stop: () => Promise<void> }>}
 */
export async function startInn({ groups, log, spawnProcess }) {
  const problem = unavailable(log);
  if (problem) return { reason: problem, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-bench-inn-'));
  const etc = join(dir, 'etc');
  await cp('/etc/news', etc, { recursive: true });
  const paths = {
    patharchive: 'spool/archive',
    patharticles: 'spool/articles',
    pathdb: 'db',
    pathetc: 'etc',
    pathincoming: 'spool/incoming',
    pathlog: 'log',
    pathoutgoing: 'spool/outgoing',
    pathoverview: 'spool/overview',
    pathrun: 'run',
    pathspool: 'spool',
    pathtmp: 'spool/incoming/tmp',
    pathhttp: 'http',
  };
  for (const rel of Object.values(paths)) await mkdir(join(dir, rel), { recursive: true });
  let conf = await readFile(join(etc, 'inn.conf'), 'utf8');
  const set = (key, value) => {
    const re = new RegExp(`^#?\\s*${key}:.*$`, 'm');
    conf = re.test(conf) ? conf.replace(re, `${key}: ${value}`) : `${conf}\n${key}: ${value}\n`;
  };
  for (const [key, rel] of Object.entries(paths)) set(key, join(dir, rel));
  const port = await freePort();
  set('port', String(port));
  set('bindaddress', '127.0.0.1');
  set('pathhost', 'inn.bench');
  set('domain', 'localdomain');
  set('artcutoff', '0');
  set('nicekids', '0');
  set('nnrpdloadlimit', '0');
  await writeFile(join(etc, 'inn.conf'), conf);
  const active = ['control 0000000000 0000000001 n', 'control.cancel 0000000000 0000000001 n', 'junk 0000000000 0000000001 n'];
  for (const g of groups) active.push(`${g} 0000000000 0000000001 y`);
  await writeFile(join(dir, 'db/active'), `${active.join('\n')}\n`);
  await writeFile(join(dir, 'db/active.times'), '');
  await writeFile(join(dir, 'db/history'), '');
  await writeFile(join(dir, 'db/newsgroups'), groups.map((g) => `${g}\tbench group\n`).join(''));
  await run('chown', ['-R', 'news:news', dir]);
  const innconf = join(etc, 'inn.conf');
  const asNews = (cmd, args, cwd) =>
    run('setpriv', ['--reuid=news', '--regid=news', '--init-groups', 'env', `INNCONF=${innconf}`, cmd, ...args], { cwd, timeout: 30_000 });
  await asNews(join(BIN, 'makedbz'), ['-i', '-o'], join(dir, 'db'));
  const child = (spawnProcess ?? spawn)(
    'setpriv',
    ['--reuid=news', '--regid=news', '--init-groups', 'env', `INNCONF=${innconf}`, join(BIN, 'innd'), '-f'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (b) => (output += b.toString()));
  child.stderr.on('data', (b) => (output += b.toString()));
  const stop = async () => {
    await asNews(join(BIN, 'ctlinnd'), ['-t', '5', 'shutdown', 'bench done']).catch(() => child.kill('SIGTERM'));
    if (child.exitCode === null && child.signalCode === null) {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('200'));
      });
      s.once('error', () => resolve(false));
    });
    if (up) {
      const version = (await asNews(join(BIN, 'innconfval'), ['-v']).catch(() => ({ stdout: 'INN' }))).stdout.trim() || 'INN';
      log(`${version} on 127.0.0.1:${port} (innd pid ${child.pid})`);
      return { port, pid: child.pid, version, dir, stop };
    }
    await sleep(100);
  }
  await stop();
  return { reason: `innd did not start: ${output.split('\n').slice(0, 3).join(' ')}`, stop: async () => {} };
}

/**
 * Memory of INN's reader processes: the sum of the proportional set size (PSS: shared pages
 * divided among the processes sharing them) of every nnrpd under innd `pid`, and innd's own.
 */
export async function innMemory(pid) {
  const { readdir } = await import('node:fs/promises');
  let pss = 0;
  let readers = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(name) !== pid && ppid !== pid) continue;
      const rollup = await readFile(`/proc/${name}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
      if (Number(name) !== pid) readers++;
    } catch {
      // gone meanwhile
    }
  }
  return { pss, readers };
}
