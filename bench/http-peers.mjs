// The --peers side of the `http` benchmark: nginx and Apache httpd (mpm_event) from Debian,
// each run privately in the foreground with a generated minimal config on a free loopback port,
// its pid file, error log and temporary files in its own temporary directory, serving the same
// root as Gorgon. Both run as www-data when the benchmark runs as root (never as root), with
// access logs off (Gorgon's too: no logger), sendfile on, keep-alive unlimited.
//   nginx    worker_processes 1 (one event loop, as Gorgon), open_file_cache on (as Gorgon's cache)
//   apache2  mpm_event, one child process (ServerLimit 1) with 64 threads; apt-get installs it
//            when missing (policy-rc.d keeps the package from starting a system Apache on :80)
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeCpuMicros } from './pop3-dovecot.mjs';
import { sleep } from './lib/stats.mjs';

const NGINX = '/usr/sbin/nginx';
const APACHE = '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, what) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before listening`);
    const up = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await sleep(100);
  }
  throw new Error(`${what} did not listen on ${port}`);
}

/** The account peers run as when the benchmark is root: www-data (Debian's web server user). */
function runAs() {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('www-data:'));
  if (!line) return {};
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A private working directory the peer's user can write. */
async function workDir(name, ids) {
  const dir = await mkdtemp(join(tmpdir(), `gorgon-bench-${name}-`));
  chmodSync(dir, 0o755);
  if (ids.uid !== undefined) chownSync(dir, ids.uid, ids.gid);
  return dir;
}

function version(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n')[0]?.trim() ?? '';
}

/**
 * @typedef {object} Peer
 * @property {number} port
 * @property {string} version
 * @property {string} settings   one line: how it was configured
 * @property {() => number} cpuMicros  CPU time of its process tree so far (10 ms resolution)
 * @property {() => Promise<void>} stop
 */

/** Starts a peer process with `args`, waits for its port. */
async function startPeer(name, cmd, args, port, dir, spawnProcess, ids) {
  const child = spawnProcess(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...ids });
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  try {
    await waitForPort(port, child, name);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
    throw new Error(`${/** @type {Error} */ (err).message}: ${(stderr + log).trim().split('\n').slice(-3).join(' / ')}`);
  }
  return {
    pid: /** @type {number} */ (child.pid),
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(3000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * nginx 1.22 (Debian's `nginx`, installed by scripts/install-clients.sh for the client tests).
 * @returns {Promise<Peer | { reason: string }>}
 */
export async function startNginx({ root, spawnProcess }) {
  if (!existsSync(NGINX)) return { reason: 'nginx is not installed (apt-get install nginx)' };
  const ids = runAs();
  const dir = await workDir('nginx', ids);
  const port = await freePort();
  await writeFile(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  types { application/octet-stream bin; }
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  open_file_cache max=1000 inactive=20s;
  open_file_cache_valid 1s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${root};
  }
}
`,
  );
  const p = await startPeer('nginx', NGINX, ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], port, dir, spawnProcess, ids);
  return {
    port,
    version: version(NGINX, ['-v']),
    settings: 'worker_processes 1, sendfile on, open_file_cache (valid 1 s), access_log off, run as www-data',
    cpuMicros: () => treeCpuMicros(p.pid),
    stop: p.stop,
  };
}

/**
 * Installs Debian package `pkg` with apt-get when `binary` is missing (root only; no prompts, and
 * a policy-rc.d so the package scripts start no system service). Returns why not, or undefined.
 */
export function aptInstall(pkg, binary, log) {
  if (existsSync(binary)) return undefined;
  if (process.getuid?.() !== 0) return `${pkg} is not installed and this is not root (apt-get install ${pkg})`;
  log(`installing ${pkg} with apt-get`);
  const policy = '/usr/sbin/policy-rc.d';
  const madePolicy = !existsSync(policy);
  if (madePolicy) spawnSync('sh', ['-c', `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod +x ${policy}`]);
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  if (madePolicy) spawnSync('rm', ['-f', policy]);
  return r.status === 0 && existsSync(binary) ? undefined : `apt-get install ${pkg} failed: ${r.stderr?.toString().split('\n')[0]}`;
}

/**
 * Apache httpd 2.4 with mpm_event (Debian's `apache2`), as www-data, `-DFOREGROUND`.
 * @returns {Promise<Peer | { reason: string }>}
 */
export async function startApache({ root, log, spawnProcess }) {
  const problem = aptInstall('apache2', APACHE, log);
  if (problem) return { reason: problem };
  const ids = runAs();
  const dir = await workDir('apache', ids);
  const port = await freePort();
  const mod = (name, file) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${file ?? name}.so`;
  await writeFile(
    join(dir, 'httpd.conf'),
    `ServerRoot ${dir}
ServerName localhost
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel warn
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
${mod('mpm_event')}
${mod('authz_core')}
${mod('mime')}
TypesConfig /etc/mime.types
StartServers 1
ServerLimit 1
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
EnableSendfile On
EnableMMAP On
ListenBacklog 4096
DocumentRoot ${root}
<Directory />
  Require all denied
  AllowOverride None
</Directory>
<Directory ${root}>
  Require all granted
  Options None
</Directory>
`,
  );
  const p = await startPeer('apache2', APACHE, ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], port, dir, spawnProcess, ids);
  return {
    port,
    version: version(APACHE, ['-v']).replace(/^Server version:\s*/, ''),
    settings: 'mpm_event, 1 child process x 64 threads, EnableSendfile On, no access log, run as www-data',
    cpuMicros: () => treeCpuMicros(p.pid),
    stop: p.stop,
  };
}
