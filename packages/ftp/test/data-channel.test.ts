import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskFs, FsError } from '@gorgon/ftp';
import { fromNetworkAscii, toNetworkAscii } from '../src/data-transfer.js';
import { demoFs, testServer } from './helpers.js';
import { activeListener, cmd, controlClient, dataConnect, epsv, login, readAll, sendAll } from './socket-client.js';
import { leakGuard } from '@gorgon/core/testing';
import * as net from 'node:net';

/** The first of `count` consecutive loopback ports that could all be bound just now. */
async function freePortRange(count: number): Promise<number> {
  const bind = (port: number) =>
    new Promise<net.Server | undefined>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const low = 40_000 + Math.floor(Math.random() * 20_000);
    const held = await Promise.all(Array.from({ length: count }, (_, i) => bind(low + i)));
    await Promise.all(held.map((s) => s && new Promise((r) => s.close(r))));
    if (held.every(Boolean)) return low;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

// Every test must close what it opened: sockets, servers, file handles, timers.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('data channel over real sockets (RFC 959 §3.2–3.4, RFC 2428)', () => {
  it('retrieves over PASV, EPSV and PORT with matching checksums', async () => {
    const fs = demoFs();
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const w = await fs.openWrite('/big.bin', { mode: 'replace' });
    await w.write(body);
    await w.commit();
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    // PASV
    const pasv = await cmd(c, 'PASV');
    const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv)!;
    expect(m.slice(1, 5).join('.')).toBe('127.0.0.1');
    const d1 = await dataConnect(Number(m[5]) * 256 + Number(m[6]));
    const got1 = readAll(d1);
    expect(await cmd(c, 'RETR big.bin')).toMatch(/^150 Opening BINARY mode data connection for big.bin \(3145745 bytes\)/);
    expect(sha(await got1)).toBe(sha(body));
    expect(await c.line()).toBe('226 Transfer complete.');
    // EPSV
    const d2 = await dataConnect(await epsv(c));
    const got2 = readAll(d2);
    expect(await cmd(c, 'RETR /big.bin')).toMatch(/^150 /);
    expect(sha(await got2)).toBe(sha(body));
    expect(await c.line()).toBe('226 Transfer complete.');
    // PORT (active)
    const active = await activeListener();
    expect(await cmd(c, `PORT 127,0,0,1,${active.port >> 8},${active.port & 255}`)).toMatch(/^200 /);
    expect(await cmd(c, 'RETR big.bin')).toMatch(/^150 /);
    expect(sha(await readAll(await active.accepted))).toBe(sha(body));
    expect(await c.line()).toBe('226 Transfer complete.');
    // EPRT (active)
    const active2 = await activeListener();
    expect(await cmd(c, `EPRT |1|127.0.0.1|${active2.port}|`)).toMatch(/^200 /);
    expect(await cmd(c, 'RETR big.bin')).toMatch(/^150 /);
    expect(sha(await readAll(await active2.accepted))).toBe(sha(body));
    expect(await c.line()).toBe('226 Transfer complete.');
    active.close();
    active2.close();
    c.end();
  });

  it('retrieves from disk with reused read buffers: every byte, from any offset, abortable', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gorgon-ftp-retr-'));
    try {
      const body = randomBytes(5 * 1024 * 1024 + 7);
      await writeFile(join(root, 'five.bin'), body);
      await writeFile(join(root, 'huge.bin'), Buffer.alloc(64 * 1024 * 1024, 3));
      await using server = testServer({ store: new DiskFs(root) });
      const { port } = await server.listen(0);
      const c = await controlClient(port);
      await login(c);
      for (const offset of [0, 1, 1024 * 1024, 5 * 1024 * 1024 + 6]) {
        expect(await cmd(c, `REST ${offset}`)).toMatch(/^350 /);
        const d = await dataConnect(await epsv(c));
        const got = readAll(d);
        expect(await cmd(c, 'RETR five.bin')).toMatch(/^150 /);
        expect(sha(await got)).toBe(sha(body.subarray(offset)));
        expect(await c.line()).toBe('226 Transfer complete.');
      }
      const d = await dataConnect(await epsv(c));
      d.pause();
      expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
      expect(await cmd(c, 'ABOR')).toBe('426 Transfer aborted.');
      expect(await c.line()).toBe('226 ABOR command successful.');
      d.destroy();
      c.end();
      await c.closed();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stores, resumes with REST, appends and makes unique names', async () => {
    const fs = demoFs();
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const body = randomBytes(2 * 1024 * 1024 + 3);
    let d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR up.bin')).toBe('150 Ok to send data.');
    await sendAll(d, body.subarray(0, 1000));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect(await cmd(c, 'REST 1000')).toMatch(/^350 /);
    d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR up.bin')).toBe('150 Ok to send data.');
    await sendAll(d, body.subarray(1000));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect(await cmd(c, 'SIZE up.bin')).toBe(`213 ${body.length}`);
    // REST + RETR
    expect(await cmd(c, 'REST 2097152')).toMatch(/^350 /);
    d = await dataConnect(await epsv(c));
    const tail = readAll(d);
    expect(await cmd(c, 'RETR up.bin')).toMatch(/\(3 bytes\)/);
    expect((await tail).equals(body.subarray(2097152))).toBe(true);
    expect(await c.line()).toBe('226 Transfer complete.');
    expect(await cmd(c, `REST ${body.length + 1}`)).toMatch(/^350 /);
    await epsv(c);
    expect(await cmd(c, 'RETR up.bin')).toBe('554 REST offset is past the end of the file.');
    // APPE
    d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'APPE up.bin')).toMatch(/^150 /);
    await sendAll(d, Buffer.from('tail'));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect(await cmd(c, 'SIZE up.bin')).toBe(`213 ${body.length + 4}`);
    // STOU
    d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOU up.bin')).toBe('150 FILE: up.bin.1');
    await sendAll(d, Buffer.from('unique'));
    expect(await c.line()).toBe('226 Transfer complete (unique file name: up.bin.1).');
    expect((await fs.stat('/up.bin.1')).size).toBe(6);
    c.end();
  });

  it('converts line ends in TYPE A both ways (RFC 959 §3.1.1.1)', async () => {
    const fs = demoFs();
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    expect(await cmd(c, 'TYPE A')).toBe('200 Type set to A.');
    let d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR text.txt')).toMatch(/^150 /);
    await sendAll(d, Buffer.from('one\r\ntwo\r\nthree\r'));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect(await cmd(c, 'TYPE I')).toMatch(/^200/);
    expect(await cmd(c, 'SIZE text.txt')).toBe('213 14');
    expect(await cmd(c, 'TYPE A')).toMatch(/^200/);
    d = await dataConnect(await epsv(c));
    const got = readAll(d);
    expect(await cmd(c, 'RETR text.txt')).toMatch(/^150 Opening ASCII/);
    expect((await got).toString()).toBe('one\r\ntwo\r\nthree\r');
    expect(await c.line()).toBe('226 Transfer complete.');
    c.end();
  });

  it('lists with LIST, NLST and MLSD, ignoring ls flags', async () => {
    await using server = testServer();
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const list = async (command: string): Promise<string> => {
      const d = await dataConnect(await epsv(c));
      const got = readAll(d);
      expect(await cmd(c, command)).toMatch(/^150 /);
      const text = (await got).toString();
      expect(await c.line()).toBe('226 Directory send OK.');
      return text;
    };
    expect(await list('LIST -a pub')).toMatch(
      /^-rw-r--r-- +1 ftp +ftp +1000 \w{3} [ \d]\d +[\d:]+ data.bin\r\ndrwxr-xr-x .* docs\r\n-rw-r--r-- .* readme.txt\r\n$/,
    );
    expect(await list('NLST -1 pub')).toBe('data.bin\r\ndocs\r\nreadme.txt\r\n');
    expect(await list('NLST pub/readme.txt')).toBe('pub/readme.txt\r\n');
    const mlsd = await list('MLSD pub');
    expect(mlsd).toMatch(/^type=file;size=1000;modify=\d{14};perm=adfrw;unique=\w+;unix.mode=0644; data.bin\r\n/);
    expect(mlsd).toMatch(/type=dir;modify=\d{14};perm=cdeflmp;unique=\w+;unix.mode=0755; docs\r\n/);
    await epsv(c);
    expect(await cmd(c, 'MLSD pub/readme.txt')).toBe('501 Not a directory.');
    c.end();
  });

  it('lists a 10,000-entry directory', async () => {
    const tree: Record<string, string> = {};
    for (let i = 0; i < 10_000; i++) tree[`big/file-${String(i).padStart(5, '0')}.txt`] = 'x';
    const { MemoryFs } = await import('@gorgon/ftp');
    await using server = testServer({ store: new MemoryFs(tree) });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    const got = readAll(d);
    expect(await cmd(c, 'MLSD big')).toMatch(/^150 /);
    const lines = (await got)
      .toString()
      .split('\r\n')
      .filter((l) => l !== '');
    expect(lines).toHaveLength(10_000);
    expect(lines[9999]).toMatch(/ file-09999.txt$/);
    expect(await c.line()).toBe('226 Directory send OK.');
    c.end();
  });

  it('streams large disk listings in name order, the same bytes as the thread-pool path', async () => {
    const base = await mkdtemp(join(tmpdir(), 'gorgon-ftp-biglist-'));
    try {
      const root = join(base, 'root');
      await mkdir(join(root, 'big', 'sub'), { recursive: true });
      await mkdir(join(base, 'outside'));
      for (let i = 0; i < 700; i++) await writeFile(join(root, 'big', `f${String(i).padStart(3, '0')}`), 'x'.repeat(i % 50));
      await writeFile(join(root, 'big', 'Zeta'), 'z'); // code-unit order: before the lower-case names
      await writeFile(join(root, 'big', '.gorgon-upload-abc'), 'partial'); // hidden
      await symlink(join(root, 'big', 'f350'), join(root, 'big', 'f350-link')); // inside: followed
      await symlink(join(base, 'outside'), join(root, 'big', 'out-link')); // outside: shown as a link only
      const listing = async (fs: DiskFs, command: string): Promise<string> => {
        await using server = testServer({ store: fs });
        const { port } = await server.listen(0);
        const c = await controlClient(port);
        await login(c);
        const d = await dataConnect(await epsv(c));
        const got = readAll(d);
        expect(await cmd(c, command)).toMatch(/^150 /);
        const text = (await got).toString();
        expect(await c.line()).toBe('226 Directory send OK.');
        c.end();
        await c.closed();
        return text;
      };
      const streamed = await listing(new DiskFs(root), 'LIST big');
      const lines = streamed.split('\r\n').filter((l) => l !== '');
      const names = lines.map((l) => l.split(' ').pop()!);
      expect(lines).toHaveLength(704);
      expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(names[0]).toBe('Zeta');
      expect(names).not.toContain('.gorgon-upload-abc');
      expect(lines.find((l) => l.endsWith(' f350-link'))).toMatch(/^-rw.* 0 \w{3} [ \d]\d [\d:]{5} f350-link$/);
      expect(lines.find((l) => l.endsWith(' out-link'))).toMatch(/^l/);
      expect(lines.find((l) => l.endsWith(' sub'))).toMatch(/^d/);
      expect(await listing(new DiskFs(root, { listerThread: false }), 'LIST big')).toBe(streamed);
      const mlsd = await listing(new DiskFs(root), 'MLSD big');
      expect(
        mlsd
          .split('\r\n')
          .filter((l) => l !== '')
          .map((l) => l.split('; ').pop()),
      ).toEqual(names);
      expect(mlsd).toContain('type=OS.unix=symlink;');
      expect(await listing(new DiskFs(root, { listerThread: false }), 'MLSD big')).toBe(mlsd);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('aborts a running RETR with 426 then 226, and answers STAT meanwhile', async () => {
    const fs = demoFs();
    const w = await fs.openWrite('/huge.bin', { mode: 'replace' });
    for (let i = 0; i < 64; i++) await w.write(Buffer.alloc(1024 * 1024, i));
    await w.commit();
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    d.pause(); // do not read: the transfer stalls on backpressure
    expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
    expect(await cmd(c, 'STAT')).toMatch(/^213 Status: RETR huge.bin, \d+ bytes transferred.$/);
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    expect(await cmd(c, 'ABOR')).toBe('426 Transfer aborted.');
    expect(await c.line()).toBe('226 ABOR command successful.');
    expect(await cmd(c, 'PWD')).toBe('257 "/" is the current directory.');
    d.destroy();
    c.end();
  });

  it('hears an urgent ABOR whose LF went out of band (ftplib sends ABOR with MSG_OOB)', async () => {
    const fs = demoFs();
    const w = await fs.openWrite('/huge.bin', { mode: 'replace' });
    for (let i = 0; i < 64; i++) await w.write(Buffer.alloc(1024 * 1024, i));
    await w.commit();
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    d.pause();
    expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
    c.send(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r')])); // no LF
    expect(await c.line()).toBe('426 Transfer aborted.');
    expect(await c.line()).toBe('226 ABOR command successful.');
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.'); // the held "ABOR\r" is not answered twice
    d.destroy();
    c.end();
  });

  it('answers 425 when the client never opens the data connection', async () => {
    await using server = testServer({ limits: { dataConnectTimeoutMs: 200 } });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    await epsv(c);
    expect(await cmd(c, 'RETR pub/readme.txt')).toMatch(/^150 /);
    expect(await c.line()).toBe("425 Can't open data connection.");
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    c.end();
  });

  it('aborts a stalled transfer with 426', async () => {
    const fs = demoFs();
    await using server = testServer({ store: fs, limits: { stalledTransferMs: 200 } });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR slow.bin')).toMatch(/^150 /);
    d.write('a few bytes, then nothing');
    expect(await c.line(5000)).toBe('426 Transfer stalled: data connection closed.');
    await expect(fs.stat('/slow.bin')).rejects.toBeInstanceOf(FsError);
    d.destroy();
    c.end();
  });

  it('accepts passive connections only from the control peer', async () => {
    await using server = testServer();
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const dataPort = await epsv(c);
    const intruder = await dataConnect(dataPort, '127.0.0.2');
    const closed = new Promise<void>((r) => intruder.once('close', () => r()));
    intruder.on('error', () => {});
    await closed;
    const d = await dataConnect(dataPort);
    const got = readAll(d);
    expect(await cmd(c, 'RETR pub/readme.txt')).toMatch(/^150 /);
    expect((await got).toString()).toBe('read me\n');
    expect(await c.line()).toBe('226 Transfer complete.');
    c.end();
  });

  it('keeps the old file when a STOR is cut, and refuses uploads past the size limit', async () => {
    const fs = demoFs();
    await using server = testServer({ store: fs, limits: { maxUploadBytes: 100_000 } });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    let d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR pub/readme.txt')).toMatch(/^150 /);
    d.write(Buffer.alloc(5000, 1));
    await new Promise((r) => setTimeout(r, 50));
    d.resetAndDestroy();
    expect(await c.line()).toMatch(/^426 /);
    expect((await fs.stat('/pub/readme.txt')).size).toBe(8);
    d = await dataConnect(await epsv(c));
    d.on('error', () => {});
    expect(await cmd(c, 'STOR pub/readme.txt')).toMatch(/^150 /);
    d.write(Buffer.alloc(200_000, 1));
    expect(await c.line()).toBe('552 Upload size limit exceeded.');
    expect((await fs.stat('/pub/readme.txt')).size).toBe(8);
    c.end();
  });

  it('picks passive ports from the dynamic range by default (no scan of the ephemeral range)', async () => {
    await using server = testServer();
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const p = await epsv(c);
      // Any port is allowed when a few random ones are taken, but that should not happen here.
      expect(p).toBeGreaterThanOrEqual(49152);
      expect(p).toBeLessThanOrEqual(65535);
      seen.add(p);
      const d = await dataConnect(p);
      const got = readAll(d);
      expect(await cmd(c, 'NLST pub')).toMatch(/^150 /);
      expect((await got).toString()).toBe('data.bin\r\ndocs\r\nreadme.txt\r\n');
      expect(await c.line()).toBe('226 Directory send OK.');
    }
    expect(seen.size).toBeGreaterThan(1);
    c.end();
  });

  it('uses the passive port range and the masquerade address', async () => {
    // Three ports free right now (a fixed range could be taken by another program's connection).
    const low = await freePortRange(3);
    await using server = testServer({ passivePorts: `${low}-${low + 2}`, masquerade: '203.0.113.7' });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const r = await cmd(c, 'PASV');
    const m = /\(203,0,113,7,(\d+),(\d+)\)/.exec(r);
    expect(m).not.toBeNull();
    const p = Number(m![1]) * 256 + Number(m![2]);
    expect(p).toBeGreaterThanOrEqual(low);
    expect(p).toBeLessThanOrEqual(low + 2);
    c.end();
  });
});

describe('TYPE A conversion', () => {
  it('adds CR before bare LF only, across chunk boundaries', () => {
    expect(toNetworkAscii(Buffer.from('a\nb\r\nc'), -1).toString()).toBe('a\r\nb\r\nc');
    expect(toNetworkAscii(Buffer.from('\nx'), 0x0d).toString()).toBe('\nx');
    expect(toNetworkAscii(Buffer.from('\nx'), 0x61).toString()).toBe('\r\nx');
  });
  it('removes CR before LF, holding a trailing CR', () => {
    const a = fromNetworkAscii(Buffer.from('a\r\nb\r'), false);
    expect(a.out.toString()).toBe('a\nb');
    expect(a.held).toBe(true);
    const b = fromNetworkAscii(Buffer.from('\nc\rd'), true);
    expect(b.out.toString()).toBe('\nc\rd');
  });
});
