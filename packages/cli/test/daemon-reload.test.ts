import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { MemoryClient } from '@gorgon/core/testing';
import { deliver } from '@gorgon/pop3';
import { SpawnedDaemon } from './spawn-cli.js';

// SIGHUP reloads users files and certificates in every daemon (issue 8.9): the process stays
// up, open sessions go on, new logins and new TLS connections see the new files.

let dir: string;
let certs: Array<{ cert: string; key: string }>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-reload-'));
  certs = await Promise.all([createDemoCertificate(), createDemoCertificate()]);
  await deliver(join(dir, 'mail'), 'ann', 'Subject: one\r\n\r\nhello\r\n');
  await deliver(join(dir, 'mail'), 'bob', 'Subject: one\r\n\r\nhello\r\n');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function writeUsers(password: string): Promise<string> {
  const path = join(dir, 'users.json');
  const hash = await hashPassword(password);
  await writeFile(path, JSON.stringify({ users: ['ann', 'bob'].map((name) => ({ name, password: hash })) }));
  return path;
}

async function writeCert(pair: { cert: string; key: string }): Promise<void> {
  await writeFile(join(dir, 'cert.pem'), pair.cert);
  await writeFile(join(dir, 'key.pem'), pair.key);
}

async function login(client: MemoryClient, password: string, user = 'ann'): Promise<string> {
  expect(await client.line(5000)).toMatch(/^\+OK/);
  client.sendLine(`USER ${user}`);
  expect(await client.line(5000)).toMatch(/^\+OK/);
  client.sendLine(`PASS ${password}`);
  return client.line(10_000);
}

function tlsClient(port: number): Promise<{ client: MemoryClient; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      resolve({ client, fingerprint: socket.getPeerCertificate().fingerprint256 });
    });
    const client = new MemoryClient(socket);
    socket.once('error', reject);
  });
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

describe('SIGHUP (built CLI)', () => {
  it('pop3d: new password and new certificate for new connections, open sessions go on, a broken certificate or users file keeps the old', async () => {
    await writeUsers('old-secret');
    await writeCert(certs[0]!);
    const daemon = new SpawnedDaemon(
      ['pop3d', '--maildirs', 'mail', '--users', 'users.json', '--cert', 'cert.pem', '--key', 'key.pem', '--port', '0', '--tls-port', '0'],
      dir,
    );
    try {
      const port = await daemon.started('pop3d');
      const tlsPort = await daemon.started('pop3sd');
      const open = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await login(open, 'old-secret')).toMatch(/^\+OK/);
      const secure = await tlsClient(tlsPort);
      expect(secure.fingerprint).toBe(fingerprint(certs[0]!.cert));
      expect(await login(secure.client, 'old-secret', 'bob')).toMatch(/^\+OK/);

      await writeUsers('new-secret');
      await writeCert(certs[1]!);
      const mark = daemon.records.length;
      daemon.child.kill('SIGHUP');
      const reload = await daemon.waitFor((r) => r.event === 'reload', mark);
      expect(reload.msg).toMatch(
        /^SIGHUP: reloaded pop3 users file .*users\.json \(2 users\), pop3 certificate .*cert\.pem; other settings need a restart$/,
      );
      expect(daemon.alive).toBe(true);

      // The sessions open before the signal still work.
      open.sendLine('STAT');
      expect(await open.line(5000)).toMatch(/^\+OK 1 /);
      secure.client.sendLine('STAT');
      expect(await secure.client.line(5000)).toMatch(/^\+OK 1 /);
      open.sendLine('QUIT');
      secure.client.sendLine('QUIT');
      await open.closed(5000);

      const refused = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await login(refused, 'old-secret')).toMatch(/^-ERR/);
      refused.end();
      const fresh = await tlsClient(tlsPort);
      expect(fresh.fingerprint).toBe(fingerprint(certs[1]!.cert));
      expect(await login(fresh.client, 'new-secret')).toMatch(/^\+OK/);
      fresh.client.sendLine('QUIT');

      // A broken certificate file: a warning, and the last good certificate stays.
      await writeFile(join(dir, 'cert.pem'), 'not a certificate\n');
      const mark2 = daemon.records.length;
      daemon.child.kill('SIGHUP');
      const warn = await daemon.waitFor((r) => r.event === 'reload-failed', mark2);
      expect(warn.level).toBe(40);
      expect(warn.msg).toMatch(/^SIGHUP: cannot reload pop3 certificate .*cert\.pem: .+; the old one stays in force$/);
      await daemon.waitFor((r) => r.event === 'reload', mark2);
      const after = await tlsClient(tlsPort);
      expect(after.fingerprint).toBe(fingerprint(certs[1]!.cert));
      after.client.end();

      // A broken users file: a warning, and the users loaded before still log in.
      await writeFile(join(dir, 'users.json'), '{ "users": [ { "name": "ann" ');
      const mark3 = daemon.records.length;
      daemon.child.kill('SIGHUP');
      const usersWarn = await daemon.waitFor((r) => r.event === 'reload-failed', mark3);
      expect(usersWarn.msg).toMatch(
        /^SIGHUP: cannot reload pop3 users file .*users\.json: users file .* is not valid JSON.*; the old one stays in force$/,
      );
      await daemon.waitFor((r) => r.event === 'reload', mark3);
      const still = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await login(still, 'new-secret')).toMatch(/^\+OK/);
      still.sendLine('QUIT');
      await still.closed(5000);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  });

  it.each([
    ['fingerd', ['fingerd', '--users', 'finger.json', '--port', '0'], /reloaded finger users file .*finger\.json \(1 user\)/],
    [
      'ftpd',
      ['ftpd', '--root', '.', '--users', 'users.json', '--tls', '--cert', 'cert.pem', '--key', 'key.pem', '--port', '0'],
      /reloaded ftp users file .*users\.json \(2 users\), ftp certificate/,
    ],
    [
      'serve',
      ['serve', '--demo', '--ephemeral-ports', '--data', 'demo'],
      /reloaded finger users file .*, pop3 users file .*, pop3 certificate .*, ftp users file .*, ftp certificate /,
    ],
  ])('%s stays up on SIGHUP and logs what it reloaded', async (name, args, reloaded) => {
    await writeUsers('secret');
    await writeCert(certs[0]!);
    await writeFile(join(dir, 'finger.json'), JSON.stringify({ users: [{ login: 'ann', name: 'Ann' }] }));
    const daemon = new SpawnedDaemon(args, dir);
    try {
      await daemon.started(name === 'serve' ? 'ftpsd' : name);
      const mark = daemon.records.length;
      daemon.child.kill('SIGHUP');
      const reload = await daemon.waitFor((r) => r.event === 'reload', mark);
      expect(reload.msg).toMatch(reloaded);
      expect(daemon.alive).toBe(true);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  });
});
