/**
 * Names that are not UTF-8 round-trip byte for byte (as vsftpd keeps them): a Latin-1 name on
 * disk is listed by LIST/NLST/MLSD with its bytes, served by RETR (small-file fast path and
 * the asynchronous one), and a STOR of a name with invalid UTF-8 creates exactly those bytes;
 * large directories (statted on the helper threads) keep them too; UTF-8 names stay UTF-8.
 * Through a real socket. @see RFC 2640 §2.2, §3.1
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { DiskFs, MemoryFs } from '@gorgon/ftp';
import { ByteClient } from './byte-client.js';
import { testServer } from './helpers.js';
import { dataConnect, readAll, sendAll } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
const dirs: string[] = [];
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
/** A host path under `dir` whose last component is the given bytes. */
const under = (dir: string, ...names: Buffer[]): Buffer =>
  Buffer.concat([Buffer.from(dir), ...names.flatMap((n) => [Buffer.from('/'), n])]);

const CAFE = latin1('caf\xe9.txt'); // Latin-1: not UTF-8
const BIG = latin1('gro\xdf.bin'); // past the small-file limit
const UTF8 = Buffer.from('ünïcode.txt', 'utf8');

async function login(c: ByteClient): Promise<void> {
  await c.reply();
  expect(await c.cmd('USER', 'alice')).toMatch(/^331 /);
  expect(await c.cmd('PASS', 'wonderland')).toMatch(/^230 /);
  expect(await c.cmd('TYPE', 'I')).toMatch(/^200 /);
}

/** A command over a passive data connection: the data received, and the final reply. */
async function transfer(
  c: ByteClient,
  verb: string,
  arg?: Buffer,
  upload?: Buffer,
): Promise<{ opening: string; data: Buffer; done: string }> {
  const port = Number(/\|(\d+)\|/.exec(await c.cmd('EPSV'))![1]);
  const d = await dataConnect(port);
  const got = upload ? sendAll(d, upload).then(() => Buffer.alloc(0)) : readAll(d);
  const opening = await c.cmd(verb, arg);
  if (!opening.startsWith('150')) {
    d.destroy();
    return { opening, data: Buffer.alloc(0), done: '' };
  }
  const data = await got;
  return { opening, data, done: (await c.reply())[0]!.toString('latin1') };
}

/** The lines of a listing as bytes. */
function lines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let end = data.indexOf('\r\n'); end !== -1; end = data.indexOf('\r\n', at)) {
    out.push(data.subarray(at, end));
    at = end + 2;
  }
  return out;
}

const endsWith = (line: Buffer, name: Buffer): boolean =>
  line.subarray(line.length - name.length - 1).equals(Buffer.concat([Buffer.from(' '), name]));

describe('names that are not UTF-8, on disk', () => {
  it('are listed, retrieved, stored, renamed and deleted as their exact bytes; UTF-8 names stay UTF-8', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-bytes-'));
    dirs.push(root);
    const big = randomBytes(200 * 1024);
    await writeFile(under(root, CAFE), 'latin-1 name');
    await writeFile(under(root, BIG), big);
    await writeFile(under(root, UTF8), 'utf-8 name');
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await ByteClient.connect(port);
    await login(c);

    const nlst = lines((await transfer(c, 'NLST')).data);
    expect(nlst.map((l) => l.toString('hex')).sort()).toEqual([CAFE, BIG, UTF8].map((b) => b.toString('hex')).sort());
    const list = lines((await transfer(c, 'LIST')).data);
    for (const name of [CAFE, BIG, UTF8]) expect(list.some((l) => endsWith(l, name))).toBe(true);
    const mlsd = lines((await transfer(c, 'MLSD')).data);
    for (const name of [CAFE, BIG, UTF8]) expect(mlsd.some((l) => endsWith(l, name))).toBe(true);

    const small = await transfer(c, 'RETR', CAFE);
    expect(small.data.toString()).toBe('latin-1 name');
    expect(small.opening).toBe(`150 Opening BINARY mode data connection for ${CAFE.toString('latin1')} (12 bytes).`);
    expect((await transfer(c, 'RETR', BIG)).data.equals(big)).toBe(true);
    expect((await transfer(c, 'RETR', UTF8)).data.toString()).toBe('utf-8 name');
    expect(await c.cmd('SIZE', CAFE)).toBe('213 12');

    const upload = latin1('up\xff\xfe.bin');
    expect((await transfer(c, 'STOR', upload, Buffer.from('uploaded'))).done).toBe('226 Transfer complete.');
    expect(await readFile(under(root, upload), 'utf8')).toBe('uploaded');

    const dir = latin1('r\xe9pertoire');
    expect(await c.cmd('MKD', dir)).toBe(`257 "/${dir.toString('latin1')}" created.`);
    expect(await c.cmd('CWD', dir)).toMatch(/^250 /);
    expect(await c.cmd('PWD')).toBe(`257 "/${dir.toString('latin1')}" is the current directory.`);
    expect(await c.cmd('CWD', '/')).toMatch(/^250 /);
    expect(await c.cmd('RNFR', CAFE)).toMatch(/^350 /);
    expect(await c.cmd('RNTO', Buffer.concat([dir, Buffer.from('/'), CAFE]))).toBe('250 Rename successful.');
    expect(await readFile(under(root, dir, CAFE), 'utf8')).toBe('latin-1 name');
    expect(await c.cmd('DELE', upload)).toBe('250 File removed.');

    const onDisk = (await readdir(Buffer.from(root), { encoding: 'buffer' })).map((b) => b.toString('hex')).sort();
    expect(onDisk).toEqual([BIG, UTF8, dir].map((b) => b.toString('hex')).sort());
    c.close();
  });

  it('survive the helper threads that stat large directories', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-bytes-big-'));
    dirs.push(root);
    await mkdir(join(root, 'many'));
    const names: Buffer[] = [];
    for (let i = 0; i < 400; i++)
      names.push(i % 50 === 0 ? latin1(`f${String(i).padStart(3, '0')}-\xe9\xe8`) : Buffer.from(`f${String(i).padStart(3, '0')}`));
    for (const n of names) await writeFile(under(root, Buffer.from('many'), n), n);
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await ByteClient.connect(port);
    await login(c);
    const list = lines((await transfer(c, 'LIST', Buffer.from('many'))).data);
    expect(list).toHaveLength(400);
    for (const n of names.filter((_, i) => i % 50 === 0)) {
      const line = list.find((l) => endsWith(l, n));
      expect(line?.toString('latin1')).toMatch(new RegExp(`^-rw.* ${n.length} `));
    }
    expect(lines((await transfer(c, 'MLSD', Buffer.from('many'))).data)).toHaveLength(400);
    c.close();
  });
});

describe('names that are not UTF-8, in memory', () => {
  it('are stored and listed as the bytes sent', async () => {
    await using server = testServer({ store: new MemoryFs({}) });
    const { port } = await server.listen(0);
    const c = await ByteClient.connect(port);
    await login(c);
    const name = latin1('m\xe9moire\x80');
    expect((await transfer(c, 'STOR', name, Buffer.from('x'))).done).toBe('226 Transfer complete.');
    expect(lines((await transfer(c, 'NLST')).data)).toEqual([name]);
    expect((await transfer(c, 'RETR', name)).data.toString()).toBe('x');
    c.close();
  });
});
