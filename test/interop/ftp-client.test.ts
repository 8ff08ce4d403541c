/**
 * The FTP client and `gorgon fetch` against stock servers from Debian: vsftpd (plain, explicit
 * FTPS with its required TLS session reuse, implicit FTPS) and pyftpdlib (MLSD, users, FTPS).
 * Every download is checked by SHA-256 against the served file. Off CI a missing server skips
 * its block; with CI=true it fails.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { runCli } from '@gorgon/cli';
import { fetchFiles, FtpClient, FtpError, type FetchEvent } from '@gorgon/ftp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CI, hasPyftpdlib, hasVsftpd, startPyftpdlib, startVsftpd, type StockServer } from './ftp-client-stock.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function collector(): { sink: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    sink: new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
    data: () => Buffer.concat(parts),
  };
}

let work: string;
const cert = { certPath: '', keyPath: '', pem: '' };
/** Served files by server name and path relative to its root. */
const served = new Map<string, Map<string, Buffer>>();
const running: StockServer[] = [];

async function makeRoot(name: string, count: number): Promise<string> {
  const root = join(work, `root-${name}`);
  const files = new Map<string, Buffer>();
  await mkdir(join(root, 'pub', 'sub'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const data = randomBytes(3_000 + i * 57_000);
    files.set(`pub/${name}-${String(i).padStart(2, '0')}.bin`, data);
  }
  files.set('pub/sub/nested.txt', Buffer.from(`nested on ${name}\n`));
  files.set('big.bin', randomBytes(6 * 1024 * 1024 + 3));
  for (const [path, data] of files) await writeFile(join(root, path), data);
  served.set(name, files);
  return root;
}

async function start<T extends StockServer>(server: Promise<T>): Promise<T> {
  const s = await server;
  running.push(s);
  return s;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gorgon-ftp-client-interop-'));
  const pems = await createDemoCertificate('localhost');
  cert.certPath = join(work, 'cert.pem');
  cert.keyPath = join(work, 'key.pem');
  cert.pem = pems.cert;
  await writeFile(cert.certPath, pems.cert);
  await writeFile(cert.keyPath, pems.key, { mode: 0o600 });
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!CI && !hasVsftpd)('vsftpd', () => {
  let plain: StockServer;
  let explicit: StockServer;
  let implicit: StockServer;
  let files: Map<string, Buffer>;

  beforeAll(async () => {
    const root = await makeRoot('vs', 12);
    files = served.get('vs')!;
    plain = await start(startVsftpd({ root, work: join(work, 'vs-plain') }));
    explicit = await start(startVsftpd({ root, work: join(work, 'vs-tls'), tls: cert }));
    implicit = await start(startVsftpd({ root, work: join(work, 'vs-implicit'), tls: { ...cert, implicit: true } }));
  });

  it('FtpClient: LIST (vsftpd has no MLSD), SIZE, MDTM, EPSV download and REST resume, by SHA-256', async () => {
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: plain.port });
    expect(client.featureSet.has('EPSV')).toBe(true);
    expect(client.featureSet.has('MLST')).toBe(false);
    const entries = await client.listDir('pub');
    expect(entries.filter((e) => e.type === 'file').map((e) => [e.name, e.size])).toEqual(
      [...files].filter(([p]) => /^pub\/[^/]+$/.test(p)).map(([p, d]) => [p.slice(4), d.length]),
    );
    expect(entries.find((e) => e.name === 'sub')?.type).toBe('dir');
    const big = files.get('big.bin')!;
    expect(await client.size('big.bin')).toBe(big.length);
    expect((await client.modifiedTime('big.bin')).getTime()).toBeGreaterThan(Date.now() - 3600_000);
    const whole = collector();
    await client.download('big.bin', whole.sink);
    expect(sha(whole.data())).toBe(sha(big));
    const tail = collector();
    await client.download('big.bin', tail.sink, { offset: 4_000_000 });
    expect(sha(tail.data())).toBe(sha(big.subarray(4_000_000)));
    await expect(client.download('none.bin', collector().sink)).rejects.toMatchObject({ code: 550 });
  });

  it('explicit FTPS: AUTH TLS, PROT P, data connections resuming the TLS session (require_ssl_reuse)', async () => {
    await using client = await FtpClient.connect({ host: 'localhost', port: explicit.port, secure: 'explicit', tls: { ca: cert.pem } });
    const got = collector();
    await client.download('big.bin', got.sink);
    expect(sha(got.data())).toBe(sha(files.get('big.bin')!));
    expect((await client.listDir('pub/sub')).map((e) => e.name)).toEqual(['nested.txt']);
  });

  it('implicit FTPS (ftps://) with fetchFiles', async () => {
    const out = join(work, 'out-vs-implicit');
    const result = await fetchFiles([`ftps://localhost:${implicit.port}/pub/sub/*`], { outDir: out, tls: { ca: cert.pem } });
    expect(result.failed).toEqual([]);
    expect(await readFile(join(out, 'nested.txt'), 'utf8')).toBe('nested on vs\n');
  });

  it('fetchFiles: a glob over 3 connections, resuming a .part file', async () => {
    const out = join(work, 'out-vs');
    await mkdir(out, { recursive: true });
    const partial = files.get('pub/vs-07.bin')!;
    await writeFile(join(out, 'vs-07.bin.part'), partial.subarray(0, 200_000));
    const events: FetchEvent[] = [];
    const result = await fetchFiles([`ftp://127.0.0.1:${plain.port}/pub/*.bin`], {
      outDir: out,
      parallel: 3,
      onProgress: (e) => events.push(e),
    });
    expect(result.failed).toEqual([]);
    expect(result.done).toBe(12);
    for (const [path, data] of files) {
      if (!/^pub\/[^/]+\.bin$/.test(path)) continue;
      expect(sha(await readFile(join(out, path.slice(4)))), path).toBe(sha(data));
    }
    expect(events.find((e) => e.type === 'done' && e.file.remotePath === 'pub/vs-07.bin')).toMatchObject({ resumedFrom: 200_000 });
  });
});

