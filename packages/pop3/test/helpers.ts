import { MemoryAuthenticator, memoryLogger, type MemoryLogRecord } from '@gorgon/core';
import { memoryChannelPair, type MemoryClient } from '@gorgon/core/testing';
import { createPop3Context, MemoryMaildropStore, Pop3Session, type Pop3Context, type Pop3Options } from '../src/internal.js';

/** Two messages as in RFC 1939 §10, plus one whose lines start with '.'. */
export const messages = {
  first: 'From: a@example.org\r\nSubject: one\r\n\r\nHello.\r\nSecond line.\r\n',
  second: 'From: b@example.org\nSubject: two\n\nbare LF body\n.starts with a dot\n..two dots\n.\nend\n',
  third: 'Subject: three\r\n\r\nl1\r\nl2\r\nl3\r\n',
};

/** The users of every session test: alice (USER/PASS, PLAIN, APOP) and bob (no APOP secret). */
export function testAuth(): MemoryAuthenticator {
  return new MemoryAuthenticator([
    { name: 'alice', password: 'wonderland', attributes: { apopSecret: 'tanstaaf' } },
    { name: 'bob', password: 'builder' },
  ]);
}

/** A context with a memory store holding alice's three messages, no throttle delay. */
export function testContext(options: Partial<Pop3Options> = {}): {
  ctx: Pop3Context;
  store: MemoryMaildropStore;
  records: MemoryLogRecord[];
} {
  const store = new MemoryMaildropStore();
  store.deliver('alice', messages.first);
  store.deliver('alice', messages.second);
  store.deliver('alice', messages.third);
  const records: MemoryLogRecord[] = [];
  const ctx = createPop3Context({
    store: store,
    auth: testAuth(),
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    logger: memoryLogger(records),
    hostname: 'pop.example.org',
    ...options,
  });
  return { ctx, store, records };
}

/** A session over the in-memory pair, from `remoteAddress`; the greeting is left unread. */
export function startSession(ctx: Pop3Context, remoteAddress = '127.0.0.1'): { session: Pop3Session; client: MemoryClient } {
  const { channel, client } = memoryChannelPair({ remoteAddress, logger: ctx.logger });
  const session = new Pop3Session(channel, ctx);
  return { session, client };
}

/** Reads a multi-line response body up to its "." line, returning the lines (still stuffed). */
export async function readMultiline(client: MemoryClient): Promise<string[]> {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const line = await client.line();
    if (line === '.') return lines;
    lines.push(line);
  }
  throw new Error('no terminating line');
}

/** Logs in as alice with USER/PASS and reads the +OK. */
export async function loginAlice(client: MemoryClient): Promise<string> {
  await client.line();
  client.sendLine('USER alice');
  await client.line();
  client.sendLine('PASS wonderland');
  return client.line();
}

/**
 * Plays an RFC-style script (`C: ` lines sent, `S: ` lines expected, `S: /re/` matched) over
 * an existing client: the core's transcript helper, for sessions built with a logger.
 */
export async function play(client: MemoryClient, script: string): Promise<void> {
  const steps = script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  let n = 0;
  for (const step of steps) {
    n++;
    if (step.startsWith('C:')) {
      client.sendLine(step.slice(3));
      continue;
    }
    if (!step.startsWith('S:')) throw new Error(`step ${n}: lines start with "C: " or "S: "`);
    const want = step.slice(3);
    const got = await client.line().catch((err: Error) => {
      throw new Error(`step ${n} (${step}): ${err.message}`);
    });
    const regex = want.length > 1 && want.startsWith('/') && want.endsWith('/') ? new RegExp(want.slice(1, -1)) : undefined;
    if (regex ? !regex.test(got) : got !== want) {
      throw new Error(`step ${n}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
  }
}
