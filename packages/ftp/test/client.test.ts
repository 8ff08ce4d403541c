import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard } from '@gorgon/core/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpClient, FtpClientError, FtpError } from '../src/internal.js';
import { startFakeServer, type FakeServerOptions } from './client-fake-server.js';

const BIG = Buffer.alloc(3 * 1024 * 1024 + 17, 0);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + (i >> 11)) & 255;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A sink that keeps what it gets. */
function collector(): { sink: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
  return { sink, data: () => Buffer.concat(parts) };
}

async function withServer(options: FakeServerOptions, run: (port: number, server: Awaited<ReturnType<typeof startFakeServer>>) => Promise<void>): Promise<void> {
  await using server = await startFakeServer(options);
  await run(server.port, server);
}

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

describe('login and session set-up (RFC 959 §5.4, §6)', () => {
  it('logs in anonymously, reads FEAT, turns UTF8 on and switches to TYPE I', async () => {
    await withServer({}, async (port, server) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port });
      expect([...client.featureSet.keys()]).toEqual(['MLST', 'SIZE', 'MDTM', 'REST', 'EPSV', 'UTF8']);
      await client.quit();
      expect(server.sessions[0]!.commands).toEqual(['USER anonymous', 'PASS anonymous@', 'FEAT', 'OPTS UTF8 ON', 'TYPE I', 'QUIT']);
      expect(client.closed).toBe(true);
    });
  });

  it('logs in with a password, and a wrong one throws FtpError 530', async () => {
    await withServer({ users: { alice: 's3cret' } }, async (port) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port, user: 'alice', password: 's3cret' });
      await client.quit();
      const err = await FtpClient.connect({ host: '127.0.0.1', port, user: 'alice', password: 'nope' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FtpError);
      expect((err as FtpError).code).toBe(530);
      expect((err as FtpError).command).toBe('login');
      expect((err as FtpError).message).not.toContain('nope');
    });
  });

  it('sends ACCT when the server asks for an account (332)', async () => {
    const hook: FakeServerOptions['hook'] = (session, verb, arg) => {
      if (verb === 'PASS') return '332 Need account for login.';
      if (verb === 'ACCT') {
        session.loggedIn = arg === 'acme';
        return session.loggedIn ? '230 Logged in with account.' : '530 Bad account.';
      }
      return undefined;
    };
    await withServer({ hook }, async (port, server) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port, account: 'acme' });
      await client.quit();
      expect(server.sessions[0]!.commands.slice(0, 3)).toEqual(['USER anonymous', 'PASS anonymous@', 'ACCT acme']);
      await expect(FtpClient.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 332 });
    });
  });

  it('waits through a 120 greeting and a multi-line 220', async () => {
    await withServer({ greeting: ['120 Ready in 1 minute.', '220-Welcome', ' to the', '220 fake server'] }, async (port) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port });
      expect(await client.pwd()).toBe('/');
      await client.quit();
    });
  });

  it('reports a 421 greeting with its code', async () => {
    await withServer({ greeting: ['421 Too many users, try later.'] }, async (port) => {
      await expect(FtpClient.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ name: 'FtpError', code: 421 });
    });
  });

  it('reports a refused connection as connect-failed', async () => {
    const server = await startFakeServer();
    const port = server.port;
    await server.close();
    await expect(FtpClient.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ name: 'FtpClientError', kind: 'connect-failed' });
  });
});

describe('commands', () => {
  it('PWD (with doubled quotes), CWD, SIZE, MDTM, and FtpError 550 keeps the session', async () => {
    await withServer({ files: { 'pub/say "hi"/a.txt': 'hello', 'pub/b.bin': BIG } }, async (port) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      await client.cd('pub/say "hi"');
      expect(await client.pwd()).toBe('/pub/say "hi"');
      expect(await client.size('a.txt')).toBe(5);
      expect(await client.modifiedTime('a.txt')).toEqual(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
      const err = await client.size('missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FtpError);
      expect(err).toMatchObject({ code: 550, command: 'SIZE missing' });
      await expect(client.cd('/nowhere')).rejects.toMatchObject({ code: 550 });
      expect(await client.size('/pub/b.bin')).toBe(BIG.length);
    });
  });

  it('serialises concurrent calls on one control connection', async () => {
    await withServer({ files: { a: '1', bb: '22', ccc: '333' } }, async (port) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      const got = collector();
      const [a, b, n, c] = await Promise.all([client.size('a'), client.size('bb'), client.download('ccc', got.sink), client.size('ccc')]);
      expect([a, b, n, c]).toEqual([1, 2, 3, 3]);
      expect(got.data().toString()).toBe('333');
    });
  });

  it('times out a silent server and gives the session up', async () => {
    const hook: FakeServerOptions['hook'] = (_s, verb) => (verb === 'SIZE' ? new Promise<undefined>(() => {}) : undefined);
    await withServer({ hook, files: { a: 'x' } }, async (port) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port, timeoutMs: 200 });
      const err = await client.size('a').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FtpClientError);
      expect(err).toMatchObject({ kind: 'timeout' });
      expect(client.closed).toBe(true);
      await expect(client.pwd()).rejects.toMatchObject({ kind: 'closed' });
    });
  });

  it('reports a server that hangs up as closed', async () => {
    await withServer({ hook: (_s, verb) => (verb === 'SIZE' ? 'close' : undefined) }, async (port) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port });
      await expect(client.size('a')).rejects.toMatchObject({ kind: 'closed' });
      expect(client.closed).toBe(true);
    });
  });
});

