/**
 * The Gorgon FTP server against Python's ftplib (FTP and FTP_TLS with prot_p: mlsd,
 * storbinary, retrbinary, ASCII storlines/retrlines, nlst, size, rename, delete, abort) and
 * the basic-ftp npm client in process (TLS, upload, download, list). Content checked by
 * checksum. Debian package: python3 (ftplib is in the standard library). TLS endings are
 * checked with the strict upstream python3 on PATH (not Debian's), over TLS 1.3 and 1.2.
 * @see RFC 959, RFC 3659, RFC 4217
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterEach, describe, expect, it } from 'vitest';
import { available, CI, need, onDisk, PASSWORD, run, sha256, startFtp, USER, type FtpFixture } from './ftp-server-fixtures.js';

const PYTHON = '/usr/bin/python3';

/**
 * The strict TLS reader: an upstream CPython build on PATH (pyenv's 3.11 here), whose ssl module
 * does not set OP_IGNORE_UNEXPECTED_EOF as Debian's does, so a TLS data connection that ends
 * badly fails in FTP_TLS (SHUTDOWN_WHILE_IN_INIT, UNEXPECTED_EOF). See ../shared/INTEROP.md.
 * Debian's 3.11.2 is no substitute even with that option cleared (it accepted the endings that
 * 3.11.7 rejects), and apt has no other build: without an upstream python3 on PATH the test is
 * skipped, in CI too.
 */
const STRICT_PYTHON = strictPython();

function strictPython(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const candidate = join(dir, 'python3');
    if (dir !== '/usr/bin' && dir !== '/bin' && available(candidate)) return candidate;
  }
  return undefined;
}

let f: FtpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const FTPLIB_SESSION = `
import ftplib, hashlib, io, json, sys
host, port, user, password, secure, cafile = sys.argv[1:7]
port = int(port)
if secure == 'tls':
    import ssl
    ctx = ssl.create_default_context(cafile=cafile)
    ftp = ftplib.FTP_TLS(context=ctx, timeout=20)
    ftp.connect(host, port)
    ftp.login(user, password)
    ftp.prot_p()
else:
    ftp = ftplib.FTP(timeout=20)
    ftp.connect(host, port)
    ftp.login(user, password)
out = {}
out['welcome'] = ftp.getwelcome()
out['pwd'] = ftp.pwd()
ftp.cwd('pub')
out['nlst'] = sorted(ftp.nlst())
out['mlsd'] = {name: facts for name, facts in ftp.mlsd(facts=['type', 'size', 'perm'])}
buf = io.BytesIO()
ftp.retrbinary('RETR data.bin', buf.write)
out['data_sha'] = hashlib.sha256(buf.getvalue()).hexdigest()
ftp.voidcmd('TYPE I')
out['size'] = ftp.size('data.bin')
lines = []
ftp.retrlines('RETR readme.txt', lines.append)
out['lines'] = lines
payload = bytes(range(256)) * 4000
ftp.storbinary('STOR ../upload/py.bin', io.BytesIO(payload))
out['up_sha'] = hashlib.sha256(payload).hexdigest()
ftp.storlines('STOR ../upload/py.txt', io.BytesIO(b'first line\\nsecond line\\n'))
ftp.rename('../upload/py.txt', '../upload/py-renamed.txt')
ftp.mkd('../upload/made')
ftp.rmd('../upload/made')
try:
    ftp.delete('nothing-here')
    out['delete_missing'] = 'no error'
except ftplib.error_perm as e:
    out['delete_missing'] = str(e)[:3]
out['quit'] = ftp.quit()
print(json.dumps(out))
`;

const FTPLIB_ABORT = `
import ftplib, json, sys
host, port, user, password = sys.argv[1:5]
ftp = ftplib.FTP(timeout=20)
ftp.connect(host, int(port))
ftp.login(user, password)
ftp.voidcmd('TYPE I')
conn = ftp.transfercmd('RETR big.bin')
conn.recv(1024)
reply = ftp.abort()
conn.close()
# RFC 959: 426 for the transfer, then 226 for ABOR itself; ftplib's abort() reads the first.
second = ftp.getresp()
print(json.dumps({'abort': reply, 'second': second, 'after': ftp.sendcmd('NOOP')}))
`;

