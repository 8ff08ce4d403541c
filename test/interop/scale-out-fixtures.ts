/**
 * The scale-out rig: two `gorgon serve` processes (the built CLI) for POP3 and FTP on their own
 * loopback addresses, over one Maildir tree and one FTP root, behind a private HAProxy that
 * sends PROXY v2 from a third address and forwards each instance's passive port range to it.
 * The layout is the one `docs/scale-out.md` documents, scaled down to one machine:
 *
 *   client 127.0.0.1 / 127.0.0.2 ──▶ HAProxy 127.0.0.1 (pop3, ftp, passive ranges)
 *                                      │ source 127.0.0.3, send-proxy-v2
 *                           ┌──────────┴──────────┐
 *                 instance a 127.0.0.11      instance b 127.0.0.12
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';

export const MAIN = new URL('../../packages/cli/dist/main.js', import.meta.url).pathname;
export const HAPROXY = '/usr/sbin/haproxy';
/** The address HAProxy connects to the instances from (the instances trust it). */
export const PROXY_SOURCE = '127.0.0.3';
/** HAProxy's public address: the frontends, and what PASV announces (masquerade). */
export const FRONT = '127.0.0.1';
export const USERS = { alice: 'wonder land', bob: 'builder bob' } as const;
/** Ports in each instance's passive range. */
const PASV_PORTS = 6;

export interface Instance {
  readonly name: 'a' | 'b';
  readonly host: string;
  pop3Port: number;
  ftpPort: number;
  readonly pasv: { min: number; max: number };
  readonly config: string;
  process: ChildProcess | undefined;
  /** Every JSON log line the process wrote (stderr), across restarts. */
  readonly log: Record<string, unknown>[];
}

export interface Rig {
  dir: string;
  /** The instances' certificate (for 127.0.0.1 and localhost), PEM. */
  certPath: string;
  maildirs: string;
  ftpRoot: string;
  pop3Port: number;
  ftpPort: number;
  instances: [Instance, Instance];
  haproxy: ChildProcess;
  haproxyLog: string[];
  statsSocket: string;
  /** Starts (or restarts) an instance and waits for its `ready` line. */
  start(instance: Instance): Promise<void>;
  /** `show stat` of HAProxy: the status ("UP", "DOWN", …) of each proxy/server. */
  status(): Promise<Map<string, string>>;
  /** `set server PROXY/SERVER state drain|ready` on HAProxy's stats socket (new sessions avoid a drained server). */
  setState(server: string, state: 'drain' | 'ready'): Promise<void>;
  /** Waits until `proxy/server` has `status` in HAProxy's view. */
  waitStatus(server: string, status: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on `host` (the kernel's choice). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive ports free on every host, from a random start (passive ranges). */
async function freeRange(count: number, hosts: string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the kernel's ephemeral range (32768–60999 by default): an outgoing connection
    // could otherwise take a port of the range between this probe and HAProxy's bind.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) for (const h of hosts) ok &&= await portFree(p, h);
    if (ok) return base;
  }
  throw new Error('no free passive port range found');
}

function instanceConfig(
  rig: { maildirs: string; ftpRoot: string; users: string; cert: string; key: string },
  i: { host: string; pasv: { min: number; max: number } },
) {
  // Port 0: the instance picks its ports; the rig reads them from the `started` lines. One
  // certificate for both (STLS and AUTH TLS pass through HAProxy to either instance).
  return `log: { format: json, level: info }
pop3:
  host: ${i.host}
  port: 0
  maildirs: ${rig.maildirs}
  users: ${rig.users}
  cert: ${rig.cert}
  key: ${rig.key}
  proxyTrusted: [${PROXY_SOURCE}]
ftp:
  host: ${i.host}
  port: 0
  root: ${rig.ftpRoot}
  users: ${rig.users}
  cert: ${rig.cert}
  key: ${rig.key}
  pasvRange: ${i.pasv.min}-${i.pasv.max}
  masquerade: ${FRONT}
  proxyTrusted: [${PROXY_SOURCE}]
`;
}

/** The HAProxy configuration of docs/scale-out.md with this rig's addresses and ports. */
export function haproxyConfig(r: { pop3Port: number; ftpPort: number; statsSocket: string; instances: Instance[] }): string {
  const servers = (port: (i: Instance) => number) =>
    r.instances.map((i) => `  server ${i.name} ${i.host}:${port(i)} check check-send-proxy inter 300ms fall 1 rise 1`).join('\n');
  const pasv = r.instances
    .map((i) => `listen ftp-pasv-${i.name}\n  bind ${FRONT}:${i.pasv.min}-${i.pasv.max}\n  server ${i.name} ${i.host}`)
    .join('\n');
  return `global
  maxconn 1000
  stats socket ${r.statsSocket} mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout check 1s
  timeout client 60s
  timeout server 60s
  retries 2
  option redispatch
  default-server source ${PROXY_SOURCE} send-proxy-v2
listen pop3
  bind ${FRONT}:${r.pop3Port}
  balance roundrobin
  option tcp-check
  tcp-check expect rstring ^\\+OK
${servers((i) => i.pop3Port)}
listen ftp
  bind ${FRONT}:${r.ftpPort}
  balance roundrobin
  option tcp-check
  tcp-check expect rstring ^220
${servers((i) => i.ftpPort)}
${pasv}
`;
}

function waitFor<T>(what: string, timeoutMs: number, poll: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async (): Promise<void> => {
      let value: T | undefined;
      try {
        value = await poll();
      } catch {
        value = undefined;
      }
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(() => void tick(), 50);
    };
    void tick();
  });
}

