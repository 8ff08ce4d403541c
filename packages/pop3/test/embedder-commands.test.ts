import { describe, expect, it } from 'vitest';
import { memoryStreamPair, MemoryClient } from '@gorgon/core/testing';
import type { Pop3Command } from '@gorgon/pop3/server';
import { createPop3Server } from '../src/internal.js';
import { play, testAuth } from './helpers.js';
import { MemoryMaildropStore } from '../src/internal.js';

// An embedder's command in POP3 (the `commands` option, the core's CommandSpec): it goes
// through the same gate as the built-in ones, CAPA lists its capability, and the events see it.
const xcount: Pop3Command = {
  verb: 'XCOUNT',
  args: 'none',
  states: ['transaction'],
  help: 'XCOUNT: messages in the maildrop',
  capability: 'XCOUNT',
  run: (s) => s.reply({ ok: true, text: `${s.maildrop.messages.length} messages` }),
};

describe("an embedder's POP3 command", () => {
  it('is gated by state, listed in CAPA, and runs in TRANSACTION', async () => {
    const store = new MemoryMaildropStore();
    store.deliver('alice', 'Subject: one\r\n\r\nbody\r\n');
    await using server = createPop3Server({ store, auth: testAuth(), throttle: { baseDelayMs: 0, maxDelayMs: 0 }, commands: [xcount] });
    const verbs: string[] = [];
    server.on('command', (e) => void verbs.push(e.verb));
    const [a, b] = memoryStreamPair({ allowHalfOpen: [true, false] });
    server.accept(a);
    const client = new MemoryClient(b);
    await play(
      client,
      `S: /^\\+OK/
      C: XCOUNT
      S: -ERR command not valid in this state
      C: CAPA
      S: +OK Capability list follows
      S: USER
      S: SASL PLAIN
      S: TOP
      S: UIDL
      S: XCOUNT
      S: RESP-CODES
      S: PIPELINING
      S: EXPIRE NEVER
      S: LOGIN-DELAY 0
      S: /^IMPLEMENTATION /
      S: .
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK maildrop has 1 message/
      C: xcount
      S: +OK 1 messages
      C: QUIT
      S: /^\\+OK/`,
    );
    await client.closed();
    expect(verbs).toEqual(['CAPA', 'USER', 'PASS', 'XCOUNT', 'QUIT']);
  });
});
