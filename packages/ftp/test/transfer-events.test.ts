/**
 * What a transfer's end means is decided from events, not from timers: uploads commit and an
 * urgent ABOR is heard with the clock frozen; a transfer longer than the idle timeout keeps its
 * session; a stalled one ends with 426 after its own timeout; a download cut by shutdown is
 * reset (never a FIN) and answered 426 before 421. Through real loopback sockets.
 * @see RFC 959 §3.4.1, §4.1.3 (ABOR), §5.4 (421)
 */
import type * as net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import type { MemoryFs } from '@gorgon/ftp';
import { demoFs, testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, sendAll } from './socket-client.js';

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  vi.useRealTimers();
  await guard.check(2000);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How a data connection ended for its reader: 'FIN', or the error code. libuv may report a
 * reset that follows buffered bytes as an end of stream, so an end is checked with a write of
 * zero bytes (nothing is sent; it fails on a reset connection), as the server does for uploads.
 */
function howItEnds(d: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    d.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    d.once('end', () => d.write(Buffer.alloc(0), (err?: NodeJS.ErrnoException | null) => resolve(err ? (err.code ?? err.message) : 'FIN')));
  });
}

async function bigFs(mib: number): Promise<MemoryFs> {
  const fs = demoFs();
  const w = await fs.openWrite('/huge.bin', { mode: 'replace' });
  for (let i = 0; i < mib; i++) await w.write(Buffer.alloc(1024 * 1024, i));
  await w.commit();
  return fs;
}

describe('no timer decides what happened (issue 8.7)', () => {
  it('commits an upload and hears an urgent ABOR while setTimeout never fires', async () => {
    const fs = await bigFs(64);
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    vi.useFakeTimers({ toFake: ['setTimeout'] }); // a sleep before the commit would never end
    let d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR pub/up.bin')).toMatch(/^150 /);
    await sendAll(d, Buffer.from('uploaded\n'));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect((await fs.stat('/pub/up.bin')).size).toBe(9);
    d = await dataConnect(await epsv(c));
    d.pause();
    d.on('error', () => {});
    expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
    c.send(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r')])); // LF out of band
    expect(await c.line()).toBe('426 Transfer aborted.');
    expect(await c.line()).toBe('226 ABOR command successful.');
    vi.useRealTimers();
    c.send('\n'); // the LF arrives late after all: the ABOR is not answered twice
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    d.destroy();
    c.end();
  });
});

describe('transfers and the idle timeout (issue 8.4)', () => {
  const limits = { idleTimeoutMs: 300, closeTimeoutMs: 200, stalledTransferMs: 700 };

  it('an upload that lasts five idle timeouts still gets 226, and the session goes on', async () => {
    const fs = demoFs();
    await using server = testServer({ store: fs, limits });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    expect(await cmd(c, 'STOR pub/slow.bin')).toMatch(/^150 /);
    const started = Date.now();
    for (let i = 0; i < 15; i++) {
      d.write(Buffer.alloc(1000, i));
      await sleep(100);
    }
    await sendAll(d, Buffer.alloc(0));
    expect(await c.line()).toBe('226 Transfer complete.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect((await fs.stat('/pub/slow.bin')).size).toBe(15_000);
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    c.end();
  });

  it('a stalled transfer gets 426 after stalledTransferMs, not a closed session after the idle timeout', async () => {
    const fs = demoFs();
    await using server = testServer({ store: fs, limits });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    d.on('error', () => {});
    expect(await cmd(c, 'STOR pub/stalled.bin')).toMatch(/^150 /);
    const started = Date.now();
    d.write('a few bytes, then nothing');
    expect(await c.line(5000)).toBe('426 Transfer stalled: data connection closed.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    await expect(fs.stat('/pub/stalled.bin')).rejects.toThrow();
    // Without a transfer the idle timeout applies again.
    expect(await c.line(5000)).toMatch(/^421 Timeout/);
    d.destroy();
    c.end();
  });
});

describe('shutdown during a download (issue 8.5)', () => {
  it('within the bound: the running download finishes (226), then 421', async () => {
    const fs = await bigFs(8);
    const server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    let got = 0;
    let held = false;
    d.on('data', (b: Buffer) => {
      got += b.length;
      if (got > 1024 * 1024 && !held) {
        held = true;
        d.pause();
      }
    });
    const ending = howItEnds(d);
    expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
    while (got <= 1024 * 1024) await sleep(5);
    const closing = server.close({ timeoutMs: 30_000 });
    d.resume(); // the client reads on while the server drains
    expect(await c.line(20_000)).toMatch(/^226 /);
    expect(await c.line()).toBe('421 Server shutting down.');
    expect(await ending).toBe('FIN');
    expect(got).toBe(8 * 1024 * 1024);
    await closing;
    c.end();
  });

  // A transfer may finish within the shutdown's bound (issue 13); one still running past it
  // (this client stopped reading) is cut as before: reset, 426, then 421.
  it('past the bound: resets the data connection (no FIN) and sends 426 before 421', async () => {
    const fs = await bigFs(64);
    const server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    let got = 0;
    let held = false;
    d.on('data', (b: Buffer) => {
      got += b.length;
      if (got > 1024 * 1024 && !held) {
        held = true; // read some, then hold: the transfer is mid-file
        d.pause();
      }
    });
    const ending = howItEnds(d);
    expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
    while (got <= 1024 * 1024) await sleep(5);
    const closing = server.close({ timeoutMs: 300 });
    expect(await c.line()).toBe('426 Transfer aborted.');
    expect(await c.line()).toBe('421 Server shutting down.');
    d.resume(); // read on: what follows the bytes is a reset, not an end of file
    expect(await ending).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(got).toBeLessThan(64 * 1024 * 1024);
    await closing;
    d.destroy();
    c.end();
  });
});

describe('the data connection of a failed download is reset', () => {
  it('ABOR mid-RETR: the client sees a reset, not a short file ending in FIN', async () => {
    const fs = await bigFs(64);
    await using server = testServer({ store: fs });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    d.pause();
    const result = howItEnds(d);
    expect(await cmd(c, 'RETR huge.bin')).toMatch(/^150 /);
    await sleep(50);
    expect(await cmd(c, 'ABOR')).toBe('426 Transfer aborted.');
    expect(await c.line()).toBe('226 ABOR command successful.');
    d.resume();
    expect(await result).toMatch(/^(ECONNRESET|EPIPE)$/);
    c.end();
  });
});

describe('a download whose file fails mid-read (issue 10: through the core output path)', () => {
  it('resets the data connection (no FIN) and replies 451', async () => {
    const fs = demoFs();
    const failing = Object.assign(fs, {
      openRead: async () => {
        let n = 0;
        return {
          size: 8 * 1024 * 1024,
          more: async () => {
            if (n++ < 2) return Buffer.alloc(1024 * 1024, 0x61);
            throw new Error('disk read failed');
          },
        };
      },
    });
    await using server = testServer({ store: failing });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    let got = 0;
    d.on('data', (b: Buffer) => {
      got += b.length;
    });
    const ending = howItEnds(d);
    expect(await cmd(c, 'RETR readme.txt')).toMatch(/^150 /);
    expect(await c.line()).toMatch(/^451 /);
    expect(await ending).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(got).toBeLessThan(8 * 1024 * 1024);
    expect(await cmd(c, 'NOOP')).toBe('200 NOOP ok.');
    d.destroy();
    c.end();
  });
});