/** One command on HAProxy's stats socket; the whole answer. */
function statsCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let out = '';
    conn.on('data', (d: Buffer) => (out += d.toString()));
    conn.on('end', () => resolve(out));
    conn.on('error', reject);
    conn.end(`${command}\n`);
  });
}

/** SIGKILLs the processes still running (a stopped one is continued first) and waits for them. */
export async function killAll(procs: (ChildProcess | undefined)[]): Promise<void> {
  await Promise.all(
    procs.map((p) => {
      if (!p || p.exitCode !== null || p.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGKILL');
      return exited;
    }),
  );
}

export async function startRig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-scale-out-'));
  const maildirs = join(dir, 'maildirs');
  const ftpRoot = join(dir, 'ftp');
  const users = join(dir, 'users.json');
  await mkdir(maildirs);
  await mkdir(ftpRoot);
  const entries = [];
  for (const [name, password] of Object.entries(USERS)) {
    entries.push({ name, password: await hashPassword(password), ftp: { perms: 'elradfmwMT' } });
  }
  await writeFile(users, JSON.stringify({ users: entries }));
  const pems = await createDemoCertificate('localhost');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  await writeFile(certPath, pems.cert);
  await writeFile(keyPath, pems.key, { mode: 0o600 });

  const hosts = ['127.0.0.11', '127.0.0.12'];
  const base = await freeRange(2 * PASV_PORTS, [FRONT, ...hosts]);
  const instance = (name: 'a' | 'b', n: number): Instance => {
    const pasv = { min: base + n * PASV_PORTS, max: base + (n + 1) * PASV_PORTS - 1 };
    return { name, host: hosts[n]!, pop3Port: 0, ftpPort: 0, pasv, config: join(dir, `${name}.yaml`), process: undefined, log: [] };
  };
  const instances: [Instance, Instance] = [instance('a', 0), instance('b', 1)];
  for (const i of instances) await writeFile(i.config, instanceConfig({ maildirs, ftpRoot, users, cert: certPath, key: keyPath }, i));

  const start = async (i: Instance): Promise<void> => {
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', i.config], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    i.process = child;
    let partial = '';
    let text = '';
    child.stderr!.on('data', (d: Buffer) => {
      partial += d.toString();
      text += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        try {
          i.log.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          i.log.push({ msg: line });
        }
      }
    });
    const ready = await waitFor(`instance ${i.name} to start`, 15_000, () => {
      if (child.exitCode !== null) throw new Error(`instance ${i.name} exited: ${text}`);
      return /"event":"ready"/.test(text) ? text : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${text}`);
    });
    const port = (daemon: string) => Number(new RegExp(`"daemon":"${daemon}","address":"[0-9.]+:(\\d+)"`).exec(ready)?.[1]);
    const [pop3, ftp] = [port('pop3d'), port('ftpd')];
    // A restart keeps the ports HAProxy knows (the config says port 0 only for the first start).
    if (i.pop3Port === 0) {
      i.pop3Port = pop3;
      i.ftpPort = ftp;
    } else if (pop3 !== i.pop3Port || ftp !== i.ftpPort) {
      throw new Error(`instance ${i.name} came back on other ports`);
    }
  };
  const started = await Promise.allSettled(instances.map(start));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await killAll(instances.map((i) => i.process));
    throw failed.reason;
  }
  // From now on an instance comes back on the same ports, as a configured one would.
  for (const i of instances) {
    const text = await readFile(i.config, 'utf8');
    await writeFile(
      i.config,
      text
        .replace(/pop3:\n {2}host: (.*)\n {2}port: 0/, `pop3:\n  host: $1\n  port: ${i.pop3Port}`)
        .replace(/ftp:\n {2}host: (.*)\n {2}port: 0/, `ftp:\n  host: $1\n  port: ${i.ftpPort}`),
    );
  }

  const pop3Port = await freePort(FRONT);
  const ftpPort = await freePort(FRONT);
  const statsSocket = join(dir, 'haproxy.sock');
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, haproxyConfig({ pop3Port, ftpPort, statsSocket, instances }));
  const haproxy = spawn(HAPROXY, ['-f', cfg, '-db'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const haproxyLog: string[] = [];
  haproxy.stdout!.on('data', (d: Buffer) => haproxyLog.push(d.toString()));
  haproxy.stderr!.on('data', (d: Buffer) => haproxyLog.push(d.toString()));

  const status = async (): Promise<Map<string, string>> => {
    const csv = (await statsCommand(statsSocket, 'show stat')).trim().split('\n');
    const header = csv[0]!.replace(/^# /, '').split(',');
    const at = header.indexOf('status');
    return new Map(
      csv.slice(1).map((line) => {
        const f = line.split(',');
        return [`${f[0]}/${f[1]}`, f[at] ?? ''];
      }),
    );
  };
  const waitStatus = async (server: string, want: string, timeoutMs = 10_000): Promise<void> => {
    await waitFor(`${server} ${want} in HAProxy`, timeoutMs, async () => {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited: ${haproxyLog.join('')}`);
      return (await status()).get(server) === want ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; haproxy said: ${haproxyLog.join('')}`);
    });
  };
  const rig: Rig = {
    dir,
    certPath,
    maildirs,
    ftpRoot,
    pop3Port,
    ftpPort,
    instances,
    haproxy,
    haproxyLog,
    statsSocket,
    start,
    status,
    async setState(server, state) {
      const answer = await statsCommand(statsSocket, `set server ${server} state ${state}`);
      if (answer.trim() !== '') throw new Error(`haproxy: set server ${server} state ${state}: ${answer.trim()}`);
    },
    waitStatus,
    async stop() {
      await killAll([haproxy, ...instances.map((i) => i.process)]);
    },
  };
  try {
    for (const s of ['pop3/a', 'pop3/b', 'ftp/a', 'ftp/b']) await waitStatus(s, 'UP');
  } catch (err) {
    await rig.stop();
    throw err;
  }
  return rig;
}

export const haproxyAvailable = existsSync(HAPROXY);
export const built = existsSync(MAIN);
