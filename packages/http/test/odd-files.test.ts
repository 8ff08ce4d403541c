/**
 * What lives under the root that is not a regular file or a directory: a FIFO (an open for
 * reading would wait for a writer), a Unix socket, a character device (a symlink to /dev/zero
 * would stream forever) and a dangling symlink are "not there" (404) at once, never a hang, and
 * the directory listing leaves them out; the connection goes on to the next request.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpServer } from '@gorgon/http';
import { exchange, parseResponses, startServer, tempDir } from './helpers.js';

const t = tempDir();
let server: HttpServer;
let port: number;
let unixServer: Server;

const get = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

beforeAll(async () => {
  writeFileSync(join(t.dir, 'real.txt'), 'real\n');
  execFileSync('mkfifo', [join(t.dir, 'pipe')]);
  unixServer = createServer();
  await new Promise<void>((ok) => unixServer.listen(join(t.dir, 'sock'), ok));
  symlinkSync('/dev/zero', join(t.dir, 'zero'));
  symlinkSync('nowhere.txt', join(t.dir, 'dangling'));
  ({ server, port } = await startServer(t.dir));
});
afterAll(async () => {
  await server.close();
  await new Promise((ok) => unixServer.close(ok));
  t.remove();
});

describe('odd files under the root', () => {
  it('a FIFO, a socket, a device behind a symlink and a dangling symlink are 404 at once, in order on one connection', async () => {
    const started = Date.now();
    const paths = ['/pipe', '/sock', '/zero', '/dangling', '/real.txt'];
    // The last asks to close, so the exchange ends when the server has answered everything.
    const rs = parseResponses(
      await exchange(port, `${paths.map((p) => get(p)).join('')}GET /real.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 3000),
    );
    expect(rs.map((r) => r.status)).toEqual([404, 404, 404, 404, 200, 200]);
    expect(rs[4]!.body.toString()).toBe('real\n');
    expect(Date.now() - started).toBeLessThan(2500); // answered, not waited out
  });

  it('HEAD and Range on them: 404 as well', async () => {
    const rs = parseResponses(
      await exchange(
        port,
        `HEAD /pipe HTTP/1.1\r\nHost: x\r\n\r\nGET /zero HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n`,
        2000,
      ),
      [0],
    );
    expect(rs.map((r) => r.status)).toEqual([404, 404]);
  });

  it('the listing shows the regular file only', async () => {
    const [r] = parseResponses(await exchange(port, get('/', true), 2000));
    expect(r!.status).toBe(200);
    const page = r!.body.toString();
    expect(page).toContain('real.txt');
    for (const name of ['pipe', 'sock', 'zero', 'dangling']) expect(page).not.toContain(`>${name}<`);
  });
});
