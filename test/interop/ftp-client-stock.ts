/**
 * Stock FTP servers from Debian for the client's interop tests: vsftpd (run in the foreground
 * with a generated config) and pyftpdlib (Debian's python3-pyftpdlib under /usr/bin/python3).
 * Each runs as a child process in its own process group on a loopback port and is killed by
 * `stop()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';

export const CI = process.env['CI'] === 'true';
export const VSFTPD = '/usr/sbin/vsftpd';
/** Debian's interpreter: python3-pyftpdlib installs there, not into a pyenv or venv. */
export const PYTHON = '/usr/bin/python3';

export const hasVsftpd = existsSync(VSFTPD);
export const hasPyftpdlib = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pyftpdlib, OpenSSL'], { timeout: 10_000 }).status === 0;

/** A running stock server. */
export interface StockServer {
  name: string;
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until the port greets with 220, or the child dies, or time runs out. */
async function greeted(port: number, child: ChildProcess, output: () => string, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before serving: ${output().trim().slice(0, 500)}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000, () => socket.destroy());
      socket.once('data', (chunk) => {
        socket.end('QUIT\r\n');
        resolve(chunk.toString().startsWith('220'));
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not greet on port ${port} within 10 s: ${output().trim().slice(0, 500)}`);
}

function killer(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // vsftpd forks a process per session: signal the group this test started.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, 3000);
    await gone;
    clearTimeout(timer);
  };
}

/** Options of the stock servers. */
export interface StockOptions {
  /** The directory anonymous users see. */
  root: string;
  /** Scratch directory for config and logs. */
  work: string;
  /** PEM files: explicit FTPS (AUTH TLS), or implicit when `implicit`. */
  tls?: { certPath: string; keyPath: string; implicit?: boolean };
}

/**
 * vsftpd in the foreground (`background=NO`, `listen=YES`) as the launching user (root here),
 * anonymous read-only with `anon_root`; no chroot is possible that way, so the tests use paths
 * relative to the login directory. `seccomp_sandbox=NO` because the sandbox kills vsftpd in
 * containers. With TLS, vsftpd's default `require_ssl_reuse=YES` checks that data connections
 * resume the control connection's TLS session.
 */
export async function startVsftpd(options: StockOptions): Promise<StockServer> {
  await mkdir(options.work, { recursive: true });
  const empty = join(options.work, 'empty');
  await mkdir(empty, { recursive: true, mode: 0o755 });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const lines = [
      'listen=YES',
      'listen_ipv6=NO',
      'listen_address=127.0.0.1',
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=YES',
      `anon_root=${options.root}`,
      'no_anon_password=YES',
      'local_enable=NO',
      'write_enable=NO',
      'run_as_launching_user=YES',
      'seccomp_sandbox=NO',
      `secure_chroot_dir=${empty}`,
      'pasv_enable=YES',
      'xferlog_enable=NO',
      'dual_log_enable=NO',
      `vsftpd_log_file=${join(options.work, 'vsftpd.log')}`,
    ];
    if (options.tls) {
      lines.push(
        'ssl_enable=YES',
        'allow_anon_ssl=YES',
        'force_anon_logins_ssl=NO',
        'force_anon_data_ssl=NO',
        `rsa_cert_file=${options.tls.certPath}`,
        `rsa_private_key_file=${options.tls.keyPath}`,
        'ssl_ciphers=HIGH',
        `implicit_ssl=${options.tls.implicit ? 'YES' : 'NO'}`,
      );
    }
    const config = join(options.work, `vsftpd-${port}.conf`);
    await writeFile(config, `${lines.join('\n')}\n`);
    let output = '';
    const child = spawn(VSFTPD, [config], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => (output += String(err)));
    const stop = killer(child);
    try {
      if (options.tls?.implicit) await waitListening(port, child, () => output, 'vsftpd');
      else await greeted(port, child, () => output, 'vsftpd');
      return { name: 'vsftpd', port, stop };
    } catch (err) {
      await stop();
      // The free port may have been taken between the probe and vsftpd's bind: try another.
      if (attempt < 2 && /address already in use|could not bind/i.test(output)) continue;
      throw err;
    }
  }
}

/** Implicit TLS greets only after a handshake: wait for the port to accept instead. */
async function waitListening(port: number, child: ChildProcess, output: () => string, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited before serving: ${output().trim().slice(0, 500)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on port ${port} within 10 s`);
}

const PYFTPDLIB_SERVER = `
import json, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer
cfg = json.loads(sys.argv[1])
auth = DummyAuthorizer()
auth.add_anonymous(cfg['root'])
for name, password in cfg.get('users', {}).items():
    auth.add_user(name, password, cfg['root'], perm='elradfmwMT')
handler = FTPHandler
if cfg.get('cert'):
    handler = TLS_FTPHandler
    handler.certfile = cfg['cert']
    handler.keyfile = cfg['key']
handler.authorizer = auth
server = FTPServer(('127.0.0.1', 0), handler)
print('PORT %d' % server.address[1], flush=True)
server.serve_forever()
`;

/**
 * pyftpdlib's FTPServer on an ephemeral port it reports on stdout: anonymous read-only plus
 * `users` with full permissions, all rooted at `root`; TLS_FTPHandler (explicit FTPS) with `tls`.
 */
export async function startPyftpdlib(options: StockOptions & { users?: Record<string, string> }): Promise<StockServer> {
  const config = JSON.stringify({
    root: options.root,
    users: options.users ?? {},
    ...(options.tls ? { cert: options.tls.certPath, key: options.tls.keyPath } : {}),
  });
  const child = spawn(PYTHON, ['-c', PYFTPDLIB_SERVER, config], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  child.on('error', (err) => (output += String(err)));
  const stop = killer(child);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`pyftpdlib did not start within 10 s: ${output.trim().slice(0, 500)}`)), 10_000);
      child.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        const m = /PORT (\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pyftpdlib exited (${code}) before serving: ${output.trim().slice(0, 500)}`));
      });
    });
    await greeted(port, child, () => output, 'pyftpdlib');
    return { name: 'pyftpdlib', port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