describe('passive data connections (RFC 2428, RFC 959 §4.1.2)', () => {
  it('downloads over EPSV, byte for byte', async () => {
    await withServer({ files: { 'big.bin': BIG } }, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      const got = collector();
      let seen = 0;
      const n = await client.download('big.bin', got.sink, { onData: (b) => (seen += b) });
      expect(n).toBe(BIG.length);
      expect(seen).toBe(BIG.length);
      expect(sha(got.data())).toBe(sha(BIG));
      expect(server.sessions[0]!.commands).toContain('EPSV');
    });
  });

  it('falls back to PASV on 500 and ignores the address a PASV reply names', async () => {
    await withServer({ noEpsv: true, pasvHost: '10.254.253.252', files: { a: 'alpha', b: 'beta' } }, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000 });
      const a = collector();
      const b = collector();
      await client.download('a', a.sink);
      await client.download('b', b.sink);
      expect(a.data().toString() + b.data().toString()).toBe('alphabeta');
      const passive = server.sessions[0]!.commands.filter((c) => c === 'EPSV' || c === 'PASV');
      // EPSV is tried once; once refused, PASV only.
      expect(passive).toEqual(['EPSV', 'PASV', 'PASV']);
    });
  });

  it('with passive: epsv, a refused EPSV is an error', async () => {
    await withServer({ noEpsv: true, files: { a: 'x' } }, async (port) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port, passive: 'epsv' });
      await expect(client.download('a', collector().sink)).rejects.toMatchObject({ code: 500, command: 'EPSV' });
    });
  });

  it('resumes with REST (RFC 3659 §5)', async () => {
    await withServer({ files: { 'big.bin': BIG } }, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      const got = collector();
      const n = await client.download('big.bin', got.sink, { offset: 1_000_000 });
      expect(n).toBe(BIG.length - 1_000_000);
      expect(sha(got.data())).toBe(sha(BIG.subarray(1_000_000)));
      const commands = server.sessions[0]!.commands;
      expect(commands.slice(commands.indexOf('REST 1000000'), commands.indexOf('REST 1000000') + 2)).toEqual(['REST 1000000', 'RETR big.bin']);
    });
  });

  it('a transfer cut by the server throws its 426 and the session goes on', async () => {
    await withServer({ files: { 'big.bin': BIG }, cutOnce: { 'big.bin': 100_000 } }, async (port) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      const err = await client.download('big.bin', collector().sink).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FtpError);
      expect((err as FtpError).code).toBe(426);
      expect((err as FtpError).transient).toBe(true);
      const got = collector();
      await client.download('big.bin', got.sink);
      expect(sha(got.data())).toBe(sha(BIG));
    });
  });

  it('a missing file throws FtpError 550 without a data transfer', async () => {
    await withServer({}, async (port) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      await expect(client.download('nope', collector().sink)).rejects.toMatchObject({ code: 550, command: 'RETR nope' });
      expect(await client.pwd()).toBe('/');
    });
  });

  it('gives up on a stalled data connection', async () => {
    const hook: FakeServerOptions['hook'] = (_s, verb) => (verb === 'RETR' ? '150 Here it comes (it does not).' : undefined);
    await withServer({ hook, files: { a: 'x' } }, async (port) => {
      const client = await FtpClient.connect({ host: '127.0.0.1', port, dataTimeoutMs: 150, timeoutMs: 300 });
      await expect(client.download('a', collector().sink)).rejects.toMatchObject({ kind: 'timeout' });
      client.close();
    });
  });

  it('uploads with STOR, resumes with REST + STOR, and appends with APPE', async () => {
    await withServer({}, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      expect(await client.upload(BIG, 'up.bin')).toBe(BIG.length);
      expect(sha(server.files.get('up.bin')!)).toBe(sha(BIG));
      const stream = new PassThrough();
      stream.end(Buffer.from('WORLD'));
      await client.upload(stream, 'up.bin', { offset: 5 });
      expect(server.files.get('up.bin')!.subarray(0, 10).toString('latin1')).toBe(BIG.subarray(0, 5).toString('latin1') + 'WORLD');
      await client.upload('!', 'up.bin', { append: true });
      expect(server.files.get('up.bin')!.toString('latin1').endsWith('WORLD!')).toBe(true);
    });
  });
});

