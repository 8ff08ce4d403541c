/**
 * The client, COMPRESS DEFLATE and news pull against Gorgon's own NNTP server over loopback,
 * and Python's zlib as a raw COMPRESS peer of that server.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard } from '@gorgon/core/testing';
import { MemoryNewsStore, NntpClient, createNntpServer, pullNews, type NntpServer } from '@gorgon/nntp';

async function serve(): Promise<{ server: NntpServer; port: number; store: MemoryNewsStore }> {
  const store = new MemoryNewsStore();
  await store.createGroup('comp.lang.c');
  await store.createGroup('comp.lang.ada');
  await store.createGroup('alt.binaries.x');
  const server = createNntpServer({ store, pathHost: 'g.test', anonymous: { read: '*', post: '*' } });
  const port = (await server.listen(0, '127.0.0.1')).port;
  return { server, port, store };
}

const body = (n: number): string => `line ${n}\r\n${'text '.repeat(200)}\r\n.dot\r\n`;

async function fill(port: number, group: string, count: number, first = 1): Promise<void> {
  const client = await NntpClient.connect({ port });
  for (let n = first; n < first + count; n++) {
    await client.post(
      `From: t@g.test\r\nNewsgroups: ${group}\r\nSubject: ${group} ${n}\r\nMessage-ID: <${group}.${n}@g.test>\r\n\r\n${body(n)}`,
    );
  }
  await client.quit();
}

describe('client and COMPRESS against the Gorgon NNTP server', () => {
  let guard: ReturnType<typeof leakGuard>;
  let dir: string;
  beforeEach(async () => {
    guard = leakGuard();
    dir = await mkdtemp(join(tmpdir(), 'gorgon-cg-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await guard.check();
  });

  it('COMPRESS DEFLATE: advertised, 206, then GROUP/OVER/ARTICLE compressed; a second COMPRESS is 502', async () => {
    const { server, port } = await serve();
    await using _ = server;
    await fill(port, 'comp.lang.c', 20);
    const client = await NntpClient.connect({ port });
    expect((await client.capabilities()).get('COMPRESS')).toEqual(['DEFLATE']);
    await client.compress();
    expect((await client.capabilities()).has('COMPRESS')).toBe(false);
    expect((await client.command('COMPRESS DEFLATE')).code).toBe(502);
    const group = await client.group('comp.lang.c');
    expect(group.count).toBe(20);
    expect(await client.over('1-')).toHaveLength(20);
    const wire = client.channel.stream as unknown as { raw: { bytesRead: number } };
    const before = wire.raw.bytesRead;
    const got: string[] = [];
    for await (const r of client.articles(Array.from({ length: 20 }, (_, i) => i + 1))) {
      if (r.ok) got.push(r.article.toString().slice(r.article.indexOf('\r\n\r\n') + 4));
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => body(i + 1)));
    // ~20 KB of repetitive articles crossed the wire in far fewer bytes.
    expect(wire.raw.bytesRead - before).toBeLessThan(8000);
    await client.quit();
  });

  it('COMPRESS with an unknown algorithm is 503, without an argument 501', async () => {
    const { server, port } = await serve();
    await using _ = server;
    const client = await NntpClient.connect({ port });
    expect((await client.command('COMPRESS GZIP')).code).toBe(503);
    expect((await client.command('COMPRESS')).code).toBe(501);
    expect((await client.command('DATE')).code).toBe(111);
    await client.quit();
  });

  it('Python zlib as a raw COMPRESS peer of the NNTP server', async () => {
    const { server, port } = await serve();
    await using _ = server;
    const script = `
import socket, zlib
s = socket.create_connection(('127.0.0.1', ${port}))
f = s.makefile('rb')
assert f.readline().startswith(b'20')
s.sendall(b'COMPRESS DEFLATE\\r\\n')
assert f.readline().startswith(b'206'), 'no 206'
c = zlib.compressobj(6, zlib.DEFLATED, -15)
d = zlib.decompressobj(-15)
s.sendall(c.compress(b'GROUP comp.lang.ada\\r\\nDATE\\r\\nQUIT\\r\\n') + c.flush(zlib.Z_SYNC_FLUSH))
buf = b''
while True:
    chunk = s.recv(65536)
    if not chunk: break
    buf += d.decompress(chunk)
lines = buf.split(b'\\r\\n')
assert lines[0].startswith(b'211 0 '), lines[0]
assert lines[1].startswith(b'111 '), lines[1]
assert lines[2].startswith(b'205'), lines[2]
print('ok')
`;
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(out).toBe('ok\n');
    expect(code).toBe(0);
  });

  it('STARTTLS, AUTHINFO USER/PASS and SASL PLAIN, then COMPRESS over TLS; nntps:// pull with a CA file', async () => {
    const pems = await createDemoCertificate('localhost');
    const store = new MemoryNewsStore();
    await store.createGroup('comp.lang.c');
    const auth = new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]);
    await using server = createNntpServer({ store, pathHost: 'g.test', auth, tls: pems, users: { alice: { read: '*', post: '*' } } });
    const port = (await server.listen(0, '127.0.0.1')).port;
    const tlsPort = (await server.listenTls(0, '127.0.0.1')).port;
    const client = await NntpClient.connect({ port });
    await client.startTls({ ca: pems.cert, servername: 'localhost' });
    expect(client.channel.secure).toBe(true);
    await client.login('alice', 'wonderland');
    await client.post('From: a@g.test\r\nNewsgroups: comp.lang.c\r\nSubject: secure\r\nMessage-ID: <tls@g.test>\r\n\r\nover TLS\r\n');
    await client.compress();
    expect((await client.article('<tls@g.test>')).article.toString()).toContain('over TLS');
    await client.quit();
    const sasl = await NntpClient.connect({ port: tlsPort, tls: { ca: pems.cert, servername: 'localhost' } });
    await sasl.loginSaslPlain('alice', 'wonderland');
    await expect(NntpClient.connect({ port: tlsPort, tls: { servername: 'localhost' } })).rejects.toThrow();
    await sasl.quit();
    const result = await pullNews({
      servers: [`nntps://localhost:${tlsPort}`],
      groups: 'comp.*',
      out: join(dir, 'tls.mbox'),
      format: 'mbox',
      client: { tls: { ca: pems.cert } },
    });
    expect(result).toMatchObject({ fetched: 1, failures: [] });
  });

  it('news pull from the Gorgon server: wildmat with negation, 3 connections, second run empty', async () => {
    const { server, port } = await serve();
    await using _ = server;
    await fill(port, 'comp.lang.c', 30);
    await fill(port, 'comp.lang.ada', 5);
    await fill(port, 'alt.binaries.x', 3);
    const out = join(dir, 'Maildir');
    const options = {
      servers: [`nntp://127.0.0.1:${port}`],
      groups: 'comp.lang.*,alt.*,!*.binaries.*',
      out,
      format: 'maildir' as const,
      connections: 3,
    };
    expect((await pullNews(options)).fetched).toBe(35);
    expect(await readdir(join(out, 'new'))).toHaveLength(35);
    expect((await pullNews(options)).fetched).toBe(0);
    await fill(port, 'comp.lang.ada', 2, 6);
    expect((await pullNews(options)).fetched).toBe(2);
  });
});