async function python(fx: FtpFixture, script: string, args: string[], interpreter = PYTHON): Promise<Record<string, unknown>> {
  need(interpreter, 'python3');
  const path = join(fx.dir, `ftplib-${Math.random().toString(36).slice(2)}.py`);
  await writeFile(path, script);
  const r = await run(interpreter, [path, ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`python3 exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
}

describe.skipIf(!CI && !available(PYTHON))('Python ftplib', () => {
  it.each([
    ['FTP', 'plain'],
    ['FTP_TLS with prot_p', 'tls'],
  ])('%s: mlsd, retrbinary, retrlines (ASCII), storbinary, storlines, rename', async (_name, secure) => {
    f = await startFtp(secure === 'tls' ? { requireTlsForData: true } : {});
    const r = await python(f, FTPLIB_SESSION, ['localhost', String(f.port), USER, PASSWORD, secure, f.certPath]);
    expect(r['welcome']).toBe('220 Gorgon FTP server ready.');
    expect(r['pwd']).toBe('/');
    expect(r['nlst']).toEqual(['data.bin', 'readme.txt', 'tree']);
    expect(r['mlsd']).toEqual({
      'data.bin': { type: 'file', size: '1048579', perm: 'adfrw' },
      'readme.txt': { type: 'file', size: '29', perm: 'adfrw' },
      tree: { type: 'dir', perm: 'cdeflmp' },
    });
    expect(r['data_sha']).toBe(sha256(f.files['pub/data.bin']!));
    expect(r['size']).toBe(1048579);
    expect(r['lines']).toEqual(['Line one', 'Line two', 'Line three']);
    expect(sha256((await onDisk(f, 'upload/py.bin'))!)).toBe(r['up_sha']);
    // storlines sends CRLF in TYPE A; the server stores local (LF) line ends.
    expect((await onDisk(f, 'upload/py-renamed.txt'))!.toString()).toBe('first line\nsecond line\n');
    expect(r['delete_missing']).toBe('550');
    expect(r['quit']).toBe('221 Goodbye.');
  });

  it('abort() mid-RETR: 426 then 226, and the session goes on', async () => {
    f = await startFtp();
    // Large enough that the transfer is still running when ABOR arrives (socket buffers are big).
    await writeFile(join(f.root, 'big.bin'), Buffer.alloc(256 * 1024 * 1024, 1));
    const r = await python(f, FTPLIB_ABORT, ['127.0.0.1', String(f.port), USER, PASSWORD]);
    expect(r['abort']).toMatch(/^426/);
    expect(r['second']).toBe('226 ABOR command successful.');
    expect(r['after']).toBe('200 NOOP ok.');
  });
});

const FTPLIB_TLS_ENDINGS = `
import ftplib, hashlib, io, json, ssl, sys
host, port, user, password, cafile, version = sys.argv[1:7]
sizes = [int(n) for n in sys.argv[7].split(',')]
ctx = ssl.create_default_context(cafile=cafile)
# Debian's build sets this by default; upstream CPython does not. Strict either way.
ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
if ctx.options & ssl.OP_IGNORE_UNEXPECTED_EOF:
    print(json.dumps({'lenient': True}))
    sys.exit(0)
v = ssl.TLSVersion.TLSv1_3 if version == '1.3' else ssl.TLSVersion.TLSv1_2
ctx.minimum_version = v
ctx.maximum_version = v
ftp = ftplib.FTP_TLS(context=ctx, timeout=10)
ftp.connect(host, int(port))
ftp.login(user, password)
ftp.prot_p()
out = {'version': ftp.sock.version()}
def step(name, fn):
    try:
        out[name] = fn()
    except (ssl.SSLError, OSError) as e:
        out[name] = 'ERROR %s: %s' % (type(e).__name__, e)
        # ftplib gave up before reading the transfer's reply: read it, as a careful client would.
        out[name + ' reply'] = ftp.getresp()
    except Exception as e:
        out[name] = 'ERROR %s: %s' % (type(e).__name__, e)
    # Every command gets one reply: after any failure the next one still belongs to NOOP.
    out[name + ' then'] = ftp.sendcmd('NOOP')
def retr(cmd):
    buf = io.BytesIO()
    ftp.retrbinary(cmd, buf.write)
    return hashlib.sha256(buf.getvalue()).hexdigest()
def lines(cmd):
    got = []
    ftp.retrlines(cmd, got.append)
    return got
for n in sizes:
    step('retrbinary %d' % n, lambda: retr('RETR sized/%d.bin' % n))
    step('retrlines %d' % n, lambda: len(lines('RETR sized/%d.txt' % n)))
    step('storbinary %d' % n, lambda: ftp.storbinary('STOR sized/up-%d.bin' % n, io.BytesIO(b'u' * n)))
step('nlst', lambda: sorted(ftp.nlst('sized')))
step('nlst empty', lambda: ftp.nlst('empty'))
step('mlsd', lambda: sorted(name for name, facts in ftp.mlsd('sized')))
step('list', lambda: len(lines('LIST sized')))
def cut():
    # A client that fails on its side: it drops the TLS data connection mid-file, no close_notify.
    conn = ftp.transfercmd('RETR sized/65537.bin')
    conn.recv(10)
    conn.close()
    try:
        return ftp.getresp()[:3]
    except ftplib.error_temp as e:
        return str(e)[:3]
step('cut', cut)
out['quit'] = ftp.quit()
print(json.dumps(out))
`;

describe.skipIf(STRICT_PYTHON === undefined)('strict FTP_TLS (upstream CPython): every TLS data connection ends with close_notify', () => {
  const SIZES = [0, 1, 4000, 4096, 65537];
  it.each(['1.3', '1.2'])('TLS %s: files of 0–65537 bytes both ways and listings, with the session in step', async (version) => {
    f = await startFtp({ requireTlsForData: true });
    await mkdir(join(f.root, 'sized'));
    await mkdir(join(f.root, 'empty'));
    const sums: Record<number, string> = {};
    for (const n of SIZES) {
      const body = randomBytes(n);
      sums[n] = sha256(body);
      await writeFile(join(f.root, 'sized', `${n}.bin`), body);
      await writeFile(join(f.root, 'sized', `${n}.txt`), 'line\n'.repeat(Math.ceil(n / 5)).slice(0, n));
    }
    const r = await python(
      f,
      FTPLIB_TLS_ENDINGS,
      ['localhost', String(f.port), USER, PASSWORD, f.certPath, version, SIZES.join(',')],
      STRICT_PYTHON!,
    );
    if (r['lenient'] === true) throw new Error(`${STRICT_PYTHON} ignores unexpected EOF: not a strict reader`);
    expect(r['version']).toBe(`TLSv${version}`);
    for (const n of SIZES) {
      expect(r[`retrbinary ${n}`], `RETR of ${n} bytes`).toBe(sums[n]);
      expect(r[`retrlines ${n}`], `ASCII RETR of ${n} bytes`).toBe(Math.ceil(n / 5));
      expect(r[`storbinary ${n}`], `STOR of ${n} bytes`).toBe('226 Transfer complete.');
      expect((await onDisk(f, `sized/up-${n}.bin`))?.length).toBe(n);
    }
    const names = [...SIZES.flatMap((n) => [`${n}.bin`, `${n}.txt`]), ...SIZES.map((n) => `up-${n}.bin`)];
    names.sort();
    expect(r['nlst']).toEqual(names);
    expect(r['nlst empty']).toEqual([]);
    expect(r['mlsd']).toEqual(names);
    expect(r['list']).toBe(names.length);
    expect(r['cut']).toMatch(/^(226|426)$/); // one reply for the cut transfer, then NOOP's own
    for (const [key, value] of Object.entries(r)) if (key.endsWith(' then')) expect(value, key).toBe('200 NOOP ok.');
    expect(r['quit']).toBe('221 Goodbye.');
  });
});

function sink(parts: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _e, cb) {
      parts.push(chunk);
      cb();
    },
  });
}

describe('basic-ftp (in process)', () => {
  it.each([
    ['plain', false],
    ['explicit TLS', true],
    ['implicit TLS', 'implicit'],
  ] as const)('%s: list, download, upload, resume, rename, remove', async (_name, secure) => {
    f = await startFtp();
    const client = new Client(10_000);
    try {
      await client.access({
        host: 'localhost',
        port: secure === 'implicit' ? f.tlsPort : f.port,
        user: USER,
        password: PASSWORD,
        secure,
        secureOptions: { ca: f.cert.cert, servername: 'localhost' },
      });
      const list = await client.list('/pub/tree/sub');
      expect(list.map((e) => e.name).sort()).toEqual(['b.bin', 'ünïcode name.txt']);
      const parts: Buffer[] = [];
      await client.downloadTo(sink(parts), '/pub/data.bin');
      expect(sha256(Buffer.concat(parts))).toBe(sha256(f.files['pub/data.bin']!));
      const body = randomBytes(777_777);
      await client.uploadFrom(Readable.from([body]), '/upload/basic.bin');
      expect(sha256((await onDisk(f, 'upload/basic.bin'))!)).toBe(sha256(body));
      const tail: Buffer[] = [];
      await client.downloadTo(sink(tail), '/upload/basic.bin', 700_000);
      expect(Buffer.concat(tail).equals(body.subarray(700_000))).toBe(true);
      await client.rename('/upload/basic.bin', '/upload/moved.bin');
      expect(await client.size('/upload/moved.bin')).toBe(777_777);
      await client.remove('/upload/moved.bin');
      expect(await onDisk(f, 'upload/moved.bin')).toBeUndefined();
      const utf8 = await readFile(join(f.root, 'pub/tree/sub/ünïcode name.txt'));
      const got: Buffer[] = [];
      await client.downloadTo(sink(got), '/pub/tree/sub/ünïcode name.txt');
      expect(Buffer.concat(got).equals(utf8)).toBe(true);
    } finally {
      client.close();
    }
  });
});
