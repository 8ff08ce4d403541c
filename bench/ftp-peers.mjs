// The --peers side of the `ftp` benchmark: Debian's vsftpd and python3-pyftpdlib, run in the
// foreground on free loopback ports with private settings, serving the benchmark's root to
// anonymous users (read-only). Installed with apt-get when missing (no prompts, no services).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './lib/stats.mjs';

const VSFTPD = '/usr/sbin/vsftpd';
const PYTHON = '/usr/bin/python3';

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

function installed(pkg) {
  return spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg]).stdout?.toString().includes('install ok installed');
}

function install(pkg, log) {
  if (installed(pkg)) return undefined;
  if (process.getuid?.() !== 0) return `${pkg} is not installed and this is not root`;
  log(`installing ${pkg} with apt-get`);
  const policy = '/usr/sbin/policy-rc.d';
  const madePolicy = !existsSync(policy);
  // Keep the package scripts from starting a system FTP server on port 21.
  if (madePolicy) spawnSync('sh', ['-c', `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod +x ${policy}`]);
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  if (madePolicy) spawnSync('rm', ['-f', policy]);
  return r.status === 0 && installed(pkg) ? undefined : `apt-get install ${pkg} failed: ${r.stderr?.toString().split('\n')[0]}`;
}

async function waitForGreeting(port, child, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('220'));
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

function stopper(child, dir) {
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 2000);
        child.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}

/** vsftpd 3 in the foreground, anonymous read-only on `root`. */
export async function startVsftpd({ root, log }) {
  const problem = install('vsftpd', log);
  if (problem) return { reason: problem, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-bench-vsftpd-'));
  await mkdir(join(dir, 'empty'));
  const port = await freePort();
  const conf = join(dir, 'vsftpd.conf');
  await writeFile(
    conf,
    [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=YES',
      `anon_root=${root}`,
      'no_anon_password=YES',
      'local_enable=NO',
      'write_enable=NO',
      'pasv_enable=YES',
      'seccomp_sandbox=NO',
      `secure_chroot_dir=${join(dir, 'empty')}`,
      'allow_writeable_chroot=YES',
      'xferlog_enable=NO',
      'max_clients=0',
      'max_per_ip=0',
      '',
    ].join('\n'),
  );
  const child = spawn(VSFTPD, [conf], { stdio: 'ignore' });
  if (!(await waitForGreeting(port, child))) {
    await stopper(child, dir)();
    return { reason: 'vsftpd did not start', stop: async () => {} };
  }
  const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'vsftpd']).stdout.toString();
  return { port, version, stop: stopper(child, dir) };
}

/** pyftpdlib's stand-alone anonymous server (python3 -m pyftpdlib) on `root`. */
export async function startPyftpdlib({ root, log }) {
  const problem = install('python3-pyftpdlib', log);
  if (problem) return { reason: problem, stop: async () => {} };
  const port = await freePort();
  const child = spawn(PYTHON, ['-m', 'pyftpdlib', '-i', '127.0.0.1', '-p', String(port), '-d', root], { stdio: 'ignore' });
  if (!(await waitForGreeting(port, child))) {
    await stopper(child)();
    return { reason: 'pyftpdlib did not start', stop: async () => {} };
  }
  const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'python3-pyftpdlib']).stdout.toString();
  return { port, version, stop: stopper(child) };
}