describe('listings', () => {
  const files = { 'pub/a.txt': 'a', 'pub/b.txt': 'bb', 'pub/sub/c.txt': 'ccc' };

  it('uses MLSD when FEAT lists MLST', async () => {
    await withServer({ files }, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      const entries = await client.listDir('pub');
      expect(entries.map((e) => [e.name, e.type, e.size])).toEqual([
        ['a.txt', 'file', 1],
        ['b.txt', 'file', 2],
        ['sub', 'dir', undefined],
      ]);
      expect(server.sessions[0]!.commands).toContain('MLSD pub');
    });
  });

  it('falls back to LIST without MLST, and reads NLST', async () => {
    await withServer({ files, features: ['SIZE'] }, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port });
      expect((await client.listDir('pub')).map((e) => [e.name, e.type, e.size])).toEqual([
        ['a.txt', 'file', 1],
        ['b.txt', 'file', 2],
        ['sub', 'dir', 4096],
      ]);
      expect(await client.nlst('pub')).toEqual(['a.txt', 'b.txt', 'sub']);
      expect(server.sessions[0]!.commands.filter((c) => /^(MLSD|LIST|NLST)/.test(c))).toEqual(['LIST pub', 'NLST pub']);
    });
  });
});

describe('FTPS (RFC 4217)', () => {
  let pems: { cert: string; key: string };
  beforeAll(async () => {
    pems = await createDemoCertificate('localhost');
  });

  it('explicit: AUTH TLS, PBSZ 0, PROT P, TLS data connections resuming the control session', async () => {
    await withServer({ tls: pems, files: { 'big.bin': BIG } }, async (port, server) => {
      await using client = await FtpClient.connect({ host: '127.0.0.1', port, secure: 'explicit', tls: { ca: pems.cert } });
      const got = collector();
      await client.download('big.bin', got.sink);
      expect(sha(got.data())).toBe(sha(BIG));
      expect((await client.listDir()).map((e) => e.name)).toEqual(['big.bin']);
      const commands = server.sessions[0]!.commands;
      expect(commands.slice(0, 5)).toEqual(['AUTH TLS', 'USER anonymous', 'PASS anonymous@', 'PBSZ 0', 'PROT P']);
      expect(server.sessions[0]!.dataSockets.every((s) => 'encrypted' in s && s.encrypted)).toBe(true);
      expect(server.reusedDataSessions).toBe(2);
    });
  });

  it('implicit: TLS from the first byte (ftps://)', async () => {
    await withServer({ tls: { ...pems, implicit: true }, files: { a: 'secret' } }, async (port, server) => {
      await using client = await FtpClient.connect({ host: 'localhost', port, secure: 'implicit', tls: { ca: pems.cert } });
      const got = collector();
      await client.download('a', got.sink);
      expect(got.data().toString()).toBe('secret');
      expect(server.sessions[0]!.commands).not.toContain('AUTH TLS');
      expect(server.reusedDataSessions).toBe(1);
    });
  });

  it('explicit TLS to an IP address checks the certificate against that address', async () => {
    const other = await createDemoCertificate('other.name');
    await withServer({ tls: other }, async (port) => {
      // The certificate names other.name and 127.0.0.1: good for the address, whatever the name.
      const client = await FtpClient.connect({ host: '127.0.0.1', port, secure: 'explicit', tls: { ca: other.cert } });
      await client.quit();
    });
    const dir = await mkdtemp(join(tmpdir(), 'gorgon-cert-'));
    try {
      // A certificate for a name only: not good for 127.0.0.1.
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=other.name', '-addext', 'subjectAltName=DNS:other.name', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
      expect(made.status, String(made.stderr)).toBe(0);
      const named = { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
      await withServer({ tls: named }, async (port, server) => {
        const err = await FtpClient.connect({ host: '127.0.0.1', port, secure: 'explicit', tls: { ca: named.cert } }).catch((e: unknown) => e);
        expect(err).toMatchObject({ kind: 'tls-failed' });
        expect((err as Error).message).toMatch(/127\.0\.0\.1/);
        // Nothing was sent over the connection it did not trust.
        expect(server.sessions[0]!.commands).toEqual(['AUTH TLS']);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a certificate it cannot verify', async () => {
    await withServer({ tls: pems }, async (port) => {
      await expect(FtpClient.connect({ host: '127.0.0.1', port, secure: 'explicit' })).rejects.toMatchObject({ kind: 'tls-failed' });
    });
  });

  it('reports a server without AUTH TLS with its code', async () => {
    await withServer({}, async (port) => {
      await expect(FtpClient.connect({ host: '127.0.0.1', port, secure: 'explicit' })).rejects.toMatchObject({ code: 502, command: 'AUTH TLS' });
    });
  });
});
