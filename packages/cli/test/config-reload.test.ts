import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { MemoryClient } from '@gorgon/core/testing';
import { deliver } from '@gorgon/pop3';
import { freePort, SpawnedDaemon } from './spawn-cli.js';

// SIGHUP with `gorgon serve --config FILE` (issue 13): the config is read again and applied
// without downtime; open sessions keep theirs and finish; a broken config changes nothing.

let dir: string;
const message = `Subject: reload\r\n\r\n${'the quick brown fox\r\n'.repeat(2000)}`;
const ftpFile = Buffer.alloc(3 * 1024 * 1024, 7);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-config-reload-'));
  await deliver(join(dir, 'mail'), 'ann', message);
  await mkdir(join(dir, 'files'));
  await writeFile(join(dir, 'files', 'big.bin'), ftpFile);
  await writeFile(join(dir, 'finger.json'), JSON.stringify({ users: [{ login: 'ann', name: 'Ann' }] }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function writeUsers(password: string): Promise<void> {
  const hash = await hashPassword(password);
  await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [{ name: 'ann', password: hash }] }));
}

interface Sections {
  pop3?: Record<string, unknown>;
  ftp?: Record<string, unknown>;
  finger?: Record<string, unknown>;
}

/** Writes gorgon.yaml (JSON is YAML) with the sections given. */
async function writeConfig(sections: Sections, file = 'gorgon.yaml'): Promise<void> {
  const config: Record<string, unknown> = {};
  if (sections.pop3) config.pop3 = { port: 0, maildirs: 'mail', users: 'users.json', ...sections.pop3 };
  if (sections.ftp) config.ftp = { port: 0, root: 'files', users: 'users.json', ...sections.ftp };
  if (sections.finger) config.finger = { port: 0, users: 'finger.json', ...sections.finger };
  await writeFile(join(dir, file), JSON.stringify(config, null, 2));
}

/** The next complete reply of a line protocol: POP3's one line, or FTP's last line of a multi-line reply. */
async function ftpReply(c: MemoryClient): Promise<string> {
  for (;;) {
    const line = await c.line(10_000);
    if (/^\d{3} /.test(line)) return line;
  }
}

async function popLogin(port: number, password: string): Promise<{ c: MemoryClient; reply: string }> {
  const c = new MemoryClient(connect(port, '127.0.0.1'));
  expect(await c.line(5000)).toMatch(/^\+OK/);
  c.sendLine('USER ann');
  expect(await c.line(5000)).toMatch(/^\+OK/);
  c.sendLine(`PASS ${password}`);
  return { c, reply: await c.line(10_000) };
}

/** The LOGIN-DELAY line of CAPA on a session. */
async function loginDelay(c: MemoryClient): Promise<string> {
  c.sendLine('CAPA');
  const lines: string[] = [];
  for (let line = await c.line(5000); line !== '.'; line = await c.line(5000)) lines.push(line);
  return lines.find((l) => l.startsWith('LOGIN-DELAY')) ?? 'none';
}

/** RETR 1 over POP3: the message as the client sees it (dot-unstuffed). */
async function popRetr(c: MemoryClient): Promise<string> {
  c.sendLine('RETR 1');
  expect(await c.line(5000)).toMatch(/^\+OK/);
  const lines: string[] = [];
  for (let line = await c.line(10_000); line !== '.'; line = await c.line(10_000)) lines.push(line.startsWith('..') ? line.slice(1) : line);
  return `${lines.join('\r\n')}\r\n`;
}

async function ftpLogin(port: number, password: string): Promise<{ c: MemoryClient; reply: string }> {
  const c = new MemoryClient(connect(port, '127.0.0.1'));
  const greeting = await ftpReply(c);
  if (!greeting.startsWith('220')) return { c, reply: greeting };
  c.sendLine('USER ann');
  expect(await ftpReply(c)).toMatch(/^331/);
  c.sendLine(`PASS ${password}`);
  return { c, reply: await ftpReply(c) };
}

/** RETR over a passive data connection: the bytes, and the final reply. */
async function ftpRetr(c: MemoryClient, name: string): Promise<{ data: Buffer; reply: string }> {
  c.sendLine('TYPE I');
  expect(await ftpReply(c)).toMatch(/^200/);
  c.sendLine('EPSV');
  const epsv = await ftpReply(c);
  const port = Number(/\|\|\|(\d+)\|/.exec(epsv)?.[1]);
  const data: Socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    data.on('data', (b: Buffer) => chunks.push(b));
    data.on('end', () => resolve());
    data.on('error', reject);
  });
  await new Promise<void>((resolve) => data.once('connect', () => resolve()));
  c.sendLine(`RETR ${name}`);
  expect(await ftpReply(c)).toMatch(/^150/);
  await ended;
  return { data: Buffer.concat(chunks), reply: await ftpReply(c) };
}

function tlsSession(port: number): Promise<{ client: MemoryClient; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve({ client, fingerprint: socket.getPeerCertificate().fingerprint256 });
    });
    const client = new MemoryClient(socket);
    socket.once('error', reject);
  });
}

