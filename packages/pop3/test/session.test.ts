import { describe, expect, it } from 'vitest';
import { transcript } from '@gorgon/core/testing';
import { Pop3Session, type Pop3Options } from '../src/internal.js';
import { messages, play, startSession, testContext } from './helpers.js';

const sizes = [Buffer.byteLength(messages.first), 100, Buffer.byteLength(messages.third)];
// The second message has bare LF line ends: its wire size counts each as CRLF.
sizes[1] = Buffer.byteLength(messages.second) + (messages.second.match(/\n/g) ?? []).length;
const total = sizes.reduce((a, b) => a + b, 0);

function run(script: string, options: Partial<Pop3Options> = {}) {
  const { ctx, store, records } = testContext(options);
  const { client } = startSession(ctx);
  const done = play(client, script).then(async () => {
    if (script.includes('signing off')) await client.closed();
    return client;
  });
  return { store, records, done };
}

describe('POP3 session transcripts (RFC 1939)', () => {
  it('§4 greeting, §7 USER/PASS, §5 STAT, LIST, RETR, DELE, §6 QUIT (the §10 example session)', async () => {
    const { store, done } = run(`
      S: +OK Gorgon POP3 server ready
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: +OK maildrop has 3 messages (${total} octets)
      C: STAT
      S: +OK 3 ${total}
      C: LIST
      S: +OK 3 messages (${total} octets)
      S: 1 ${sizes[0]}
      S: 2 ${sizes[1]}
      S: 3 ${sizes[2]}
      S: .
      C: RETR 1
      S: +OK ${sizes[0]} octets
      S: From: a@example.org
      S: Subject: one
      S:
      S: Hello.
      S: Second line.
      S: .
      C: DELE 1
      S: +OK message 1 deleted
      C: RETR 2
      S: +OK ${sizes[1]} octets
      S: From: b@example.org
      S: Subject: two
      S:
      S: bare LF body
      S: ..starts with a dot
      S: ...two dots
      S: ..
      S: end
      S: .
      C: DELE 2
      S: +OK message 2 deleted
      C: QUIT
      S: +OK Gorgon POP3 server signing off (1 message left)
    `);
    await done;
    expect(store.contents('alice').map(String)).toEqual([messages.third]);
    expect(store.isLocked('alice')).toBe(false);
  });

  it('§5 LIST n, STAT after DELE, deleted messages vanish from LIST and UIDL, RSET unmarks', async () => {
    const { store, done } = run(`
      S: /^\\+OK/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK maildrop has 3 messages/
      C: LIST 2
      S: +OK 2 ${sizes[1]}
      C: DELE 2
      S: +OK message 2 deleted
      C: STAT
      S: +OK 2 ${sizes[0]! + sizes[2]!}
      C: LIST
      S: +OK 2 messages (${sizes[0]! + sizes[2]!} octets)
      S: 1 ${sizes[0]}
      S: 3 ${sizes[2]}
      S: .
      C: UIDL
      S: +OK unique-id listing follows
      S: 1 m1
      S: 3 m3
      S: .
      C: LIST 2
      S: -ERR message 2 already deleted
      C: RETR 2
      S: -ERR message 2 already deleted
      C: DELE 2
      S: -ERR message 2 already deleted
      C: UIDL 2
      S: -ERR message 2 already deleted
      C: RSET
      S: +OK maildrop has 3 messages (${total} octets)
      C: UIDL 2
      S: +OK 2 m2
      C: NOOP
      S: +OK
      C: QUIT
      S: +OK Gorgon POP3 server signing off (3 messages left)
    `);
    await done;
    expect(store.contents('alice')).toHaveLength(3);
  });

  it('§7 TOP sends the header, the blank line and n body lines, dot-stuffed', async () => {
    const { done } = run(`
      S: /^\\+OK/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK/
      C: TOP 3 2
      S: +OK top of message follows
      S: Subject: three
      S:
      S: l1
      S: l2
      S: .
      C: TOP 2 0
      S: +OK top of message follows
      S: From: b@example.org
      S: Subject: two
      S:
      S: .
      C: TOP 2 99999999
      S: +OK top of message follows
      S: From: b@example.org
      S: Subject: two
      S:
      S: bare LF body
      S: ..starts with a dot
      S: ...two dots
      S: ..
      S: end
      S: .
      C: TOP 1
      S: -ERR missing argument
      C: TOP 1 x
      S: -ERR invalid message number or line count
      C: TOP 9 1
      S: -ERR no such message, only 3 messages in maildrop
      C: TOP 1 1 1
      S: -ERR unexpected argument
      C: QUIT
      S: /signing off/
    `);
    await done;
  });

  it('message numbers: zero, past the end, huge, negative, not decimal', async () => {
    const { done } = run(`
      S: /^\\+OK/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK/
      C: RETR 0
      S: -ERR no such message, only 3 messages in maildrop
      C: RETR 4
      S: -ERR no such message, only 3 messages in maildrop
      C: RETR 100000000000000000000000
      S: -ERR no such message, only 3 messages in maildrop
      C: DELE -1
      S: -ERR no such message, only 3 messages in maildrop
      C: LIST one
      S: -ERR no such message, only 3 messages in maildrop
      C: LIST 1 2
      S: -ERR unexpected argument
      C: RETR
      S: -ERR missing argument
      C: STAT 1
      S: -ERR unexpected argument
      C: QUIT
      S: /signing off \\(3 messages left\\)/
    `);
    await done;
  });

  it('§3 commands in the wrong state get -ERR and the session goes on', async () => {
    const { done } = run(`
      S: /^\\+OK/
      C: STAT
      S: -ERR command not valid in this state
      C: LIST
      S: -ERR command not valid in this state
      C: RETR 1
      S: -ERR command not valid in this state
      C: DELE 1
      S: -ERR command not valid in this state
      C: NOOP
      S: -ERR command not valid in this state
      C: RSET
      S: -ERR command not valid in this state
      C: TOP 1 1
      S: -ERR command not valid in this state
      C: UIDL
      S: -ERR command not valid in this state
      C: PASS wonderland
      S: -ERR send USER first
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK maildrop/
      C: USER alice
      S: -ERR command not valid in this state
      C: PASS x
      S: -ERR command not valid in this state
      C: AUTH PLAIN
      S: -ERR command not valid in this state
      C: QUIT
      S: /signing off/
    `);
    await done;
  });

  it('unknown commands get -ERR without echo; commands are case-insensitive', async () => {
    const { records, done } = run(`
      S: /^\\+OK/
      C: LAST
      S: -ERR unknown command
      C: XYZZY <script>
      S: -ERR unknown command
      C:
      S: -ERR unknown command
      C: user alice
      S: +OK send PASS
      C: pass wonderland
      S: /^\\+OK maildrop/
      C: stat
      S: /^\\+OK 3 /
      C: quit
      S: /signing off/
    `);
    await done;
    expect(records.some((r) => r.event === 'unknown-command' && r.verb === 'XYZZY')).toBe(true);
  });

  it('identical replies for an unknown user and a wrong password, then close after the limit', async () => {
    const { records, done } = run(`
      S: /^\\+OK/
      C: USER nobody
      S: +OK send PASS
      C: PASS whatever
      S: -ERR [AUTH] authentication failed
      C: USER alice
      S: +OK send PASS
      C: PASS wrong
      S: -ERR [AUTH] authentication failed
      C: USER alice
      S: +OK send PASS
      C: PASS still wrong
      S: -ERR [AUTH] too many failed logins; closing connection
    `);
    const client = await done;
    await client.closed();
    expect(JSON.stringify(records)).not.toContain('whatever');
    expect(JSON.stringify(records)).not.toContain('still wrong');
    expect(records.filter((r) => r.event === 'auth-failed')).toHaveLength(3);
  });

  it('closes after too many unknown commands', async () => {
    const lines = Array.from({ length: 2 }, () => 'C: BOGUS\nS: -ERR unknown command').join('\n');
    const { done } = run(`S: /^\\+OK/\n${lines}\nC: BOGUS\nS: -ERR too many unknown commands; closing connection`, {
      limits: { maxUnknownCommands: 3 },
    });
    const client = await done;
    await client.closed();
  });

  it('QUIT in AUTHORIZATION closes without touching the maildrop', async () => {
    const { store, done } = run(`
      S: /^\\+OK/
      C: QUIT
      S: +OK Gorgon POP3 server signing off
    `);
    await done;
    expect(store.contents('alice')).toHaveLength(3);
  });

  it('a second login to a locked maildrop gets [IN-USE]; the session may try again', async () => {
    const { ctx, store } = testContext();
    const holder = await store.open('alice');
    const client = await transcript(
      (ch) => new Pop3Session(ch, ctx),
      `
      S: /^\\+OK/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: -ERR [IN-USE] maildrop already locked by another session
    `,
    );
    await holder.release();
    client.sendLine('USER alice');
    expect(await client.line()).toBe('+OK send PASS');
    client.sendLine('PASS wonderland');
    expect(await client.line()).toMatch(/^\+OK maildrop has 3 messages/);
    client.sendLine('QUIT');
    expect(await client.line()).toMatch(/signing off/);
  });

  it('LOGIN-DELAY refuses a second login too soon with [LOGIN-DELAY]', async () => {
    const { ctx, store } = testContext({ loginDelaySeconds: 300 });
    // A login refused with [IN-USE] does not count: the retry is not delayed.
    const holder = await store.open('bob');
    await transcript(
      (ch) => new Pop3Session(ch, ctx),
      `
      S: /^\\+OK/
      C: USER bob
      S: +OK send PASS
      C: PASS builder
      S: /^-ERR \\[IN-USE\\]/
    `,
    );
    await holder.release();
    const script = `
      S: /^\\+OK/
      C: USER bob
      S: +OK send PASS
      C: PASS builder
      S: /^\\+OK maildrop has 0 messages/
      C: QUIT
      S: /signing off/
    `;
    await transcript((ch) => new Pop3Session(ch, ctx), script, { expectClose: true });
    await transcript(
      (ch) => new Pop3Session(ch, ctx),
      `
      S: /^\\+OK/
      C: USER bob
      S: +OK send PASS
      C: PASS builder
      S: -ERR [LOGIN-DELAY] wait 300 seconds between logins
    `,
    );
  });

  it('EXPIRE 0 removes retrieved messages at QUIT', async () => {
    const { store, done } = run(`
      S: /^\\+OK/
      C: CAPA
      S: +OK Capability list follows
      S: USER
      S: SASL PLAIN
      S: TOP
      S: UIDL
      S: RESP-CODES
      S: PIPELINING
      S: EXPIRE 0
      S: LOGIN-DELAY 0
      S: /^IMPLEMENTATION Gorgon-POP3-/
      S: .
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK/
      C: RETR 3
      S: /^\\+OK/
      S: Subject: three
      S:
      S: l1
      S: l2
      S: l3
      S: .
      C: QUIT
      S: +OK Gorgon POP3 server signing off (2 messages left)
    `, { expire: 0 });
    await done;
    expect(store.contents('alice').map(String)).toEqual([messages.first, messages.second]);
  });
});
