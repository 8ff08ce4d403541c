import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator } from '@gorgon/core';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { createPop3Server, defaultPop3Limits, MemoryMaildropStore, type Pop3Limits } from '../src/internal.js';

// A slowloris client: bytes that never end a line, or commands that never log in. Neither may
// hold a connection: the idle timer counts complete commands only, and AUTHORIZATION has a
// deadline (loginTimeoutMs, the same option and default as FTP's).

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

function server(limits: Partial<Pop3Limits>) {
  const maildrops = new MemoryMaildropStore();
  maildrops.deliver('alice', 'Subject: one\r\n\r\nhello\r\n');
  return createPop3Server({
    store: maildrops,
    auth: new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]),
    throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    limits,
  });
}

async function dial(port: number): Promise<MemoryClient & { write(data: string): void }> {
  const socket = connect(port, '127.0.0.1');
  const client = new MemoryClient(socket) as MemoryClient & { write(data: string): void };
  client.write = (data) => {
    if (!socket.destroyed) socket.write(data);
  };
  expect(await client.line()).toBe('+OK Gorgon POP3 server ready');
  return client;
}

/** Runs `send` every 40 ms until the returned function is called. */
function every(send: () => void): () => void {
  const timer = setInterval(send, 40);
  return () => clearInterval(timer);
}

describe('POP3: trickling input and the login deadline', () => {
  it('a line trickled a byte at a time does not postpone the idle timeout (before login)', async () => {
    await using pop3 = server({ idleTimeoutMs: 200, loginTimeoutMs: 0 });
    const client = await dial((await pop3.listen(0)).port);
    const stop = every(() => client.write('U'));
    try {
      expect(await client.line(3000)).toBe('-ERR autologout: idle for too long');
    } finally {
      stop();
    }
    await client.closed();
  });

  it('nor after login: a logged-in session trickling bytes is logged out', async () => {
    await using pop3 = server({ idleTimeoutMs: 200 });
    const client = await dial((await pop3.listen(0)).port);
    client.sendLine('USER alice');
    expect(await client.line()).toBe('+OK send PASS');
    client.sendLine('PASS wonderland');
    expect(await client.line()).toMatch(/^\+OK maildrop has 1 /);
    const stop = every(() => client.write('N'));
    try {
      expect(await client.line(3000)).toBe('-ERR autologout: idle for too long');
    } finally {
      stop();
    }
    await client.closed();
  });

  it('complete commands that never log in are closed at loginTimeoutMs', async () => {
    await using pop3 = server({ loginTimeoutMs: 300 });
    const client = await dial((await pop3.listen(0)).port);
    const stop = every(() => client.write('USER alice\r\n'));
    try {
      for (;;) {
        const line = await client.line(3000);
        if (line !== '+OK send PASS') {
          expect(line).toBe('-ERR no login in time; closing connection');
          break;
        }
      }
    } finally {
      stop();
    }
    await client.closed();
    for (let i = 0; i < 500 && pop3.connections > 0; i++) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(pop3.connections).toBe(0);
  });

  it('the deadline ends at login: a logged-in session outlives it', async () => {
    await using pop3 = server({ loginTimeoutMs: 150 });
    const client = await dial((await pop3.listen(0)).port);
    client.sendLine('USER alice');
    await client.line();
    client.sendLine('PASS wonderland');
    expect(await client.line()).toMatch(/^\+OK maildrop has 1 /);
    for (let i = 0; i < 10; i++) {
      client.sendLine('NOOP');
      expect(await client.line()).toBe('+OK');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    client.sendLine('QUIT');
    expect(await client.line()).toMatch(/^\+OK /);
    await client.closed();
  });

  it('defaults to FTP’s 60 s', () => {
    expect(defaultPop3Limits.loginTimeoutMs).toBe(60_000);
  });
});
