/**
 * Path arguments are everything after the one space that follows the verb, spaces at the end
 * included (as vsftpd reads them), in every command that takes a path; LIST/NLST/STAT still
 * drop `ls` flags. Through a real socket against a disk root. @see RFC 959 §4.1.3, §5.3.2
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { DiskFs } from '@gorgon/ftp';
import { testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll, sendAll } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
const dirs: string[] = [];
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

type Client = Awaited<ReturnType<typeof controlClient>>;

/** A command that uses the data connection: the opening reply, the bytes, the final reply. */
async function withData(c: Client, line: string, upload?: Buffer): Promise<{ opening: string; body: string; done: string }> {
  const d = await dataConnect(await epsv(c));
  const got = upload ? sendAll(d, upload).then(() => Buffer.alloc(0)) : readAll(d);
  const opening = await cmd(c, line);
  if (!opening.startsWith('150')) {
    d.destroy();
    return { opening, body: '', done: '' };
  }
  return { opening, body: (await got).toString(), done: await c.line() };
}

/** A multi-line reply's lines. */
async function multi(c: Client, line: string): Promise<string[]> {
  c.sendLine(line);
  const out = [await c.line()];
  const code = out[0]!.slice(0, 3);
  if (out[0]![3] === '-') while (!out[out.length - 1]!.startsWith(`${code} `)) out.push(await c.line());
  return out;
}

async function setup(): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'gorgon-ftp-spaces-'));
  dirs.push(base);
  await writeFile(join(base, 'a.txt'), 'plain a');
  await writeFile(join(base, 'victim'), 'precious');
  await mkdir(join(base, 'd'));
  await writeFile(join(base, 'd', 'in-d'), '');
  await mkdir(join(base, 'd '));
  await writeFile(join(base, 'd ', 'in-d-space'), '');
  return base;
}

describe('path arguments keep their trailing spaces', () => {
  it('STOR, RETR, APPE, SIZE, MDTM, DELE, RNFR/RNTO, SITE CHMOD/UTIME, MFMT, STOU name the spaced file', async () => {
    const root = await setup();
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);

    expect(await cmd(c, 'SIZE a.txt ')).toBe('550 No such file or directory.');
    expect(await cmd(c, 'MDTM a.txt ')).toBe('550 No such file or directory.');
    expect((await withData(c, 'RETR a.txt ')).opening).toBe('550 No such file or directory.');

    const stor = await withData(c, 'STOR victim ', Buffer.from('attacker'));
    expect(stor.done).toBe('226 Transfer complete.');
    expect(await readFile(join(root, 'victim'), 'utf8')).toBe('precious');
    expect(await readFile(join(root, 'victim '), 'utf8')).toBe('attacker');

    await withData(c, 'STOR a.txt  ', Buffer.from('two spaces'));
    expect(await cmd(c, 'SIZE a.txt  ')).toBe('213 10');
    expect(await cmd(c, 'SIZE a.txt')).toBe('213 7');
    expect((await withData(c, 'RETR a.txt  ')).body).toBe('two spaces');
    expect((await withData(c, 'APPE a.txt  ', Buffer.from('!'))).done).toBe('226 Transfer complete.');
    expect(await readFile(join(root, 'a.txt  '), 'utf8')).toBe('two spaces!');
    expect(await readFile(join(root, 'a.txt'), 'utf8')).toBe('plain a');

    expect(await cmd(c, 'SITE CHMOD 600 a.txt  ')).toBe('200 SITE CHMOD command successful.');
    expect((await stat(join(root, 'a.txt  '))).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'a.txt'))).mode & 0o777).not.toBe(0o600);
    expect(await cmd(c, 'SITE UTIME 20200102030405 a.txt  ')).toBe('200 SITE UTIME command successful.');
    expect(await cmd(c, 'MDTM a.txt  ')).toBe('213 20200102030405');
    expect(await cmd(c, 'MFMT 20210102030405 a.txt  ')).toBe('213 Modify=20210102030405; /a.txt  ');
    expect((await stat(join(root, 'a.txt'))).mtime.getUTCFullYear()).not.toBe(2021);

    expect(await cmd(c, 'RNFR a.txt  ')).toMatch(/^350 /);
    expect(await cmd(c, 'RNTO b.txt ')).toBe('250 Rename successful.');
    expect(await readFile(join(root, 'b.txt '), 'utf8')).toBe('two spaces!');

    const stou = await withData(c, 'STOU u ', Buffer.from('unique'));
    expect(stou.opening).toBe('150 FILE: u ');
    expect(await readFile(join(root, 'u '), 'utf8')).toBe('unique');

    expect(await cmd(c, 'DELE victim ')).toBe('250 File removed.');
    expect(await readFile(join(root, 'victim'), 'utf8')).toBe('precious');
    expect((await readdir(root)).sort()).toEqual(['a.txt', 'b.txt ', 'd', 'd ', 'u ', 'victim']);
    c.end();
    await c.closed();
  });

  it('CWD, MKD, RMD, LIST, NLST, MLSD, MLST and STAT name the spaced directory; ls flags still go', async () => {
    const root = await setup();
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);

    expect((await withData(c, 'NLST d ')).body).toBe('in-d-space\r\n');
    expect((await withData(c, 'NLST d')).body).toBe('in-d\r\n');
    expect((await withData(c, 'LIST d ')).body).toMatch(/ in-d-space\r\n$/);
    expect((await withData(c, 'LIST -la d ')).body).toMatch(/ in-d-space\r\n$/);
    expect((await withData(c, 'LIST -a')).body).toContain(' victim\r\n');
    expect((await withData(c, 'NLST -1')).body.split('\r\n')).toContain('d ');
    expect((await withData(c, 'MLSD d ')).body).toMatch(/; in-d-space\r\n$/);
    expect(await multi(c, 'MLST d ')).toEqual(['250-Listing /d ', expect.stringMatching(/^ type=dir;.*; \/d $/), '250 End.']);
    const status = await multi(c, 'STAT d ');
    expect(status[0]).toBe('213-Status of /d :');
    expect(status[1]).toMatch(/ in-d-space$/);

    expect(await cmd(c, 'MKD m ')).toBe('257 "/m " created.');
    expect((await stat(join(root, 'm '))).isDirectory()).toBe(true);
    expect(await cmd(c, 'CWD m ')).toBe('250 Directory changed to "/m ".');
    expect(await cmd(c, 'PWD')).toBe('257 "/m " is the current directory.');
    expect(await cmd(c, 'CWD /d ')).toMatch(/^250 /);
    expect((await withData(c, 'NLST')).body).toBe('in-d-space\r\n');
    expect(await cmd(c, 'CWD /')).toMatch(/^250 /);
    await mkdir(join(root, 'm'));
    expect(await cmd(c, 'RMD m ')).toBe('250 Directory removed.');
    expect((await stat(join(root, 'm'))).isDirectory()).toBe(true);
    await expect(stat(join(root, 'm '))).rejects.toThrow();
    // Commands without a path argument still take trailing spaces as nothing.
    expect(await cmd(c, 'NOOP ')).toBe('200 NOOP ok.');
    expect(await multi(c, 'STAT  ')).toContain('211 End of status.');
    expect(await cmd(c, 'TYPE I ')).toBe('200 Type set to I.');
    c.end();
    await c.closed();
  });
});
