import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = '/usr/lib/news/bin';

/** Why INN cannot run here, or undefined when it can (inn2 installed, root to become `news`). */
export function innUnavailable(): string | undefined {
  if (!existsSync(join(BIN, 'innd'))) return 'inn2 is not installed (scripts/install-clients.sh installs it)';
  if (process.getuid?.() !== 0) return 'starting innd as user news needs root';
  if (!existsSync('/etc/news/inn.conf')) return '/etc/news/inn.conf is missing (inn2 half-installed)';
  return undefined;
}

/** A private INN instance on a loopback port. */
export interface InnPeer {
  readonly port: number;
  readonly dir: string;
  readonly pathHost: string;
  /** Runs an INN tool as `news` with this instance's INNCONF. */
  tool(name: string, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface InnOptions {
  port: number;
  groups: readonly string[];
  /** newsfeeds lines added after ME (an outgoing feed); innfeed.conf peers to match. */
  newsfeeds?: string;
  innfeed?: string;
}

const asNews = (innconf: string, cmd: string, args: string[], cwd?: string): Promise<{ stdout: string }> =>
  run('setpriv', ['--reuid=news', '--regid=news', '--init-groups', 'env', `INNCONF=${innconf}`, cmd, ...args], { cwd, timeout: 20_000 });

/**
 * Starts innd as user `news` in a temporary tree (INTEROP.md's recipe): its own inn.conf with
 * every path in the tree, `port`, bindaddress 127.0.0.1, pathhost `inn.test`, artcutoff 0, nnrpdloadlimit 0;
 * an active file with `groups`; an empty history made by makedbz. Loopback may feed it (the
 * stock incoming.conf's `peer ME`) and read from it (readers.conf's localhost access).
 */
export async function startInn(options: InnOptions): Promise<InnPeer> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-inn-'));
  const etc = join(dir, 'etc');
  await cp('/etc/news', etc, { recursive: true });
  const paths: Record<string, string> = {
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
  await mkdir(join(dir, 'spool/innfeed'), { recursive: true });
  let conf = await readFile(join(etc, 'inn.conf'), 'utf8');
  const set = (key: string, value: string): void => {
    const re = new RegExp(`^#?\\s*${key}:.*$`, 'm');
    conf = re.test(conf) ? conf.replace(re, `${key}: ${value}`) : `${conf}\n${key}: ${value}\n`;
  };
  for (const [key, rel] of Object.entries(paths)) set(key, join(dir, rel));
  set('port', String(options.port));
  set('bindaddress', '127.0.0.1');
  set('pathhost', 'inn.test');
  set('artcutoff', '0');
  set('domain', 'localdomain');
  // nnrpd refuses readers ("400 load at N, try later") above load 16 by default, which this
  // shared machine reaches while other tests run.
  set('nnrpdloadlimit', '0');
  await writeFile(join(etc, 'inn.conf'), conf);
  const active = [
    'control 0000000000 0000000001 n',
    'control.cancel 0000000000 0000000001 n',
    'junk 0000000000 0000000001 n',
    ...options.groups.map((g) => `${g} 0000000000 0000000001 y`),
  ];
  await writeFile(join(dir, 'db/active'), `${active.join('\n')}\n`);
  await writeFile(join(dir, 'db/active.times'), '');
  await writeFile(join(dir, 'db/history'), '');
  await writeFile(join(dir, 'db/newsgroups'), `${options.groups.map((g) => `${g}\ttest group`).join('\n')}\n`);
  if (options.newsfeeds) await writeFile(join(etc, 'newsfeeds'), `ME:!*/!local::\n${options.newsfeeds}\n`);
  if (options.innfeed) await writeFile(join(etc, 'innfeed.conf'), options.innfeed);
  await run('chown', ['-R', 'news:news', dir]);
  const innconf = join(etc, 'inn.conf');
  await asNews(innconf, join(BIN, 'makedbz'), ['-i', '-o'], join(dir, 'db'));
  const child: ChildProcess = spawn(
    'setpriv',
    ['--reuid=news', '--regid=news', '--init-groups', 'env', `INNCONF=${innconf}`, join(BIN, 'innd'), '-f'],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const deadline = Date.now() + 15_000;
  while (!(await listening(options.port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`innd did not start on port ${options.port}: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port: options.port,
    dir,
    pathHost: 'inn.test',
    tool: async (name, ...args) => (await asNews(innconf, join(BIN, name), args, dir)).stdout,
    async stop() {
      await asNews(innconf, join(BIN, 'ctlinnd'), ['-t', '5', 'shutdown', 'test done']).catch(() => child.kill('SIGTERM'));
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      // innfeed (started by innd for an outgoing feed) exits on its own when innd closes its
      // input; if not, end it by the pid it wrote.
      const pid = Number(await readFile(join(dir, 'run/innfeed.pid'), 'utf8').catch(() => ''));
      if (Number.isInteger(pid) && pid > 1) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
