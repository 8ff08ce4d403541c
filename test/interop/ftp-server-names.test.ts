/**
 * File names through Python's ftplib, which sends a name exactly as given: trailing spaces are
 * part of a path argument (as vsftpd reads them). Debian package: python3.
 * @see RFC 959 §4.1.3, §5.3.2
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { available, CI, need, PASSWORD, run, startFtp, USER, type FtpFixture } from './ftp-server-fixtures.js';

const PYTHON = '/usr/bin/python3';

let f: FtpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function python(fx: FtpFixture, script: string): Promise<Record<string, unknown>> {
  need(PYTHON, 'python3');
  const path = join(fx.dir, 'names.py');
  await writeFile(path, script);
  const r = await run(PYTHON, [path, '127.0.0.1', String(fx.port), USER, PASSWORD], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`python3 exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
}

const TRAILING_SPACES = `
import ftplib, io, json, sys
host, port, user, password = sys.argv[1:5]
ftp = ftplib.FTP(timeout=10)
ftp.connect(host, int(port))
ftp.login(user, password)
ftp.voidcmd('TYPE I')
ftp.cwd('upload')
out = {}
def err(f):
    try:
        return f()
    except ftplib.error_perm as e:
        return str(e)[:3]
out['size_before'] = err(lambda: ftp.size('a.txt '))
ftp.storbinary('STOR victim ', io.BytesIO(b'attacker'))
ftp.storbinary('STOR a.txt ', io.BytesIO(b'spaced!'))
out['size_after'] = ftp.size('a.txt ')
buf = io.BytesIO()
ftp.retrbinary('RETR a.txt ', buf.write)
out['retr'] = buf.getvalue().decode()
out['mkd'] = ftp.mkd('dir ')
ftp.cwd('dir ')
out['pwd'] = ftp.pwd()
ftp.cwd('..')
out['nlst'] = sorted(ftp.nlst())
ftp.rename('a.txt ', 'b.txt ')
ftp.delete('victim ')
ftp.rmd('dir ')
out['final'] = sorted(ftp.nlst())
ftp.quit()
print(json.dumps(out))
`;

describe.skipIf(!CI && !available(PYTHON))('file names through Python ftplib', () => {
  it('keeps trailing spaces: STOR "victim " leaves victim alone, SIZE/RETR/MKD/CWD/RNFR/DELE/RMD name the spaced entry', async () => {
    f = await startFtp();
    await mkdir(join(f.root, 'upload'), { recursive: true });
    await writeFile(join(f.root, 'upload', 'victim'), 'precious');
    await writeFile(join(f.root, 'upload', 'a.txt'), 'plain');
    const out = await python(f, TRAILING_SPACES);
    expect(out).toEqual({
      size_before: '550',
      size_after: 7,
      retr: 'spaced!',
      mkd: '/upload/dir ',
      pwd: '/upload/dir ',
      nlst: ['.keep', 'a.txt', 'a.txt ', 'dir ', 'victim', 'victim '],
      final: ['.keep', 'a.txt', 'b.txt ', 'victim'],
    });
    expect(await readFile(join(f.root, 'upload', 'victim'), 'utf8')).toBe('precious');
    expect(await readFile(join(f.root, 'upload', 'b.txt '), 'utf8')).toBe('spaced!');
    expect((await readdir(join(f.root, 'upload'))).sort()).toEqual(['.keep', 'a.txt', 'b.txt ', 'victim']);
  });
});
