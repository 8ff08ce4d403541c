import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { MemoryClient } from '@gorgon/core/testing';
import { SpawnedDaemon } from './spawn-cli.js';

/** `gorgon serve --demo --ephemeral-ports` in a temp dir, with its admin listener's URL. */
export async function startDemo(): Promise<{ daemon: SpawnedDaemon; url: string; dir: string; remove(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gorgon-admin-'));
  const daemon = new SpawnedDaemon(['serve', '--demo', '--ephemeral-ports', '--data', join(dir, 'demo')], dir);
  const started = await daemon.waitFor((r) => r.event === 'admin-started', 0, 30_000);
  await daemon.waitFor((r) => r.event === 'ready', 0, 30_000);
  return {
    daemon,
    url: String(started.url),
    dir,
    remove: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET `path` from the admin listener. */
export async function admin(url: string, path: string): Promise<{ status: number; type: string | null; body: string; headers: Headers }> {
  const res = await fetch(new URL(path, url));
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text(), headers: res.headers };
}

/** Prometheus text exposition → value by series (`name{labels}`), comments left out. */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** The sum of every series of `name` whose labels include all of `labels`. */
export function sumOf(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of series) {
    const brace = key.indexOf('{');
    if ((brace === -1 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

function dial(port: number): MemoryClient {
  return new MemoryClient(netConnect(port, '127.0.0.1'));
}

/** Sends `lines` one at a time, each after the previous reply's first line. */
async function converse(c: MemoryClient, lines: string[]): Promise<string[]> {
  const replies: string[] = [];
  for (const line of lines) {
    c.sendLine(line);
    replies.push(await c.line(10_000));
  }
  return replies;
}

/**
 * A little of every protocol through real sockets: a finger query (and one with markup in a
 * bad host name, which is logged as a warning), POP3 logins that fail and succeed, FTP
 * anonymous login and PWD, NNTP DATE, an HTTP GET, a POP3S handshake and a failed one.
 */
export async function driveEveryProtocol(daemon: SpawnedDaemon): Promise<void> {
  const ports = daemon.ports;
  let c = dial(ports.get('fingerd')!);
  c.sendLine('demo');
  await c.readToEnd();
  c = dial(ports.get('fingerd')!);
  c.sendLine('demo@<b>bold</b>');
  await c.readToEnd();

  c = dial(ports.get('pop3d')!);
  await c.line();
  const pop3 = await converse(c, ['USER demo', 'PASS wrong', 'USER demo', 'PASS demo', 'STAT', 'QUIT']);
  if (!pop3[3]?.startsWith('+OK') || !pop3[1]?.startsWith('-ERR')) throw new Error(`pop3: ${pop3.join(' | ')}`);
  await c.closed();

  c = dial(ports.get('ftpd')!);
  await c.line();
  const ftp = await converse(c, ['USER anonymous', 'PASS guest@', 'PWD', 'QUIT']);
  if (!ftp[2]?.startsWith('257')) throw new Error(`ftp: ${ftp.join(' | ')}`);
  await c.closed();

  c = dial(ports.get('nntpd')!);
  await c.line();
  const nntp = await converse(c, ['DATE', 'QUIT']);
  if (!nntp[0]?.startsWith('111')) throw new Error(`nntp: ${nntp.join(' | ')}`);
  await c.closed();

  c = dial(ports.get('httpd')!);
  c.send('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  const http = (await c.readToEnd()).toString('latin1');
  if (!http.startsWith('HTTP/1.1 200')) throw new Error(`http: ${http.slice(0, 80)}`);

  const secure = new MemoryClient(tlsConnect({ port: ports.get('pop3sd')!, host: '127.0.0.1', rejectUnauthorized: false }));
  if (!(await secure.line()).startsWith('+OK')) throw new Error('pop3s: no greeting');
  secure.sendLine('QUIT');
  await secure.readToEnd();
  const plain = dial(ports.get('pop3sd')!);
  plain.send('USER demo\r\nthis is not TLS\r\n');
  await plain.closed();
}
