import { connect as netConnect, type Socket } from 'node:net';
import { MemoryAuthenticator, memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { memoryChannelPair, MemoryClient } from '@gorgon/core/testing';
import { createNntpServer, MemoryNewsStore, type NewsStore, type NntpServer } from '../src/index.js';
// Internals the tests drive directly (not part of the public surface).
import { createNntpContext, type NntpContext, type NntpOptions } from '../src/context.js';
import { NntpSession } from '../src/session.js';

/** An article as a poster sends it (CRLF, not dot-stuffed). */
export function article(
  o: { id?: string; groups?: string; subject?: string; body?: string; date?: string; path?: string; extra?: string } = {},
): string {
  const h = [
    `From: Alice <alice@example.org>`,
    `Newsgroups: ${o.groups ?? 'misc.test'}`,
    `Subject: ${o.subject ?? 'hello'}`,
    ...(o.id ? [`Message-ID: ${o.id}`] : []),
    `Date: ${o.date ?? new Date().toUTCString()}`,
    ...(o.path ? [`Path: ${o.path}`] : []),
    ...(o.extra ? [o.extra] : []),
  ];
  return `${h.join('\r\n')}\r\n\r\n${o.body ?? 'Body line one.\r\n.A line starting with a dot.\r\n'}`;
}

/** Dot-stuffs and terminates an article for the wire. */
export function wire(text: string): string {
  return `${text.replace(/(^|\r\n)\./g, '$1..') + (text.endsWith('\r\n') ? '' : '\r\n')}.\r\n`;
}

/** A store with misc.test (3 articles), comp.lang.c (1), and an empty read-only group. */
export async function seededStore(store: NewsStore = new MemoryNewsStore()): Promise<NewsStore> {
  await store.createGroup('misc.test', { description: 'Testing', created: 1_700_000_000 });
  await store.createGroup('comp.lang.c', { description: 'C language', created: 1_700_000_100 });
  await store.createGroup('news.announce', { status: 'n', description: 'Announcements', created: 1_700_000_200 });
  const { finishArticle, parseArticle } = await import('../src/article.js');
  const put = async (text: string) => {
    const parsed = parseArticle(text);
    const f = finishArticle(parsed, { pathHost: 'seed', transit: true, now: Date.now(), newId: () => '' });
    const groups = (parsed.fields.find((x) => x.name === 'Newsgroups')?.value ?? '').split(',');
    await store.add({ messageId: f.messageId, groups, render: f.render, arrived: 1_700_000_500 });
  };
  await put(article({ id: '<1@example.org>', subject: 'first' }));
  await put(article({ id: '<2@example.org>', subject: 'second', groups: 'misc.test,comp.lang.c' }));
  await put(article({ id: '<3@example.org>', subject: 'third' }));
  return store;
}

export function testAuth(): MemoryAuthenticator {
  return new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]);
}

/** A context over a seeded memory store, with alice as the one user, no login delay. */
export async function testContext(
  options: Partial<NntpOptions> = {},
): Promise<{ ctx: NntpContext; store: NewsStore; records: MemoryLogRecord[] }> {
  const store = options.store ?? (await seededStore());
  const records: MemoryLogRecord[] = [];
  const ctx = createNntpContext({
    store,
    auth: testAuth(),
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    logger: memoryLogger(records),
    pathHost: 'gorgon.test',
    ...options,
  });
  return { ctx, store, records };
}

/** A session over the in-memory pair; the greeting is left unread. */
export function startSession(ctx: NntpContext, remoteAddress = '127.0.0.1'): { session: NntpSession; client: MemoryClient } {
  const { channel, client } = memoryChannelPair({ remoteAddress, logger: ctx.logger });
  const session = new NntpSession(channel, ctx);
  return { session, client };
}

/** Reads a multi-line body to its "." line (lines still stuffed). */
export async function readMultiline(client: MemoryClient, timeoutMs = 5000): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.line(timeoutMs);
    if (line === '.') return lines;
    lines.push(line);
  }
}

/** Plays `C:`/`S:` lines over a client; `S: /re/` matches a regex. */
export async function play(client: MemoryClient, script: string): Promise<void> {
  let n = 0;
  for (const step of script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')) {
    n++;
    if (step.startsWith('C:')) {
      client.sendLine(step.slice(3));
      continue;
    }
    const want = step.slice(3);
    const got = await client.line();
    const re = want.length > 1 && want.startsWith('/') && want.endsWith('/') ? new RegExp(want.slice(1, -1)) : undefined;
    if (re ? !re.test(got) : got !== want) throw new Error(`step ${n}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}

/** A real server on a loopback port and a connected client (over TCP). */
export async function startServer(
  options: Partial<NntpOptions> = {},
): Promise<{ server: NntpServer; store: NewsStore; port: number; connect: () => Promise<MemoryClient & { socket: Socket }> }> {
  const store = options.store ?? (await seededStore());
  const server = createNntpServer({
    store,
    auth: testAuth(),
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    pathHost: 'gorgon.test',
    ...options,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const connect = async () => {
    const socket = netConnect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new MemoryClient(socket) as MemoryClient & { socket: Socket };
    Object.defineProperty(client, 'socket', { value: socket });
    return client;
  };
  return { server, store, port, connect };
}
