/**
 * The Gorgon FTP server against curl: list, get, put, resume both ways (`-C -`), explicit and
 * implicit FTPS with certificate checks, EPSV/PASV/active (PORT/EPRT) data connections, quote
 * commands, error exit codes, and the ranged download that ends with ABOR. Content is checked
 * by checksum. Debian package: curl.
 * @see RFC 959, RFC 2428, RFC 3659, RFC 4217
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { available, CI, need, onDisk, PASSWORD, run, sha256, startFtp, USER, type FtpFixture } from './ftp-server-fixtures.js';

const CURL = '/usr/bin/curl';
const skip = !CI && !available(CURL);

let f: FtpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function curl(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  need(CURL, 'curl');
  return run(CURL, ['-sS', '--max-time', '20', '--user', `${USER}:${PASSWORD}`, ...args]);
}

describe.skipIf(skip)('curl', () => {
  it('lists a directory (LIST and NLST)', async () => {
    f = await startFtp();
    const list = await curl([`ftp://127.0.0.1:${f.port}/pub/`]);
    expect(list.code).toBe(0);
    expect(list.stdout.toString()).toMatch(/^-rw-r--r-- .* 1048579 .* data\.bin\r?\n/m);
    expect(list.stdout.toString()).toMatch(/^drwx.* tree\r?\n/m);
    const names = await curl(['-l', `ftp://127.0.0.1:${f.port}/pub/`]);
    expect(names.stdout.toString().split(/\r?\n/).filter(Boolean).sort()).toEqual(['data.bin', 'readme.txt', 'tree']);
  });

  it.each([
    ['EPSV', []],
    ['PASV (--disable-epsv)', ['--disable-epsv']],
    ['PASV (--ftp-pasv)', ['--ftp-pasv', '--disable-epsv']],
    ['active PORT (--ftp-port)', ['--ftp-port', '127.0.0.1', '--disable-eprt']],
    ['active EPRT (-P)', ['-P', '127.0.0.1']],
  ])('downloads and uploads over %s', async (_name, flags) => {
    f = await startFtp();
    const got = await curl([...flags, `ftp://127.0.0.1:${f.port}/pub/data.bin`]);
    expect(got.code, got.stderr).toBe(0);
    expect(sha256(got.stdout)).toBe(sha256(f.files['pub/data.bin']!));
    const body = randomBytes(300_000);
    const local = join(f.dir, 'up.bin');
    await writeFile(local, body);
    const put = await curl([...flags, '-T', local, `ftp://127.0.0.1:${f.port}/upload/`]);
    expect(put.code, put.stderr).toBe(0);
    expect(sha256((await onDisk(f, 'upload/up.bin'))!)).toBe(sha256(body));
  });

  it('resumes a download and an upload with -C -', async () => {
    f = await startFtp();
    const full = f.files['pub/data.bin']!;
    const local = join(f.dir, 'partial.bin');
    await writeFile(local, full.subarray(0, 400_000));
    const down = await curl(['-C', '-', '-o', local, `ftp://127.0.0.1:${f.port}/pub/data.bin`]);
    expect(down.code, down.stderr).toBe(0);
    expect(sha256(await readFile(local))).toBe(sha256(full));
    // Upload: half is already on the server; curl asks SIZE and sends the rest with APPE.
    const body = randomBytes(500_000);
    await writeFile(join(f.root, 'upload/resume.bin'), body.subarray(0, 123_456));
    const src = join(f.dir, 'resume-src.bin');
    await writeFile(src, body);
    const up = await curl(['-C', '-', '-T', src, `ftp://127.0.0.1:${f.port}/upload/resume.bin`]);
    expect(up.code, up.stderr).toBe(0);
    expect(sha256((await onDisk(f, 'upload/resume.bin'))!)).toBe(sha256(body));
  });

  it('explicit FTPS with --ssl-reqd and --cacert, control and data encrypted', async () => {
    f = await startFtp({ requireTlsForLogin: true, requireTlsForData: true });
    const got = await curl(['--ssl-reqd', '--cacert', f.certPath, `ftp://localhost:${f.port}/pub/data.bin`]);
    expect(got.code, got.stderr).toBe(0);
    expect(sha256(got.stdout)).toBe(sha256(f.files['pub/data.bin']!));
    const local = join(f.dir, 'tls-up.bin');
    const body = randomBytes(200_000);
    await writeFile(local, body);
    const put = await curl(['--ssl-reqd', '--cacert', f.certPath, '-T', local, `ftp://localhost:${f.port}/upload/`]);
    expect(put.code, put.stderr).toBe(0);
    expect(sha256((await onDisk(f, 'upload/tls-up.bin'))!)).toBe(sha256(body));
    // Without TLS the server refuses the login; curl without --ssl-reqd fails to log in.
    const plain = await curl([`ftp://127.0.0.1:${f.port}/pub/readme.txt`]);
    expect(plain.code).toBe(67);
  });

  it('implicit FTPS (ftps://) and a certificate it does not trust', async () => {
    f = await startFtp();
    const got = await curl(['--cacert', f.certPath, `ftps://localhost:${f.tlsPort}/pub/readme.txt`]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.equals(f.files['pub/readme.txt']!)).toBe(true);
    const untrusted = await curl([`ftps://localhost:${f.tlsPort}/pub/readme.txt`]);
    expect(untrusted.code).toBe(60);
  });

  it('quote commands, errors and exit codes', async () => {
    f = await startFtp();
    const mkd = await curl(['-Q', 'MKD made', '-Q', 'RNFR made', '-Q', 'RNTO renamed', `ftp://127.0.0.1:${f.port}/`]);
    expect(mkd.code, mkd.stderr).toBe(0);
    expect(mkd.stdout.toString()).toMatch(/ renamed\r?\n/);
    const missing = await curl([`ftp://127.0.0.1:${f.port}/pub/nothing.txt`]);
    expect(missing.code).toBe(78);
    const badLogin = await run(CURL, ['-sS', '--user', `${USER}:wrong`, `ftp://127.0.0.1:${f.port}/`]);
    expect(badLogin.code).toBe(67);
    const readOnly = await run(CURL, [
      '-sS',
      '--user',
      'reader:reader',
      '-T',
      join(f.root, 'pub/readme.txt'),
      `ftp://127.0.0.1:${f.port}/upload/`,
    ]);
    expect(readOnly.code).toBe(25);
    const traversal = await curl([`ftp://127.0.0.1:${f.port}/../../../../etc/passwd`]);
    expect(traversal.code).not.toBe(0);
  });

  it('a ranged download (-r) that ends with ABOR', async () => {
    f = await startFtp();
    const got = await curl(['-r', '1000-1999', `ftp://127.0.0.1:${f.port}/pub/data.bin`]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout.equals(f.files['pub/data.bin']!.subarray(1000, 2000))).toBe(true);
  });
});
