import { replies, Pop3ReplyError } from '../replies.js';
import { completeLogin } from '../login.js';
import { verifyApop } from '../apop.js';
import { decodeSaslResponse, parsePlain } from '../sasl-plain.js';
import type { Pop3Session } from '../session.js';
import type { Pop3Command } from './command.js';
import { words } from './message-number.js';

const AUTHORIZATION = ['authorization'] as const;

function requirePlaintextAllowed(session: Pop3Session): void {
  if (!session.plaintextAllowed) throw new Pop3ReplyError(replies.plaintextRefused);
}

/** Runs a decoded PLAIN response through the login. @see RFC 4616 §2, RFC 5034 §4 */
async function plainResponse(session: Pop3Session, line: string): Promise<void> {
  if (line === '*') {
    session.reply(replies.authCancelled);
    return;
  }
  const message = decodeSaslResponse(line.trim());
  const credentials = message ? parsePlain(message) : undefined;
  if (!credentials) {
    session.reply(replies.badSaslResponse);
    return;
  }
  const { authzid, authcid, password } = credentials;
  // No proxy authorisation: an authzid naming someone else fails like a wrong password.
  const verify = async () => {
    const user = await session.ctx.auth.authenticate({
      user: authcid,
      password,
      remoteAddress: session.channel.remoteAddress,
      secure: session.channel.secure,
    });
    return authzid === '' || authzid === authcid ? user : undefined;
  };
  await completeLogin(session, authcid, 'plain', verify);
}

/** The AUTHORIZATION commands: USER, PASS, APOP, AUTH, STLS. @see RFC 1939 §4, §7; RFC 5034; RFC 2595 */
export const authorizationCommands: Pop3Command[] = [
  {
    verb: 'USER',
    args: 'required',
    states: AUTHORIZATION,
    help: 'USER name: the mailbox to log in to; PASS follows (RFC 1939 §7)',
    offered: (o) => o.mechanisms.has('user'),
    capability: (s) => (s.state === 'authorization' && s.plaintextAllowed ? 'USER' : undefined),
    run(session, arg) {
      requirePlaintextAllowed(session);
      // Every name is accepted here: telling unknown users apart would let them be probed.
      session.pendingUser = arg;
      session.reply(replies.userAccepted);
    },
  },
  {
    verb: 'PASS',
    args: 'required',
    states: AUTHORIZATION,
    help: 'PASS secret: the password for the name given by USER (RFC 1939 §7)',
    offered: (o) => o.mechanisms.has('user'),
    async run(session, arg) {
      requirePlaintextAllowed(session);
      const user = session.pendingUser;
      if (user === undefined) throw new Pop3ReplyError(replies.userFirst);
      session.pendingUser = undefined;
      // RFC 1939 §7: the password may contain spaces; the whole rest of the line is the secret.
      const attempt = { user, password: arg, remoteAddress: session.channel.remoteAddress, secure: session.channel.secure };
      await completeLogin(session, user, 'user', () => session.ctx.auth.authenticate(attempt));
    },
  },
  {
    verb: 'APOP',
    args: 'required',
    states: AUTHORIZATION,
    help: 'APOP name digest: MD5 of the greeting timestamp and the shared secret (RFC 1939 §7)',
    offered: (o) => o.mechanisms.has('apop'),
    async run(session, arg) {
      const parts = words(arg, 2);
      if (parts.length !== 2) throw new Pop3ReplyError(replies.missingArgument);
      const [name, digest] = parts as [string, string];
      const verify = async () => {
        const found = await session.ctx.auth.lookup?.(name);
        const secret = found?.attributes['apopSecret'];
        const ok = verifyApop(session.timestamp ?? '', typeof secret === 'string' ? secret : undefined, digest);
        return ok ? found : undefined;
      };
      await completeLogin(session, name, 'apop', verify);
    },
  },
  {
    verb: 'AUTH',
    args: 'optional',
    states: AUTHORIZATION,
    help: 'AUTH [mechanism [initial-response]]: SASL login; PLAIN is offered (RFC 5034)',
    offered: (o) => o.mechanisms.has('plain'),
    capability: (s) => (s.state === 'authorization' && s.plaintextAllowed ? 'SASL PLAIN' : undefined),
    async run(session, arg) {
      const parts = words(arg, 2);
      if (parts.length === 0) {
        // RFC 1734 clients probe with a bare AUTH for the list of mechanisms.
        session.replyMultiline(replies.mechanisms, session.plaintextAllowed ? 'PLAIN\r\n.\r\n' : '.\r\n', false);
        return;
      }
      const [mechanism, initial] = parts as [string, string | undefined];
      if (mechanism.toUpperCase() !== 'PLAIN') throw new Pop3ReplyError(replies.unsupportedMechanism);
      requirePlaintextAllowed(session);
      if (initial !== undefined) return plainResponse(session, initial);
      session.expectContinuation('', (line) => plainResponse(session, line));
      return undefined;
    },
  },
  {
    verb: 'STLS',
    args: 'none',
    states: AUTHORIZATION,
    help: 'STLS: start TLS on this connection (RFC 2595 §4)',
    offered: (o) => o.tls,
    capability: (s) => (s.state === 'authorization' && !s.channel.secure ? 'STLS' : undefined),
    async run(session) {
      if (session.channel.secure) throw new Pop3ReplyError(replies.alreadySecure);
      session.reply(replies.beginTls);
      // RFC 2595 §4: anything learned before TLS is forgotten; the core drops pipelined plaintext.
      session.pendingUser = undefined;
      await session.startTls({ isServer: true, secureContext: session.ctx.secureContext! });
      session.channel.log.info({ event: 'stls' }, 'TLS started');
    },
  },
];
