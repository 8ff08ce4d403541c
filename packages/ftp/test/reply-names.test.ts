/**
 * No file name can end a reply or a listing entry early. A CR in a name is sent as CR NUL and
 * CR NUL in a command means CR (RFC 2640 §3.1); an LF, which no command can carry, is shown as
 * "?"; RFC 959 §4.2's multi-line rule then holds for STAT, and LIST/NLST/MLSD entries stay one
 * per line. Through a real socket against a disk root.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { DiskFs } from '@gorgon/ftp';
import { ByteClient } from './byte-client.js';
import { testServer } from './helpers.js';
import { dataConnect, readAll } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
const dirs: string[] = [];
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const EVIL = 'evil\r\n213 End of status.';
const EVIL_WIRE = 'evil\r\0?213 End of status.';
const CR_NAME = 'cr\rname';
const CR_WIRE = 'cr\r\0name';

async function setup(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-crlf-'));
  dirs.push(root);
  await writeFile(join(root, EVIL), 'evil');
  await writeFile(join(root, CR_NAME), 'carriage');
  await writeFile(join(root, 'ok.txt'), 'ok');
  return root;
}

async function login(c: ByteClient): Promise<void> {
  await c.reply();
  expect(await c.cmd('USER', 'alice')).toMatch(/^331 /);
  expect(await c.cmd('PASS', 'wonderland')).toMatch(/^230 /);
  expect(await c.cmd('TYPE', 'I')).toMatch(/^200 /);
}

/** A command over a passive data connection: its data and its final reply. */
async function listing(c: ByteClient, verb: string, arg?: string): Promise<{ data: string; done: string }> {
  const epsv = await c.cmd('EPSV');
  const port = Number(/\|(\d+)\|/.exec(epsv)![1]);
  const d = await dataConnect(port);
  const got = readAll(d);
  const opening = await c.cmd(verb, arg === undefined ? undefined : Buffer.from(arg, 'latin1'));
  expect(opening).toMatch(/^150 /);
  const data = (await got).toString('latin1');
  return { data, done: (await c.reply())[0]!.toString('latin1') };
}

/** Lines of a listing as a client splits them at CRLF; no stray LF may remain in any. */
function entries(data: string): string[] {
  expect(data.endsWith('\r\n')).toBe(true);
  const lines = data.slice(0, -2).split('\r\n');
  for (const line of lines) expect(line).not.toContain('\n');
  return lines;
}

describe('names with CR and LF in replies', () => {
  it('STAT of a directory lists every entry and ends at its own last line; the next reply is in step', async () => {
    const root = await setup();
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await ByteClient.connect(port);
    await login(c);
    c.send('STAT', '/');
    const lines = (await c.reply()).map((l) => l.toString('latin1'));
    expect(lines[0]).toBe('213-Status of /:');
    expect(lines[lines.length - 1]).toBe('213 End of status.');
    expect(lines).toHaveLength(5);
    expect(lines.some((l) => l.endsWith(` ${CR_WIRE}`))).toBe(true);
    expect(lines.some((l) => l.endsWith(` ${EVIL_WIRE}`))).toBe(true);
    expect(await c.cmd('NOOP')).toBe('200 NOOP ok.');
    c.close();
  });

  it('LIST, NLST and MLSD give one entry per line with CR NUL; MLST, RETR, MKD, CWD and PWD use CR NUL too', async () => {
    const root = await setup();
    await using server = testServer({ store: new DiskFs(root) });
    const { port } = await server.listen(0);
    const c = await ByteClient.connect(port);
    await login(c);

    const nlst = await listing(c, 'NLST');
    expect(entries(nlst.data)).toEqual([CR_WIRE, EVIL_WIRE, 'ok.txt']);
    expect(nlst.done).toBe('226 Directory send OK.');
    const list = entries((await listing(c, 'LIST')).data);
    expect(list).toHaveLength(3);
    expect(list[1]).toMatch(new RegExp(` ${EVIL_WIRE.replace(/[.?]/g, '\\$&')}$`));
    const mlsd = entries((await listing(c, 'MLSD')).data);
    expect(mlsd.map((l) => l.slice(l.indexOf('; ') + 2))).toEqual([CR_WIRE, EVIL_WIRE, 'ok.txt']);

    c.send('MLST', Buffer.from(CR_WIRE, 'latin1'));
    const mlst = (await c.reply()).map((l) => l.toString('latin1'));
    expect(mlst).toEqual([`250-Listing /${CR_WIRE}`, expect.stringMatching(new RegExp(`^ type=file;size=8;.*; /${CR_WIRE}$`)), '250 End.']);

    const retr = await listing(c, 'RETR', CR_WIRE);
    expect(retr.data).toBe('carriage');
    expect(retr.done).toBe('226 Transfer complete.');

    const dir = 'q"uo\rte';
    expect(await c.cmd('MKD', Buffer.from('q"uo\r\0te', 'latin1'))).toBe('257 "/q""uo\r\0te" created.');
    expect((await stat(join(root, dir))).isDirectory()).toBe(true);
    expect(await c.cmd('CWD', Buffer.from('q"uo\r\0te', 'latin1'))).toBe('250 Directory changed to "/q""uo\r\0te".');
    expect(await c.cmd('PWD')).toBe('257 "/q""uo\r\0te" is the current directory.');
    expect(await c.cmd('NOOP')).toBe('200 NOOP ok.');
    expect((await readdir(root)).sort()).toEqual([CR_NAME, EVIL, 'ok.txt', dir].sort());
    c.close();
  });
});
