import { replies } from '../replies.js';
import type { NntpSession } from '../session.js';
import { fail, words, type NntpCommand } from './command.js';
import { isCompressed } from './compress.js';

/** Bytes as received (latin1 line) back to UTF-8 text: user names and passwords. */
const utf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8');

async function login(session: NntpSession, user: string, password: string, mechanism: string, authzid = ''): Promise<void> {
  const auth = session.ctx.auth!;
  const verify = async () => {
    const found = await auth.authenticate({ user, password, remoteAddress: session.channel.remoteAddress, secure: session.channel.secure });
    return authzid === '' || authzid === user ? found : undefined;
  };
  const outcome = await session.ctx.login.attempt(session.channel, session.authFailures, user, mechanism, verify);
  if (outcome.kind === 'ok') return session.loggedIn(outcome.user.name);
  if (outcome.kind === 'unavailable') return session.reply(replies.internalFault);
  session.loginFailed(outcome.failures, outcome.disconnect);
}

/** Decodes an RFC 4616 PLAIN response, base64; undefined when malformed. */
function plain(b64: string): { authzid: string; user: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '') return undefined;
  return { authzid: parts[0]!, user: parts[1]!, password: parts[2]! };
}

async function saslPlain(session: NntpSession, response: string): Promise<void> {
  if (response === '*') return session.reply(replies.authFailed); // RFC 4643 §2.4.1: the client cancelled
  const c = plain(response.trim());
  if (!c) return session.reply(replies.syntaxError);
  await login(session, c.user, c.password, 'plain', c.authzid);
}

function precheck(session: NntpSession): void {
  if (session.user !== undefined) fail(replies.notPermitted);
  if (!session.plaintextAllowed) fail(replies.encryptionRequired);
}

/** AUTHINFO USER/PASS, AUTHINFO SASL PLAIN, STARTTLS. @see RFC 4643, RFC 4616, RFC 4642 */
export const authCommands: NntpCommand[] = [
  {
    verb: 'AUTHINFO',
    args: 'required',
    offered: (o) => o.auth,
    capability: (s) => (s.user === undefined && s.plaintextAllowed ? 'AUTHINFO USER SASL' : undefined),
    help: 'AUTHINFO USER name | AUTHINFO PASS secret | AUTHINFO SASL PLAIN [response] (RFC 4643)',
    async run(session, arg) {
      const m = /^(\S+)(?:[ \t]+(.*))?$/.exec(arg.trim());
      const sub = m?.[1]?.toUpperCase();
      const rest = m?.[2] ?? '';
      if (sub === 'USER') {
        precheck(session);
        if (rest === '') fail(replies.syntaxError);
        session.pendingUser = utf8(rest);
        return session.reply(replies.passRequired);
      }
      if (sub === 'PASS') {
        precheck(session);
        if (rest === '') fail(replies.syntaxError);
        const user = session.pendingUser;
        if (user === undefined) fail(replies.authOutOfSequence);
        session.pendingUser = undefined;
        return login(session, user, utf8(rest), 'user');
      }
      if (sub === 'SASL') {
        precheck(session);
        const [mech, initial, extra] = words(rest);
        if (mech === undefined || extra !== undefined) fail(replies.syntaxError);
        if (mech.toUpperCase() !== 'PLAIN') fail(replies.notSupported);
        if (initial !== undefined) return saslPlain(session, initial === '=' ? '' : initial);
        session.expectContinuation((line) => saslPlain(session, line));
        return undefined;
      }
      fail(replies.syntaxError);
    },
  },
  {
    verb: 'STARTTLS',
    args: 'none',
    offered: (o) => o.tls,
    capability: (s) => (!s.channel.secure && s.user === undefined && !isCompressed(s) ? 'STARTTLS' : undefined),
    help: 'STARTTLS (RFC 4642)',
    async run(session) {
      // RFC 4642 §2.2.2 / RFC 8054 §2.2.2: not after TLS, a login, or COMPRESS.
      if (session.channel.secure || session.user !== undefined || isCompressed(session)) fail(replies.notPermitted);
      session.reply(replies.beginTls);
      session.resetForTls();
      await session.startTls({ isServer: true, secureContext: session.ctx.secureContext! });
      session.channel.log.info({ event: 'starttls' }, 'TLS started');
    },
  },
];
