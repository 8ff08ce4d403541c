/**
 * The Gorgon FTP server against lftp (mirror a tree down and up over MLSD, with MFMT/SITE CHMOD
 * after uploads, and FTPS with a checked certificate) and wget (single files and a recursive
 * fetch). Trees are compared file by file by checksum. Debian packages: lftp, wget.
 * @see RFC 959, RFC 3659 §7 (MLSD), RFC 4217
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { available, CI, need, PASSWORD, run, sha256, startFtp, treeSums, USER, type FtpFixture } from './ftp-server-fixtures.js';

const LFTP = '/usr/bin/lftp';
const WGET = '/usr/bin/wget';

let f: FtpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function lftp(fx: FtpFixture, script: string, settings = 'set ftp:ssl-allow no;'): Promise<{ code: number | null; out: string }> {
  need(LFTP, 'lftp');
  const home = join(fx.dir, 'lftp-home');
  await mkdir(home, { recursive: true });
  const r = await run(
    LFTP,
    [
      '-u',
      `${USER},${PASSWORD}`,
      '-e',
      `set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes; ${settings} ${script}; bye`,
      `ftp://127.0.0.1:${fx.port}`,
    ],
    { env: { HOME: home }, cwd: fx.dir, timeoutMs: 60_000 },
  );
  return { code: r.code, out: `${r.stdout.toString()}${r.stderr}` };
}

function expectMlsdUsed(fx: FtpFixture): void {
  expect(fx.logs.some((r) => r['event'] === 'transfer' && r['verb'] === 'MLSD')).toBe(true);
}

describe.skipIf(!CI && !available(LFTP))('lftp', () => {
  it('mirrors a tree down over MLSD, byte for byte', async () => {
    f = await startFtp();
    const r = await lftp(f, 'mirror pub out');
    expect(r.code, r.out).toBe(0);
    expect(await treeSums(join(f.dir, 'out'))).toEqual(await treeSums(join(f.root, 'pub')));
    expectMlsdUsed(f);
  });

  it('mirrors a file whose name is not UTF-8 (Latin-1) down with its exact name bytes', async () => {
    f = await startFtp();
    const name = Buffer.from('caf\xe9 latin-1.txt', 'latin1');
    await writeFile(Buffer.concat([Buffer.from(`${join(f.root, 'pub')}/`), name]), 'latin-1 name\n');
    const r = await lftp(f, 'mirror pub out');
    expect(r.code, r.out).toBe(0);
    const got = (await readdir(Buffer.from(join(f.dir, 'out')), { encoding: 'buffer' })).map((b) => b.toString('hex'));
    expect(got).toContain(name.toString('hex'));
    expect(await readFile(Buffer.concat([Buffer.from(`${join(f.dir, 'out')}/`), name]), 'utf8')).toBe('latin-1 name\n');
    expect(got).toContain(Buffer.from('readme.txt').toString('hex'));
  });

  it('mirrors a tree up (mirror -R) with times and modes set afterwards', async () => {
    f = await startFtp();
    const src = join(f.dir, 'local');
    await mkdir(join(src, 'deep/er'), { recursive: true });
    await writeFile(join(src, 'one.txt'), 'one\n');
    await writeFile(join(src, 'deep/two.bin'), Buffer.alloc(300_000, 9));
    await writeFile(join(src, 'deep/er/three.txt'), 'three\n', { mode: 0o600 });
    const r = await lftp(f, 'mirror -R local upload/mirrored');
    expect(r.code, r.out).toBe(0);
    expect(await treeSums(join(f.root, 'upload/mirrored'))).toEqual(await treeSums(src));
    const sent = new Set(
      f.logs.filter((l) => l['event'] === 'command').map((l) => `${String(l['verb'])} ${String(l['arg']).split(' ')[0]}`),
    );
    expect([...sent].some((c) => c.startsWith('STOR'))).toBe(true);
    // lftp sets the modification time (MFMT or SITE UTIME) and the mode (SITE CHMOD) after uploading.
    expect([...sent].some((c) => c.startsWith('MFMT') || c === 'SITE UTIME')).toBe(true);
    expect(sent.has('SITE CHMOD')).toBe(true);
    const st = await import('node:fs/promises').then((m) => m.stat(join(f!.root, 'upload/mirrored/deep/er/three.txt')));
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('lists with cls (MLSD) and removes with rm', async () => {
    f = await startFtp();
    const r = await lftp(f, 'cls -l pub/tree; rm pub/tree/a.txt');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/sub/);
    expect(r.out).toMatch(/a\.txt/);
    await expect(readFile(join(f.root, 'pub/tree/a.txt'))).rejects.toThrow();
  });

  it('FTPS: forced TLS with the certificate checked, mirror down and put', async () => {
    f = await startFtp({ requireTlsForLogin: true, requireTlsForData: true });
    await writeFile(join(f.dir, 'put.txt'), 'sent over TLS\n');
    const r = await lftp(
      f,
      'mirror pub/tree tls-out; put put.txt -o upload/put.txt',
      `set ftp:ssl-force yes; set ftp:ssl-protect-data yes; set ssl:ca-file ${f.certPath};`,
    );
    expect(r.code, r.out).toBe(0);
    expect(await treeSums(join(f.dir, 'tls-out'))).toEqual(await treeSums(join(f.root, 'pub/tree')));
    expect(await readFile(join(f.root, 'upload/put.txt'), 'utf8')).toBe('sent over TLS\n');
  });
});

describe.skipIf(!CI && !available(WGET))('wget', () => {
  it('fetches single files and a tree recursively', async () => {
    f = await startFtp();
    need(WGET, 'wget');
    const one = await run(WGET, ['-q', '-O', '-', `ftp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${f.port}/pub/data.bin`]);
    expect(one.code, one.stderr).toBe(0);
    expect(sha256(one.stdout)).toBe(sha256(f.files['pub/data.bin']!));
    const out = join(f.dir, 'wget');
    const tree = await run(
      WGET,
      ['-q', '-r', '-nH', '-P', out, `ftp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${f.port}/pub/tree/`],
      { timeoutMs: 60_000 },
    );
    expect(tree.code, tree.stderr).toBe(0);
    const got = await treeSums(join(out, 'pub/tree'));
    delete got['.listing'];
    delete got['sub/.listing'];
    expect(got).toEqual(await treeSums(join(f.root, 'pub/tree')));
    const bad = await run(WGET, ['-q', '-O', '-', `ftp://${USER}:nope@127.0.0.1:${f.port}/pub/readme.txt`]);
    expect(bad.code).not.toBe(0);
  });
});
