import { createHash, randomBytes } from 'node:crypto';
import * as tls from 'node:tls';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { demoFs, testServer } from './helpers.js';
import { cmd, controlClient } from './socket-client.js';
import { leakGuard } from '@gorgon/core/testing';

// Every test must close what it opened: sockets, servers, file handles, timers.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

let cert: { cert: string; key: string };
beforeAll(async () => {
  cert = await createDemoCertificate('localhost');
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function sink(parts: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
}

describe('FTPS (RFC 4217)', () => {
  it.each([
    ['explicit AUTH TLS', true],
    ['implicit', 'implicit'],
  ] as const)('%s: uploads, downloads and lists with PROT P', async (_name, secure) => {
    const fs = demoFs();
    await using server = testServer({ store: fs, tls: cert, requireTlsForData: true });
    const address = secure === 'implicit' ? await server.listenTls(0) : await server.listen(0);
    const client = new Client(5000);
    try {
      await client.access({
        host: '127.0.0.1',
        port: address.port,
        user: 'alice',
        password: 'wonderland',
        secure,
        secureOptions: { ca: cert.cert, servername: 'localhost' },
      });
      const body = randomBytes(1024 * 1024 + 5);
      await client.uploadFrom(Readable.from([body]), '/pub/secret.bin');
      const parts: Buffer[] = [];
      await client.downloadTo(sink(parts), '/pub/secret.bin');
      expect(sha(Buffer.concat(parts))).toBe(sha(body));
      const names = (await client.list('/pub')).map((e) => e.name).sort();
      expect(names).toEqual(['data.bin', 'docs', 'readme.txt', 'secret.bin']);
    } finally {
      client.close();
    }
  });

  it('advertises AUTH TLS, PBSZ and PROT, and sequences them', async () => {
    await using server = testServer({ tls: cert });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await c.line();
    c.sendLine('FEAT');
    const feat: string[] = [];
    for (let line = await c.line(); !line.startsWith('211 '); line = await c.line()) feat.push(line);
    expect(feat).toEqual(expect.arrayContaining([' AUTH TLS', ' PBSZ', ' PROT']));
    expect(await cmd(c, 'PBSZ 0')).toBe('503 PBSZ not allowed on an insecure control connection.');
    expect(await cmd(c, 'AUTH KERBEROS')).toBe('504 AUTH type not supported: use AUTH TLS.');
    // Plaintext pipelined after AUTH (one segment) must be discarded, never answered over TLS (CVE-2011-0411).
    c.send('AUTH TLS\r\nUSER injected\r\n');
    expect(await c.line()).toBe('234 AUTH TLS successful.');
    for (const event of ['data', 'end', 'close']) c.socket.removeAllListeners(event);
    const secure = tls.connect({ socket: c.socket, ca: cert.cert, servername: 'localhost' });
    await new Promise<void>((r) => secure.once('secureConnect', () => r()));
    const { MemoryClient } = await import('@gorgon/core/testing');
    const t = new MemoryClient(secure);
    expect(await cmd(t, 'PROT P')).toBe('503 PROT needs PBSZ first.');
    expect(await cmd(t, 'PBSZ 0')).toBe('200 PBSZ=0');
    expect(await cmd(t, 'PROT S')).toBe('536 PROT S not supported.');
    expect(await cmd(t, 'PROT Q')).toBe('504 Unknown protection level.');
    expect(await cmd(t, 'PROT P')).toBe('200 Protection set to Private.');
    expect(await cmd(t, 'PASS x')).toBe('503 Login with USER first.');
    expect(await cmd(t, 'AUTH TLS')).toBe('503 Already using TLS.');
    secure.destroy();
  });

  it('can require TLS before login and PROT P before transfers', async () => {
    await using server = testServer({ tls: cert, requireTlsForLogin: true, requireTlsForData: true });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await c.line();
    expect(await cmd(c, 'USER alice')).toBe('530 TLS required: use AUTH TLS first.');
    c.end();
    const client = new Client(5000);
    try {
      await client.access({
        host: '127.0.0.1',
        port,
        user: 'alice',
        password: 'wonderland',
        secure: true,
        secureOptions: { ca: cert.cert, servername: 'localhost' },
      });
      const r = await client.send('PROT C');
      expect(r.code).toBe(200);
      await expect(client.list('/')).rejects.toThrow(/522/);
    } finally {
      client.close();
    }
  });
});
