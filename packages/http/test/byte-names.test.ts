/**
 * Names on disk that are not UTF-8 (a Latin-1 "café" written by an old FTP client, a directory
 * named with the byte 0xFF) are served and listed as the bytes they are, as nginx and Gorgon's
 * FTP server do: `%E9` in a path is the byte 0xE9 (either hex case), the listing links to the
 * exact bytes and shows U+FFFD for the byte, and the checks (`..`, NUL, bad escapes) still
 * refuse what they refused. Both the local store (synchronous opens) and a network one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskStore, type HttpServer } from '@gorgon/http';
import { exchange, parseResponses, startServer, tempDir } from './helpers.js';

const t = tempDir();
const latin1File = Buffer.concat([Buffer.from(`${t.dir}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]);
const byteDir = Buffer.concat([Buffer.from(`${t.dir}/d`), Buffer.from([0xff])]);
const servers: HttpServer[] = [];
const ports: Record<string, number> = {};

beforeAll(async () => {
  writeFileSync(latin1File, 'latin1 name\n');
  writeFileSync(join(t.dir, 'café.txt'), 'utf8 name\n');
  mkdirSync(byteDir);
  writeFileSync(Buffer.concat([byteDir, Buffer.from('/inner.txt')]), 'inside the 0xFF directory\n');
  for (const [name, local] of [
    ['local', true],
    ['network', false],
  ] as const) {
    const { server, port } = await startServer(t.dir, { store: new DiskStore(t.dir, { local }) });
    servers.push(server);
    ports[name] = port;
  }
});
afterAll(async () => {
  for (const s of servers) await s.close();
  t.remove();
});

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
async function fetch(port: number, path: string) {
  const [r] = parseResponses(await exchange(port, get(path), 2000));
  return r!;
}

describe.each(['local', 'network'])('byte names (%s store)', (kind) => {
  it('GET of a Latin-1 name by its percent-encoded byte, in either case; the UTF-8 name beside it', async () => {
    const port = ports[kind]!;
    for (const path of ['/caf%E9.txt', '/caf%e9.txt']) {
      const r = await fetch(port, path);
      expect(r.status, path).toBe(200);
      expect(r.body.toString()).toBe('latin1 name\n');
      expect(r.fields.get('content-type')).toBe('text/plain; charset=utf-8');
    }
    expect((await fetch(port, '/caf%C3%A9.txt')).body.toString()).toBe('utf8 name\n');
    expect((await fetch(port, '/d%FF/inner.txt')).body.toString()).toBe('inside the 0xFF directory\n');
    const moved = await fetch(port, '/d%FF');
    expect(moved.status).toBe(301);
    expect(moved.fields.get('location')).toMatch(/\/d%FF\/$/);
  });

  it('the listing links to the exact bytes (each link served) and shows U+FFFD for the byte', async () => {
    const port = ports[kind]!;
    const page = (await fetch(port, '/')).body.toString('utf8');
    const hrefs = [...page.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    expect(hrefs).toEqual(expect.arrayContaining(['caf%E9.txt', 'caf%C3%A9.txt', 'd%FF/']));
    expect(page).toContain('caf\uFFFD.txt');
    for (const href of hrefs) expect((await fetch(port, `/${href}`)).status, href).toBe(200);
    const inner = (await fetch(port, '/d%FF/')).body.toString('utf8');
    expect(inner).toContain('href="inner.txt"');
  });

  it('the checks still hold: a missing byte name 404, bad escapes and NUL 400, .. 403', async () => {
    const port = ports[kind]!;
    expect((await fetch(port, '/%FF')).status).toBe(404);
    expect((await fetch(port, '/%C3')).status).toBe(404); // a lone lead byte is a byte, not an error
    for (const path of ['/%zz', '/caf%E9.txt%00', '/caf%E', '/%2f..%2fetc']) expect((await fetch(port, path)).status, path).toBe(400);
    expect((await fetch(port, '/d%FF/%2e%2e/%2e%2e/etc/passwd')).status).toBe(403);
  });
});
