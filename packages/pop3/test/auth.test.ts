import { describe, expect, it } from 'vitest';
import { apopDigest, verifyApop, decodeSaslResponse, parsePlain, maskCommand } from '../src/internal.js';
import { play, startSession, testContext } from './helpers.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('APOP (RFC 1939 §7)', () => {
  it('computes the digest of the RFC 1939 example', () => {
    expect(apopDigest('<1896.697170952@dbc.mtview.ca.us>', 'tanstaaf')).toBe('c4c9334bac560ecc979e58001b3e22fb');
    expect(verifyApop('<1896.697170952@dbc.mtview.ca.us>', 'tanstaaf', 'C4C9334BAC560ECC979E58001B3E22FB')).toBe(true);
    expect(verifyApop('<1896.697170952@dbc.mtview.ca.us>', 'tanstaaf', 'c4c9334bac560ecc979e58001b3e22fa')).toBe(false);
    expect(verifyApop('<1896.697170952@dbc.mtview.ca.us>', undefined, 'c4c9334bac560ecc979e58001b3e22fb')).toBe(false);
    expect(verifyApop('<x@y>', 'tanstaaf', 'é'.repeat(40))).toBe(false);
  });

  it('greets with a timestamp only when APOP is offered, and logs in with the digest', async () => {
    const plain = testContext();
    const { client: c0 } = startSession(plain.ctx);
    expect(await c0.line()).toBe('+OK Gorgon POP3 server ready');
    c0.sendLine('APOP alice 0123456789abcdef0123456789abcdef');
    expect(await c0.line()).toBe('-ERR unknown command');
    c0.end();

    const { ctx, records } = testContext({ mechanisms: ['user', 'apop'] });
    const { client } = startSession(ctx);
    const greeting = await client.line();
    const timestamp = /<[^>]+@pop\.example\.org>/.exec(greeting)?.[0];
    expect(timestamp).toBeDefined();
    client.sendLine(`APOP alice ${apopDigest(timestamp!, 'wrong')}`);
    expect(await client.line()).toBe('-ERR [AUTH] authentication failed');
    client.sendLine(`APOP bob ${apopDigest(timestamp!, '')}`);
    expect(await client.line()).toBe('-ERR [AUTH] authentication failed');
    const digest = apopDigest(timestamp!, 'tanstaaf');
    client.sendLine(`APOP alice ${digest}`);
    expect(await client.line()).toMatch(/^\+OK maildrop has 3 messages/);
    await play(client, 'C: QUIT\nS: /signing off/');
    expect(JSON.stringify(records)).not.toContain(digest);
  });

  it('a second connection gets a different timestamp', async () => {
    const { ctx } = testContext({ mechanisms: ['apop'] });
    const a = startSession(ctx).client;
    const b = startSession(ctx).client;
    const [ga, gb] = [await a.line(), await b.line()];
    expect(ga).not.toBe(gb);
    a.end();
    b.end();
  });
});

describe('AUTH PLAIN (RFC 5034, RFC 4616)', () => {
  it('decodes strictly', () => {
    expect(decodeSaslResponse('=')).toEqual(Buffer.alloc(0));
    expect(decodeSaslResponse('not base64!')).toBeUndefined();
    expect(decodeSaslResponse('abc')).toBeUndefined();
    expect(parsePlain(Buffer.from('\0alice\0pw'))).toEqual({ authzid: '', authcid: 'alice', password: 'pw' });
    expect(parsePlain(Buffer.from('alice\0pw'))).toBeUndefined();
    expect(parsePlain(Buffer.from('\0\0pw'))).toBeUndefined();
  });

  it('logs in with an initial response', async () => {
    const { ctx, records } = testContext();
    const { client } = startSession(ctx);
    await play(client, `
      S: /^\\+OK/
      C: AUTH PLAIN ${b64('\0alice\0wonderland')}
      S: /^\\+OK maildrop has 3 messages/
      C: QUIT
      S: /signing off/
    `);
    expect(JSON.stringify(records)).not.toContain(b64('\0alice\0wonderland'));
  });

  it('logs in after a continuation, lists mechanisms, honours * and refuses garbage', async () => {
    const { ctx, records } = testContext();
    const { client } = startSession(ctx);
    await play(client, `
      S: /^\\+OK/
      C: AUTH
      S: +OK SASL mechanisms follow
      S: PLAIN
      S: .
      C: AUTH CRAM-MD5
      S: -ERR unsupported authentication mechanism
      C: AUTH PLAIN
      S: /^\\+ $/
      C: *
      S: -ERR authentication cancelled
      C: AUTH PLAIN
      S: /^\\+ $/
      C: %%%%
      S: -ERR invalid SASL response
      C: AUTH PLAIN
      S: /^\\+ $/
      C: ${b64('bob\0alice\0wonderland')}
      S: -ERR [AUTH] authentication failed
      C: auth plain
      S: /^\\+ $/
      C: ${b64('alice\0alice\0wonderland')}
      S: /^\\+OK maildrop has 3 messages/
      C: QUIT
      S: /signing off/
    `);
    expect(JSON.stringify(records)).not.toContain('wonderland');
    expect(JSON.stringify(records)).not.toContain(b64('alice\0alice\0wonderland'));
  });
});

describe('plaintext logins before TLS (RFC 2595 §2)', () => {
  it('refuses USER/PASS and PLAIN from a remote address when required, and hides them from CAPA', async () => {
    const { ctx } = testContext({ requireTlsForPlaintext: true });
    const { client } = startSession(ctx, '192.0.2.7');
    await play(client, `
      S: /^\\+OK/
      C: CAPA
      S: +OK Capability list follows
      S: TOP
      S: UIDL
      S: RESP-CODES
      S: PIPELINING
      S: EXPIRE NEVER
      S: LOGIN-DELAY 0
      S: /^IMPLEMENTATION /
      S: .
      C: USER alice
      S: -ERR [AUTH] plaintext authentication disallowed on non-secure connections; use STLS
      C: PASS wonderland
      S: -ERR [AUTH] plaintext authentication disallowed on non-secure connections; use STLS
      C: AUTH PLAIN ${b64('\0alice\0wonderland')}
      S: -ERR [AUTH] plaintext authentication disallowed on non-secure connections; use STLS
      C: QUIT
      S: /signing off/
    `);
  });

  it('allows them from loopback', async () => {
    const { ctx } = testContext({ requireTlsForPlaintext: true });
    const { client } = startSession(ctx, '::1');
    await play(client, `
      S: /^\\+OK/
      C: USER alice
      S: +OK send PASS
      C: PASS wonderland
      S: /^\\+OK maildrop/
      C: QUIT
      S: /signing off/
    `);
  });
});

describe('log masking', () => {
  it('masks PASS, AUTH and APOP arguments', () => {
    expect(maskCommand('PASS secret words')).toBe('PASS ****');
    expect(maskCommand('pass x')).toBe('PASS ****');
    expect(maskCommand('AUTH PLAIN AGFsaWNl')).toBe('AUTH PLAIN ****');
    expect(maskCommand('AUTH PLAIN')).toBe('AUTH PLAIN');
    expect(maskCommand('APOP alice c4c9334bac560ecc979e58001b3e22fb')).toBe('APOP alice ****');
    expect(maskCommand('RETR 1')).toBe('RETR 1');
    expect(maskCommand('USER \u0001x')).toBe('USER \\x01x');
  });
});
