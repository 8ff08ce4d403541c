import { describe, expect, it } from 'vitest';
import { memoryChannelPair } from '@gorgon/core/testing';
import { Pop3Session } from '../src/internal.js';
import { loginAlice, messages, play, readMultiline, startSession, testContext } from './helpers.js';

describe('pipelining, limits and hostile input', () => {
  it('answers pipelined commands in order (RFC 2449 §6.6)', async () => {
    const { ctx } = testContext();
    const { client } = startSession(ctx);
    await client.line();
    client.send('USER alice\r\nPASS wonderland\r\nSTAT\r\nRETR 1\r\nUIDL 1\r\nRETR 3\r\nDELE 2\r\nLIST\r\nQUIT\r\n');
    expect(await client.line()).toBe('+OK send PASS');
    expect(await client.line()).toMatch(/^\+OK maildrop has 3/);
    expect(await client.line()).toMatch(/^\+OK 3 /);
    expect(await client.line()).toMatch(/^\+OK \d+ octets/);
    expect((await readMultiline(client)).join('\r\n') + '\r\n').toBe(messages.first);
    expect(await client.line()).toBe('+OK 1 m1');
    expect(await client.line()).toMatch(/^\+OK \d+ octets/);
    expect((await readMultiline(client)).join('\r\n') + '\r\n').toBe(messages.third);
    expect(await client.line()).toBe('+OK message 2 deleted');
    expect(await client.line()).toMatch(/^\+OK 2 messages/);
    expect(await readMultiline(client)).toHaveLength(2);
    expect(await client.line()).toMatch(/signing off \(2 messages left\)/);
    await client.closed();
  });

  it('answers pipelined RETRs of small messages in order, many replies to a write', async () => {
    const { ctx, store } = testContext();
    const bodies = Array.from({ length: 60 }, (_, i) => `Subject: ${i}\r\n\r\n.dot line ${i}\nbare LF\n`);
    for (const body of bodies) store.deliver('alice', body);
    const { session, client } = startSession(ctx);
    const stream = session.channel.stream;
    let writes = 0;
    const write = stream.write.bind(stream) as (chunk: unknown) => boolean;
    stream.write = ((chunk: unknown) => (writes++, write(chunk))) as typeof stream.write;
    expect(await loginAlice(client)).toMatch(/^\+OK maildrop has 63/);
    writes = 0;
    client.send(Array.from({ length: 60 }, (_, i) => `RETR ${i + 4}\r\n`).join(''));
    for (let i = 0; i < 60; i++) {
      expect(await client.line()).toMatch(/^\+OK \d+ octets/);
      expect(await readMultiline(client)).toEqual([`Subject: ${i}`, '', `..dot line ${i}`, 'bare LF']);
    }
    expect(writes).toBeLessThan(10); // one write per reply before
    client.end();
  });

  it('answers a command split across many writes', async () => {
    const { ctx } = testContext();
    const { client } = startSession(ctx);
    await client.line();
    for (const ch of 'USER alice\r\n') client.send(ch);
    expect(await client.line()).toBe('+OK send PASS');
    client.end();
  });

  it('refuses lines over 255 octets with -ERR, discards them, never runs their tail', async () => {
    const { ctx, records } = testContext();
    const { client } = startSession(ctx);
    await client.line();
    client.send(`USER ${'a'.repeat(248)}\r\n`); // exactly 255 octets with CRLF: accepted
    expect(await client.line()).toBe('+OK send PASS');
    client.send(`USER ${'a'.repeat(249)}\r\n`); // 256 octets
    expect(await client.line()).toBe('-ERR command line too long');
    client.send(`NOOP${' '.repeat(4000)}QUIT\r\nCAPA\r\n`);
    expect(await client.line()).toBe('-ERR command line too long');
    expect(await client.line()).toBe('+OK Capability list follows');
    await readMultiline(client);
    expect(records.some((r) => r.event === 'line-too-long')).toBe(true);
    client.end();
  });

  it('survives binary garbage and NUL bytes, then still works', async () => {
    const { ctx } = testContext();
    const { client } = startSession(ctx);
    await client.line();
    const garbage = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37 + 11) % 256).filter((b) => b !== 10));
    client.send(Buffer.concat([garbage.subarray(0, 120), Buffer.from('\r\n')]));
    expect(await client.line()).toMatch(/^-ERR /);
    client.send(Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0x00, 0xff, 0x0d, 0x0a])); // USER \0\xff
    expect(await client.line()).toBe('+OK send PASS');
    client.send('PASS \0\r\n');
    expect(await client.line()).toBe('-ERR [AUTH] authentication failed');
    expect(await loginAliceAgain(client)).toMatch(/^\+OK maildrop/);
    client.send('RETR \0\xff\r\n');
    expect(await client.line()).toMatch(/^-ERR no such message/);
    await play(client, 'C: QUIT\nS: /signing off/');
  });

  it('a connection dropped without QUIT deletes nothing and releases the lock', async () => {
    const { ctx, store } = testContext();
    const { client } = startSession(ctx);
    expect(await loginAlice(client)).toMatch(/^\+OK maildrop has 3/);
    client.sendLine('DELE 1');
    client.sendLine('DELE 2');
    expect(await client.lines(2)).toEqual(['+OK message 1 deleted', '+OK message 2 deleted']);
    client.sendLine('RETR 3');
    await client.line();
    client.stream.destroy();
    await waitUntil(() => !store.isLocked('alice'));
    expect(store.contents('alice')).toHaveLength(3);
  });

  it('the autologout timer closes an idle session without UPDATE (RFC 1939 §3)', async () => {
    const { ctx, store } = testContext();
    const { channel, client } = memoryChannelPair({ idleTimeoutMs: 50 });
    new Pop3Session(channel, ctx);
    expect(await loginAlice(client)).toMatch(/^\+OK/);
    client.sendLine('DELE 1');
    expect(await client.line()).toBe('+OK message 1 deleted');
    expect(await client.line(3000)).toBe('-ERR autologout: idle for too long');
    await client.closed(3000);
    await waitUntil(() => !store.isLocked('alice'));
    expect(store.contents('alice')).toHaveLength(3);
  });
});

async function loginAliceAgain(client: import('@gorgon/core/testing').MemoryClient): Promise<string> {
  client.sendLine('USER alice');
  await client.line();
  client.sendLine('PASS wonderland');
  return client.line();
}

async function waitUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
