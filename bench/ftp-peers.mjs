// The --peers side of the `ftp` benchmark: Debian's vsftpd, python3-pyftpdlib and pure-ftpd, run
// in the foreground on free loopback ports with private settings (command line and files in a
// temporary directory; no system service or config is touched), serving the benchmark's root:
// vsftpd and pyftpdlib to anonymous users (read-only), pure-ftpd to one virtual user (its
// anonymous mode needs a system `ftp` account). Installed with apt-get when missing (pure-ftpd
// unpacked from its .deb, see unpackPureFtpd; no
// prompts, no services started).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './lib/stats.mjs';

const VSFTPD = '/usr/sbin/vsftpd';
// pure-ftpd is unpacked into bench/out rather than installed: Debian's vsftpd and pure-ftpd
// both provide and conflict with `ftp-server`, so installing one removes the other, and the
// interop tests need vsftpd.
const PURE_DIR = fileURLToPath(new URL('./out/peers/pure-ftpd/', import.meta.url));
const PURE_FTPD = join(PURE_DIR, 'usr/sbin/pure-ftpd');
const PURE_PW = join(PURE_DIR, 'usr/bin/pure-pw');
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

/**
 * pure-ftpd's binaries unpacked from its .deb (apt-get download + dpkg-deb -x) into bench/out,
 * with its one library dependency outside the base system (libsodium23) installed by apt.
 */
function unpackPureFtpd(log) {
  if (existsSync(PURE_FTPD) && existsSync(PURE_PW)) return undefined;
  const problem = install('libsodium23', log);
  if (problem) return problem;
  const tmp = spawnSync('mktemp', ['-d']).stdout?.toString().trim();
  if (!tmp) return 'mktemp failed';
  log('unpacking pure-ftpd (apt-get download) into bench/out/peers');
  const dl = spawnSync('apt-get', ['download', '-qq', 'pure-ftpd'], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const deb = spawnSync('sh', ['-c', 'ls pure-ftpd_*.deb'], { cwd: tmp }).stdout?.toString().trim();
  if (dl.status !== 0 || !deb) return `apt-get download pure-ftpd failed: ${dl.stderr?.toString().split('\n')[0]}`;
  spawnSync('mkdir', ['-p', PURE_DIR]);
  const x = spawnSync('dpkg-deb', ['-x', join(tmp, deb), PURE_DIR]);
  spawnSync('rm', ['-rf', tmp]);
  return x.status === 0 && existsSync(PURE_FTPD) ? undefined : `dpkg-deb -x ${deb} failed`;
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

/**
 * pure-ftpd 1.0.50 in the foreground on `root` for one virtual user (`user`/`pass`, mapped to
 * uid/gid 65534, chrooted to `root`; `root/upload` must be writable by that uid), from a private
 * PureDB file. The password is stored as MD5-crypt rather than pure-pw's argon2id (t=255), so a
 * login costs about what Gorgon's in-memory users cost and sessions/s measures the server, not
 * the password hash. Listings are allowed up to 20,000 entries (`-L`; the default 2,000 would
 * cut the 10,000-file directory short). Uploads go to a temporary file renamed into place
 * (`-0`), the same work as Gorgon's. pure-ftpd never fsyncs an upload (its binary imports no
 * fsync or fdatasync), so it is compared with Gorgon's `fsync: false`.
 */
export async function startPureFtpd({ root, user, pass, log }) {
  const problem = unpackPureFtpd(log);
  if (problem) return { reason: problem, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-bench-pureftpd-'));
  const passwd = join(dir, 'pureftpd.passwd');
  const pdb = join(dir, 'pureftpd.pdb');
  const hash = spawnSync('openssl', ['passwd', '-1', '-salt', 'gorgonbn', pass]).stdout?.toString().trim();
  if (!hash?.startsWith('$1$')) {
    await rm(dir, { recursive: true, force: true });
    return { reason: 'openssl passwd -1 failed', stop: async () => {} };
  }
  await writeFile(passwd, `${user}:${hash}:65534:65534::${root}/./::::::::::::\n`, { mode: 0o600 });
  const mkdb = spawnSync(PURE_PW, ['mkdb', pdb, '-f', passwd]);
  if (mkdb.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    return { reason: `pure-pw mkdb failed: ${mkdb.stderr?.toString().trim()}`, stop: async () => {} };
  }
  const port = await freePort();
  // -0 (--notruncate): an upload goes to a temporary file renamed over the old one when complete,
  // as Gorgon's does; by default pure-ftpd truncates the old file and writes in place.
  const args = ['-S', `127.0.0.1,${port}`, '-l', `puredb:${pdb}`, '-E', '-A', '-H', '-0', '-L', '20000:8', '-c', '500', '-C', '500', '-I', '60'];
  const child = spawn(PURE_FTPD, args, { stdio: 'ignore' });
  if (!(await waitForGreeting(port, child))) {
    await stopper(child, dir)();
    return { reason: 'pure-ftpd did not start', stop: async () => {} };
  }
  const version = spawnSync(PURE_FTPD, ['--help'], { encoding: 'utf8' }).stdout?.match(/pure-ftpd v([\d.]+)/)?.[1] ?? 'unknown';
  return { port, version, pid: child.pid, stop: stopper(child, dir) };
}