describe.skipIf(!CI && !hasPyftpdlib)('pyftpdlib', () => {
  let plain: StockServer;
  let secure: StockServer;
  let files: Map<string, Buffer>;
  let root: string;

  beforeAll(async () => {
    root = await makeRoot('py', 12);
    files = served.get('py')!;
    plain = await start(startPyftpdlib({ root, work, users: { bob: 'builder' } }));
    secure = await start(startPyftpdlib({ root, work, tls: cert }));
  });

  it('FtpClient: MLSD facts, a user upload read back, and a wrong password as FtpError 530', async () => {
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: plain.port, user: 'bob', password: 'builder' });
    expect(client.featureSet.has('MLST')).toBe(true);
    const entries = await client.mlsd('pub');
    expect(entries.find((e) => e.name === 'py-03.bin')).toMatchObject({ type: 'file', size: files.get('pub/py-03.bin')!.length });
    expect(entries.find((e) => e.name === 'sub')).toMatchObject({ type: 'dir' });
    const body = randomBytes(1_500_000);
    await client.upload(body, 'uploaded.bin');
    expect(sha(await readFile(join(root, 'uploaded.bin')))).toBe(sha(body));
    const back = collector();
    await client.download('uploaded.bin', back.sink, { offset: 1_000_000 });
    expect(sha(back.data())).toBe(sha(body.subarray(1_000_000)));
    const err = await FtpClient.connect({ host: '127.0.0.1', port: plain.port, user: 'bob', password: 'wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FtpError);
    expect((err as FtpError).code).toBe(530);
  });

  it('explicit FTPS with PROT P', async () => {
    await using client = await FtpClient.connect({ host: 'localhost', port: secure.port, secure: 'explicit', tls: { ca: cert.pem } });
    const got = collector();
    await client.download('big.bin', got.sink);
    expect(sha(got.data())).toBe(sha(files.get('big.bin')!));
  });
});

