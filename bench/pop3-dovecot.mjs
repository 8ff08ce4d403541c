// The --peers side of the `pop3` benchmark: Debian's dovecot-pop3d, installed with apt-get when
// missing (no prompts, services not started), run in the foreground with a private config on a
// free loopback port, serving the same Maildir root with the benchmark's plain passwords.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './lib/stats.mjs';

const DOVECOT = '/usr/sbin/dovecot';

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

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux everywhere). */
const TICKS = 100;

/**
 * CPU time (µs) used so far by the process `pid` and all its descendants, live or reaped
 * (utime + stime + cutime + cstime from /proc, 10 ms resolution): Dovecot serves each login in
 * a forked `pop3` process, whose time ends up in the master's cutime once it is reaped.
 */
export function treeCpuMicros(pid) {
  const stats = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // After "pid (comm) ": state ppid … utime(12) stime(13) cutime(14) cstime(15), 0-based from state.
      stats.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited while we looked
    }
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop();
    ticks += stats.get(p)?.ticks ?? 0;
    for (const [child, s] of stats) if (s.ppid === p) todo.push(child);
  }
  return (ticks / TICKS) * 1e6;
}

function install(log) {
  if (existsSync(DOVECOT)) return undefined;
  if (process.getuid?.() !== 0) return 'dovecot-pop3d is not installed and this is not root';
  log('installing dovecot-pop3d with apt-get');
  const policy = '/usr/sbin/policy-rc.d';
  const madePolicy = !existsSync(policy);
  // Keep the package scripts from starting a system dovecot on port 110.
  if (madePolicy) spawnSync('sh', ['-c', `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod +x ${policy}`]);
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'dovecot-pop3d'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  if (madePolicy) spawnSync('rm', ['-f', policy]);
  return r.status === 0 && existsSync(DOVECOT) ? undefined : `apt-get install dovecot-pop3d failed: ${r.stderr?.toString().split('\n')[0]}`;
}

/**
 * @param {{ root: string, users: string[][], log: (m: string) => void, spawnProcess?: Function }} options
 *   `spawnProcess`: the runner's tracked spawn (the peer is killed with the workers).
 * @returns {Promise<{ port?: number, version?: string, pid?: number, reason?: string, stop: () => Promise<void> }>}
 */
export async function startDovecot({ root, users, log, spawnProcess }) {
  const problem = install(log);
  if (problem) return { reason: problem, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-bench-dovecot-'));
  const fail = async (reason) => {
    await rm(dir, { recursive: true, force: true });
    return { reason, stop: async () => {} };
  };
  const port = await freePort();
  await mkdir(join(dir, 'run'), { recursive: true });
  await writeFile(join(dir, 'passwd'), users.map(([u, p]) => `${u}:{PLAIN}${p}::::::\n`).join(''));
  // Dovecot's auth process runs as the unprivileged `dovecot` user: it must reach the file.
  await chmod(dir, 0o755);
  await chmod(join(dir, 'passwd'), 0o644);
  // Dovecot never serves mail as root: the Maildirs are handed to the `mail` user (Gorgon,
  // running as root, still reads and writes them).
  const uid = Number(spawnSync('id', ['-u', 'mail']).stdout?.toString().trim());
  const gid = Number(spawnSync('id', ['-g', 'mail']).stdout?.toString().trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return fail('no `mail` user to run Dovecot mail processes as');
  await chmod(root, 0o755);
  spawnSync('chown', ['-R', `${uid}:${gid}`, root]);
  const conf = `
base_dir = ${dir}/run
state_dir = ${dir}/state
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
log_path = ${dir}/dovecot.log
first_valid_uid = 1
# Stated, not changed: Dovecot's default, fsync only where a change must be durable (Gorgon
# likewise fsyncs only at UPDATE, and neither writes anything durable while serving RETR/STAT).
mail_fsync = optimized
mail_location = maildir:${root}/%u
pop3_uidl_format = %f
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = uid=mail gid=mail home=${root}/%u
}
service pop3-login {
  inet_listener pop3 {
    port = ${port}
  }
  inet_listener pop3s {
    port = 0
  }
  process_min_avail = 2
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
`;
  await writeFile(join(dir, 'dovecot.conf'), conf);
  const version = spawnSync(DOVECOT, ['--version']).stdout?.toString().trim() ?? '?';
  const child = (spawnProcess ?? spawn)(DOVECOT, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const up = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        r(d.toString().startsWith('+OK'));
      });
      s.once('error', () => r(false));
    });
    if (up) {
      log(`Dovecot ${version} on 127.0.0.1:${port}`);
      return { port, version, pid: child.pid, stop };
    }
    await sleep(100);
  }
  const logText = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '');
  await stop();
  return {
    reason: `dovecot did not start: ${(stderr || logText).split('\n').find((l) => /error|fatal/i.test(l)) ?? 'no reason logged'}`,
    stop: async () => {},
  };
}
