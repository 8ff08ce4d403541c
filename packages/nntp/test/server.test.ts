import * as tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { article, play, readMultiline, startServer, wire } from './helpers.js';

let cert: { cert: string; key: string };
beforeAll(async () => {
  cert = await createDemoCertificate('localhost');
});
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

/** Over real loopback sockets: TLS, feeds, pipelining. */
describe('NNTP server over TCP', () => {
  it('STARTTLS upgrades, drops plaintext pipelined after it, then AUTHINFO and POST over TLS (RFC 4642 §2.2)', async () => {
    const { server, store, connect } = await startServer({ tls: cert, requireTlsForAuth: true, feeders: () => false });
    await using _s = server;
    const client = await connect();
    expect(await client.line()).toMatch(/^201 /);
    client.sendLine('CAPABILITIES');
    await client.line();
    expect(await readMultiline(client)).toContain('STARTTLS');
    client.send('STARTTLS\r\nQUIT\r\n');
    expect(await client.line()).toBe('382 continue with TLS negotiation');
    const secure = tls.connect({ socket: client.socket, ca: cert.cert, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    const over = new MemoryClient(secure);
    over.sendLine('CAPABILITIES');
    expect(await over.line()).toBe('101 Capability list:');
    const caps = await readMultiline(over);
    expect(caps).not.toContain('STARTTLS');
    expect(caps).not.toContain('STREAMING');
    await play(
      over,
      `
      C: STARTTLS
      S: 502 command unavailable
      C: AUTHINFO USER alice
      S: 381 password required
      C: AUTHINFO PASS wonderland
      S: 281 authentication accepted
      C: POST
      S: /^340 /
    `,
    );
    over.send(wire(article({ id: '<tls@example.org>' })));
    expect(await over.line()).toBe('240 article received OK');
    expect(await store.history('<tls@example.org>')).toBe('present');
    over.sendLine('QUIT');
    expect(await over.line()).toBe('205 closing connection');
    secure.destroy();
  });

  it('serves NNTPS on a second port (implicit TLS) without STARTTLS in CAPABILITIES', async () => {
    const { server } = await startServer({ tls: cert });
    await using _s = server;
    const { port } = await server.listenTls(0);
    const socket = tls.connect({ port, host: '127.0.0.1', ca: cert.cert, servername: 'localhost' });
    const client = new MemoryClient(socket);
    expect(await client.line()).toMatch(/^201 /);
    client.sendLine('CAPABILITIES');
    await client.line();
    expect(await readMultiline(client)).not.toContain('STARTTLS');
    client.sendLine('QUIT');
    expect(await client.line()).toBe('205 closing connection');
    socket.destroy();
  });

  it('IHAVE: 335 then 235; 435 for a known id; 437 for a bad article; Path prepended (RFC 3977 §6.3.2)', async () => {
    const { server, store, connect } = await startServer();
    await using _s = server;
    const client = await connect();
    await client.line();
    await play(
      client,
      `
      C: IHAVE <1@example.org>
      S: 435 article not wanted
      C: IHAVE not-an-id
      S: 501 syntax error in arguments
      C: IHAVE <feed1@peer.example>
      S: /^335 /
    `,
    );
    client.send(wire(article({ id: '<feed1@peer.example>', path: 'peer.example!poster' })));
    expect(await client.line()).toBe('235 article transferred OK');
    const a = (await store.articleById('<feed1@peer.example>'))!;
    expect(a.data.toString()).toMatch(/^Path: gorgon\.test!peer\.example!poster\r\n/);
    client.sendLine('IHAVE <feed2@peer.example>');
    expect(await client.line()).toMatch(/^335 /);
    client.send(wire(article({ id: '<other@peer.example>', path: 'p' })));
    expect(await client.line()).toBe('437 article rejected: Message-ID does not match the command');
    client.sendLine('IHAVE <loop@peer.example>');
    await client.line();
    client.send(wire(article({ id: '<loop@peer.example>', path: 'x!gorgon.test!y' })));
    expect(await client.line()).toBe('435 article not wanted');
    client.sendLine('IHAVE <missing@peer.example>');
    await client.line();
    client.send(wire('From: a@b\r\nNewsgroups: misc.test\r\nSubject: s\r\n\r\nno id, date or path\r\n'));
    expect(await client.line()).toMatch(/^437 article rejected: missing /);
    client.socket.destroy();
  });

  it('feeds are refused to a client that is not a feeder (480/502)', async () => {
    const { server, connect } = await startServer({ feeders: (p) => p.user === 'alice' });
    await using _s = server;
    const client = await connect();
    await play(
      client,
      `
      S: /^201 /
      C: IHAVE <a@b.c>
      S: 480 authentication required
      C: MODE STREAM
      S: 502 command unavailable
    `,
    );
    client.socket.destroy();
  });

  it('streaming: MODE STREAM, pipelined CHECK/TAKETHIS answered in order, a duplicate in the stream refused (RFC 4644 §2)', async () => {
    const { server, store, connect } = await startServer();
    await using _s = server;
    const client = await connect();
    await client.line();
    client.sendLine('MODE STREAM');
    expect(await client.line()).toBe('203 streaming permitted');
    let batch = 'CHECK <1@example.org>\r\nCHECK <s1@peer>\r\nCHECK bogus\r\n';
    for (const id of ['<s1@peer>', '<s2@peer>', '<s1@peer>', '<s3@peer>'])
      batch += `TAKETHIS ${id}\r\n${wire(article({ id, path: 'peer' }))}`;
    batch += `TAKETHIS <s4@peer>\r\n${wire(article({ id: '<s4@peer>', groups: 'no.such.group', path: 'peer' }))}`;
    client.send(batch);
    expect(await client.lines(8)).toEqual([
      '438 <1@example.org>',
      '238 <s1@peer>',
      '438 bogus',
      '239 <s1@peer>',
      '239 <s2@peer>',
      '439 <s1@peer>',
      '239 <s3@peer>',
      '439 <s4@peer>',
    ]);
    expect(await store.numbers('misc.test', 4, 100)).toEqual([4, 5, 6]);
    expect(server.counters).toMatchObject({ articlesAccepted: 3, duplicates: 1 });
    client.socket.destroy();
  });

  it('a feed cut in the middle of TAKETHIS stores nothing; the server goes on', async () => {
    const { server, store, connect } = await startServer();
    await using _s = server;
    const client = await connect();
    await client.line();
    const whole = wire(article({ id: '<cut@peer>', path: 'peer' }));
    client.send(`MODE STREAM\r\nTAKETHIS <cut@peer>\r\n${whole.slice(0, whole.length / 2)}`);
    expect(await client.line()).toBe('203 streaming permitted');
    client.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.history('<cut@peer>')).toBe('absent');
    const again = await connect();
    expect(await again.line()).toMatch(/^201 /);
    again.send(`TAKETHIS <cut@peer>\r\n${whole}`);
    expect(await again.line()).toBe('239 <cut@peer>');
    again.socket.destroy();
  });

  it('hostile input: a 1 MiB header line is refused (437) and the session goes on; pipelined ARTICLEs answered in order', async () => {
    const { server, connect } = await startServer();
    await using _s = server;
    const client = await connect();
    await client.line();
    client.sendLine('IHAVE <big@peer>');
    expect(await client.line()).toMatch(/^335 /);
    client.send(wire(article({ id: '<big@peer>', path: 'p', extra: `X-Huge: ${'h'.repeat(1024 * 1024)}` })));
    expect(await client.line()).toMatch(/^437 article rejected: (line too long|article too large)$/);
    client.send('GROUP misc.test\r\nARTICLE 1\r\nSTAT 2\r\nARTICLE 3\r\n');
    expect(await client.line()).toBe('211 3 1 3 misc.test');
    expect(await client.line()).toBe('220 1 <1@example.org>');
    await readMultiline(client);
    expect(await client.line()).toBe('223 2 <2@example.org>');
    expect(await client.line()).toBe('220 3 <3@example.org>');
    await readMultiline(client);
    client.socket.destroy();
  });

  it('a client that pipelines 10,000 commands and never reads: the server stays bounded and serves others', async () => {
    const { server, connect } = await startServer();
    await using _s = server;
    const flood = await connect();
    flood.socket.pause();
    flood.send(`GROUP misc.test\r\n${'ARTICLE 1\r\n'.repeat(10_000)}`);
    await new Promise((r) => setTimeout(r, 300));
    const before = process.memoryUsage().rss;
    const other = await connect();
    expect(await other.line()).toMatch(/^201 /);
    other.sendLine('DATE');
    expect(await other.line()).toMatch(/^111 /);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    other.socket.destroy();
    flood.socket.destroy();
  });
});