/** One connection: 'refused', or the first line the server sent. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? 'error')));
    socket.on('data', (b: Buffer) => {
      text += b.toString();
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
  });
}

async function hangup(daemon: SpawnedDaemon, event = 'reload'): Promise<Array<Record<string, unknown>>> {
  const mark = daemon.records.length;
  daemon.child.kill('SIGHUP');
  await daemon.waitFor((r) => r.event === event, mark);
  return daemon.records.slice(mark);
}

describe('SIGHUP applies the config file again (gorgon serve --config)', () => {
  it('new users and settings for new connections; open POP3 and FTP sessions go on and finish a RETR', async () => {
    await writeUsers('old-secret');
    await writeConfig({ pop3: { loginDelay: 0 }, ftp: {} });
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const popPort = await daemon.started('pop3d');
      const ftpPort = await daemon.started('ftpd');
      const pop = await popLogin(popPort, 'old-secret');
      expect(pop.reply).toMatch(/^\+OK/);
      expect(await loginDelay(pop.c)).toBe('LOGIN-DELAY 0');
      const ftp = await ftpLogin(ftpPort, 'old-secret');
      expect(ftp.reply).toMatch(/^230/);

      await writeUsers('new-secret');
      await writeConfig({ pop3: { loginDelay: 7 }, ftp: { maxConnectionsPerIp: 1 } });
      const lines = await hangup(daemon);
      const text = lines.map((r) => r.msg).join('\n');
      expect(text).toMatch(/SIGHUP: pop3 changed \(loginDelay\): pop3d keeps 127\.0\.0\.1:\d+; open sessions finish on the old settings/);
      expect(text).toMatch(/SIGHUP: ftp changed \(maxConnectionsPerIp\): ftpd keeps/);
      expect(text).toMatch(/SIGHUP: config file gorgon\.yaml applied: pop3 changed, ftp changed/);
      expect(daemon.alive).toBe(true);

      // The open sessions: old settings, still logged in, and a whole RETR each.
      expect(await loginDelay(pop.c)).toBe('LOGIN-DELAY 0');
      expect(await popRetr(pop.c)).toBe(message);
      pop.c.sendLine('QUIT');
      expect(await pop.c.line(5000)).toMatch(/^\+OK/);
      const got = await ftpRetr(ftp.c, 'big.bin');
      expect(got.reply).toMatch(/^226/);
      expect(got.data.equals(ftpFile)).toBe(true);

      // New connections, same ports: the new users file and the new settings.
      const refused = await popLogin(popPort, 'old-secret');
      expect(refused.reply).toMatch(/^-ERR/);
      refused.c.end();
      const fresh = await popLogin(popPort, 'new-secret');
      expect(fresh.reply).toMatch(/^\+OK/);
      expect(await loginDelay(fresh.c)).toBe('LOGIN-DELAY 7');
      fresh.c.sendLine('QUIT');
      await fresh.c.closed(5000);
      // The old FTP session is the old server's: the new one's per-address limit of 1 admits
      // one new connection and refuses a second.
      const first = await ftpLogin(ftpPort, 'new-secret');
      expect(first.reply).toMatch(/^230/);
      expect(await firstLine(ftpPort)).toMatch(/^421 /);
      first.c.sendLine('QUIT');
      ftp.c.sendLine('QUIT');
      await Promise.all([first.c.closed(5000), ftp.c.closed(5000)]);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);

  it('an implicit-TLS listener is handed over too: same port, the new certificate for new connections, the open TLS session goes on', async () => {
    await writeUsers('secret');
    const [one, two] = await Promise.all([createDemoCertificate(), createDemoCertificate()]);
    await writeFile(join(dir, 'one.pem'), one.cert);
    await writeFile(join(dir, 'one.key'), one.key);
    await writeFile(join(dir, 'two.pem'), two.cert);
    await writeFile(join(dir, 'two.key'), two.key);
    await writeConfig({ pop3: { tlsPort: 0, cert: 'one.pem', key: 'one.key' } });
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const tlsPort = await daemon.started('pop3sd');
      const open = await tlsSession(tlsPort);
      expect(open.fingerprint).toBe(new X509Certificate(one.cert).fingerprint256);
      expect(await open.client.line(5000)).toMatch(/^\+OK/);

      await writeConfig({ pop3: { tlsPort: 0, cert: 'two.pem', key: 'two.key' } });
      const text = (await hangup(daemon)).map((r) => r.msg).join('\n');
      expect(text).toMatch(/SIGHUP: pop3 changed \(cert, key\): pop3d keeps 127\.0\.0\.1:\d+, pop3sd keeps 127\.0\.0\.1:\d+/);
      expect(daemon.ports.get('pop3sd')).toBe(tlsPort);

      const fresh = await tlsSession(tlsPort);
      expect(fresh.fingerprint).toBe(new X509Certificate(two.cert).fingerprint256);
      expect(await fresh.client.line(5000)).toMatch(/^\+OK/);
      fresh.client.sendLine('QUIT');
      // The session opened before the reload is still served, over its own TLS connection.
      open.client.sendLine('USER ann');
      expect(await open.client.line(5000)).toMatch(/^\+OK/);
      open.client.sendLine('PASS secret');
      expect(await open.client.line(10_000)).toMatch(/^\+OK/);
      expect(await popRetr(open.client)).toBe(message);
      open.client.sendLine('QUIT');
      expect(await open.client.line(5000)).toMatch(/^\+OK/);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);

  it('refuses no connection while a client connects in a loop through repeated SIGHUPs', async () => {
    await writeUsers('secret');
    await writeConfig({ pop3: { loginDelay: 0 } });
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const port = await daemon.started('pop3d');
      const results: string[] = [];
      let stop = false;
      const loop = (async () => {
        while (!stop) results.push(await firstLine(port));
      })();
      for (let i = 1; i <= 6; i++) {
        // Every reload changes the section: each one builds a new server and hands the socket over.
        await writeConfig({ pop3: { loginDelay: i } });
        const before = results.length;
        await hangup(daemon);
        while (results.length < before + 3) await new Promise((r) => setTimeout(r, 5));
      }
      stop = true;
      await loop;
      expect(results.length).toBeGreaterThan(18);
      expect(results.filter((r) => !r.startsWith('+OK'))).toEqual([]);
      const handedOver = daemon.records.filter((r) => r.event === 'started' && r.daemon === 'pop3d' && r.handedOver === true);
      expect(handedOver).toHaveLength(6);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);

  it('an invalid config (YAML or schema) is refused with its line, and the running one stays', async () => {
    await writeUsers('secret');
    await writeConfig({ pop3: { loginDelay: 3 } });
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const port = await daemon.started('pop3d');
      await writeFile(join(dir, 'gorgon.yaml'), 'pop3:\n  port: 0\n  maildirs: mail\n  users: [unclosed\n');
      let lines = await hangup(daemon, 'reload-refused');
      const yaml = lines.find((r) => r.event === 'reload-refused')!;
      expect(yaml.level).toBe(40);
      expect(yaml.msg).toMatch(
        /^SIGHUP: config file gorgon\.yaml line \d+, column \d+ is not valid YAML: .+ The running config stays in force\.$/,
      );

      await writeFile(
        join(dir, 'gorgon.yaml'),
        'pop3:\n  port: 0\n  maildirs: mail\n  users: users.json\n  loginDelay: soon\n  colour: blue\n',
      );
      lines = await hangup(daemon, 'reload-refused');
      const schema = lines.find((r) => r.event === 'reload-refused')!;
      expect(schema.msg).toMatch(/pop3\.loginDelay \(line 5, column 15\): .*expected number/);
      expect(schema.msg).toMatch(/pop3 \(line 6, column 3\): Unrecognized key.*colour/);
      expect(schema.msg).toMatch(/The running config stays in force\.$/);

      const c = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await c.line(5000)).toMatch(/^\+OK/);
      expect(await loginDelay(c)).toBe('LOGIN-DELAY 3');
      c.end();
      expect(daemon.alive).toBe(true);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);

  it('a removed section stops accepting while its open session finishes; an added one starts; a changed port moves', async () => {
    await writeUsers('secret');
    const fingerPort = await freePort();
    await writeConfig({ pop3: {}, finger: { port: fingerPort } });
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const popPort = await daemon.started('pop3d');
      expect(await daemon.started('fingerd')).toBe(fingerPort);
      const pop = await popLogin(popPort, 'secret');
      expect(pop.reply).toMatch(/^\+OK/);

      const movedTo = await freePort();
      await writeConfig({ ftp: {}, finger: { port: movedTo } });
      const lines = await hangup(daemon);
      const text = lines.map((r) => r.msg).join('\n');
      expect(text).toMatch(/SIGHUP: pop3 removed: pop3d on 127\.0\.0\.1:\d+ stopped accepting; open sessions finish/);
      expect(text).toMatch(
        new RegExp(`SIGHUP: finger changed \\(port\\): fingerd moved from 127\\.0\\.0\\.1:${fingerPort} to 127\\.0\\.0\\.1:${movedTo}`),
      );
      expect(text).toMatch(/SIGHUP: ftp added: ftpd on 127\.0\.0\.1:\d+/);

      expect(await firstLine(popPort)).toBe('refused');
      expect(await firstLine(fingerPort)).toBe('refused');
      const ftpPort = daemon.ports.get('ftpd')!;
      expect(await firstLine(ftpPort)).toMatch(/^220/);
      const finger = new MemoryClient(connect(movedTo, '127.0.0.1'));
      finger.sendLine('ann');
      expect(await finger.line(5000)).toMatch(/ann/i);

      // The removed daemon's open session still answers and ends normally.
      expect(await popRetr(pop.c)).toBe(message);
      pop.c.sendLine('QUIT');
      expect(await pop.c.line(5000)).toMatch(/^\+OK/);
      await pop.c.closed(5000);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);
});
