import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '@gorgon/core';
import { DiskFs } from '@gorgon/ftp';
import { demoAuth, testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll } from './socket-client.js';
import { leakGuard } from '@gorgon/core/testing';

// Every test must close what it opened: sockets, servers, file handles, timers.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-ftp-abuse-'));
  dirs.push(dir);
  await writeFile(join(dir, 'target.bin'), 'original content');
  return dir;
}

// A client in its own process: logs in, starts STOR, sends part of the data, and is killed.
const killedClient = `
const net = require('node:net');
const port = Number(process.argv[1]);
const c = net.connect(port, '127.0.0.1');
let buf = '';
const steps = ['USER alice', 'PASS wonderland', 'TYPE I', 'EPSV'];
c.on('data', (d) => {
  buf += d.toString();
  const lines = buf.split('\\r\\n'); buf = lines.pop();
  for (const line of lines) {
    if (line.startsWith('229')) {
      const p = Number(/\\|\\|\\|(\\d+)\\|/.exec(line)[1]);
      const data = net.connect(p, '127.0.0.1', () => {
        c.write('STOR target.bin\\r\\n');
        data.write(Buffer.alloc(256 * 1024, 7), () => process.kill(process.pid, 'SIGKILL'));
      });
    } else if (/^(220|331|230|200)/.test(line) && steps.length) {
      c.write(steps.shift() + '\\r\\n');
    }
  }
});
`;

describe('hostile clients (RFC 2577, the design rules)', () => {
  it('a client killed mid-STOR leaves the old file and no temporary file', async () => {
    const root = await tempRoot();
    const logger = memoryLogger();
    await using server = testServer({ store: new DiskFs(root), logger });
    const { port } = await server.listen(0);
    const child = spawn(process.execPath, ['-e', killedClient, String(port)], { stdio: 'ignore' });
    const exit = await new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, sig) => r(sig)));
    expect(exit).toBe('SIGKILL');
    for (let i = 0; i < 100 && server.connections > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(await readFile(join(root, 'target.bin'), 'utf8')).toBe('original content');
    expect(await readdir(root)).toEqual(['target.bin']);
    // The upload really started and was dropped (not committed, not just never begun).
    expect(logger.records.some((r) => r['event'] === 'transfer-failed' && r['verb'] === 'STOR')).toBe(true);
  });

  it('serves 1,000 concurrent sessions', async () => {
    await using server = testServer({ auth: demoAuth() });
    const { port } = await server.listen(0);
    const before = process.memoryUsage().heapUsed;
    const sockets: net.Socket[] = [];
    const greeted = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const s = net.connect(port, '127.0.0.1');
        sockets.push(s);
        return new Promise<string>((resolve, reject) => {
          s.once('data', (d: Buffer) => resolve(d.toString()));
          s.once('error', reject);
        });
      }),
    );
    expect(greeted.every((g) => g.startsWith('220 '))).toBe(true);
    expect(server.connections).toBe(1000);
    // Bounded memory: well under 100 KiB of heap per idle session.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(100 * 1024 * 1000);
    // A normal client is still served while they are open.
    const c = await controlClient(port);
    await login(c);
    const d = await dataConnect(await epsv(c));
    const got = readAll(d);
    expect(await cmd(c, 'RETR pub/readme.txt')).toMatch(/^150 /);
    expect((await got).toString()).toBe('read me\n');
    expect(await c.line()).toBe('226 Transfer complete.');
    c.end();
    for (const s of sockets) s.destroy();
  });

  it('refuses connections past the per-address limit with 421', async () => {
    await using server = testServer({ limits: { maxConnectionsPerIp: 2 } });
    const { port } = await server.listen(0);
    const a = await controlClient(port);
    const b = await controlClient(port);
    expect(await a.line()).toMatch(/^220 /);
    expect(await b.line()).toMatch(/^220 /);
    const c = await controlClient(port);
    expect(await c.line()).toBe('421 Too many connections from your address, try again later.');
    await c.closed();
    a.end();
    b.end();
  });

  it('closes idle and never-logged-in connections with 421', async () => {
    await using server = testServer({ limits: { idleTimeoutMs: 300, loginTimeoutMs: 60_000 } });
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    expect(await c.line(5000)).toBe('421 Timeout (0 s): closing control connection.');
    await c.closed();
    await using slow = testServer({ limits: { loginTimeoutMs: 200 } });
    const s = await controlClient((await slow.listen(0)).port);
    await s.line();
    expect(await s.line(5000)).toBe('421 Login timeout: closing control connection.');
    await s.closed();
  });

  it('says 421 to every session on shutdown', async () => {
    const server = testServer();
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    const closing = server.close({ timeoutMs: 2000 });
    expect(await c.line()).toBe('421 Server shutting down.');
    await c.closed();
    await closing;
  });

  it('answers every command of a pipelined burst split at every byte, in order', async () => {
    await using server = testServer();
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await c.line();
    const burst = 'USER alice\r\nPASS wonderland\r\nPWD\r\nCWD pub\r\nPWD\r\nNOOP\r\nSYST\r\n';
    for (const ch of burst) {
      c.send(ch);
      await new Promise((r) => setImmediate(r));
    }
    expect(await c.lines(7)).toEqual([
      '331 Please specify the password.',
      '230 Login successful.',
      '257 "/" is the current directory.',
      '250 Directory changed to "/pub".',
      '257 "/pub" is the current directory.',
      '200 NOOP ok.',
      '215 UNIX Type: L8',
    ]);
    c.end();
  });
});