describe.skipIf(!CI && !(hasVsftpd && hasPyftpdlib))('two stock servers at once', () => {
  let vs: StockServer;
  let py: StockServer;

  beforeAll(async () => {
    const vsRoot = await makeRoot('vs2', 11);
    const pyRoot = await makeRoot('py2', 11);
    vs = await start(startVsftpd({ root: vsRoot, work: join(work, 'vs2') }));
    py = await start(startPyftpdlib({ root: pyRoot, work, users: { bob: 'builder' } }));
  });

  it('fetchFiles: 22 files from vsftpd and pyftpdlib in parallel, one resumed, by SHA-256', async () => {
    const out = join(work, 'out-both');
    await mkdir(out, { recursive: true });
    const partial = served.get('py2')!.get('pub/py2-09.bin')!;
    await writeFile(join(out, 'py2-09.bin.part'), partial.subarray(0, 123_457));
    const result = await fetchFiles([`ftp://127.0.0.1:${vs.port}/pub/*.bin`, `ftp://127.0.0.1:${py.port}/pub/py2-*`], {
      outDir: out,
      parallel: 4,
      perHost: 3,
    });
    expect(result.failed).toEqual([]);
    expect(result.done).toBe(22);
    for (const name of ['vs2', 'py2']) {
      for (const [path, data] of served.get(name)!) {
        if (!/^pub\/[^/]+\.bin$/.test(path)) continue;
        expect(sha(await readFile(join(out, path.slice(4)))), path).toBe(sha(data));
      }
    }
  });

  it('gorgon fetch: lines, a summary, failures named on stderr, exit status', async () => {
    const out = join(work, 'out-cli');
    const { run, restore } = captureCli();
    try {
      const ok = await run(
        'fetch',
        `ftp://127.0.0.1:${vs.port}/pub/sub/*`,
        `ftp://bob:builder@127.0.0.1:${py.port}/big.bin`,
        '-o',
        out,
        '-j',
        '2',
        '--progress',
        'lines',
      );
      expect(ok.code, ok.err).toBe(0);
      expect(ok.out).toMatch(/^done +nested\.txt/m);
      expect(ok.out).toMatch(/^fetched 2 of 2 files \(6\.0 MiB\) in [\d.]+ s\.$/m);
      expect(sha(await readFile(join(out, 'big.bin')))).toBe(sha(served.get('py2')!.get('big.bin')!));

      const again = await run(
        'fetch',
        `ftp://127.0.0.1:${vs.port}/pub/sub/*`,
        `ftp://127.0.0.1:${vs.port}/pub/missing.bin`,
        '-o',
        out,
        '--progress',
        'lines',
      );
      expect(again.code).toBe(1);
      expect(again.out).toMatch(/^skip +nested\.txt \(already complete\)$/m);
      expect(again.err).toContain(
        `gorgon: failed missing.bin: pub/missing.bin on 127.0.0.1:${vs.port}: no such file or no permission (550`,
      );
      expect(again.err).toMatch(/^gorgon: 1 of 2 files failed\.$/m);

      const wrong = await run('fetch', `ftp://bob:nope@127.0.0.1:${py.port}/big.bin`, '-o', out, '--progress', 'lines');
      expect(wrong.code).toBe(1);
      expect(wrong.err).toBe(
        `gorgon: 127.0.0.1:${py.port} refused the login as bob: wrong user name or password? (530 Authentication failed.).\n`,
      );

      const bars = await run('fetch', `ftp://127.0.0.1:${vs.port}/pub/vs2-0*.bin`, '-o', join(work, 'out-bars'), '--progress', 'bars');
      expect(bars.code, bars.err).toBe(0);
      expect(bars.out).toMatch(/total .* 100% 10\/10 files/);
      expect(bars.out).toMatch(/done +vs2-09\.bin/);
    } finally {
      restore();
    }
  });
});

describe('gorgon fetch errors for people (no server needed)', () => {
  it('a refused connection, a bad URL and a bad option: one sentence each', async () => {
    const { run, restore } = captureCli();
    try {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const closedPort = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const down = await run(
        'fetch',
        `ftp://127.0.0.1:${closedPort}/x`,
        '-o',
        join(work, 'nothing'),
        '--retries',
        '0',
        '--progress',
        'lines',
      );
      expect(down.code).toBe(1);
      expect(down.err).toBe(`gorgon: cannot connect to 127.0.0.1:${closedPort}: connection refused.\n`);

      const bad = await run('fetch', 'ftp//127.0.0.1/x', '-o', join(work, 'nothing'));
      expect(bad.code).toBe(2);
      expect(bad.err).toBe('gorgon: ftp//127.0.0.1/x is not a URL: write ftp://host/path or ftps://host/path.\n');

      const zero = await run('fetch', 'ftp://127.0.0.1/x', '--parallel', '0');
      expect(zero.code).toBe(2);
      expect(zero.err).toMatch(/^gorgon: --parallel must be a whole number of at least 1, got 0\.\n/);
    } finally {
      restore();
    }
  });
});

/** Runs the CLI in-process, capturing what the fetch command and the CLI print. */
function captureCli(): { run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }>; restore: () => void } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const outSpy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  const run = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    stdout.length = 0;
    stderr.length = 0;
    let err = '';
    const code = await runCli(argv, { stderr: (t) => (err += t) });
    return { code, out: stdout.join(''), err: stderr.join('') + err };
  };
  return {
    run,
    restore: () => {
      outSpy.mockRestore();
      errSpy.mockRestore();
    },
  };
}
