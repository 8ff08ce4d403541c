import { printable } from '@gorgon/core';
import { replies, FtpReplyError } from '../replies.js';
import type { FtpCommand } from './table.js';

/** USER, PASS, ACCT, REIN, QUIT, HOST. @see RFC 959 §4.1.1, RFC 7151 */
export const loginCommands: FtpCommand[] = [
  {
    verb: 'USER',
    args: 'required',
    login: false,
    help: 'USER <sp> username',
    run(s, arg) {
      if (s.state === 'ready') throw new FtpReplyError(replies.notLoggedIn("Can't change to another user."));
      if (s.ctx.requireTlsForLogin && !s.secure) throw new FtpReplyError(replies.notLoggedIn('TLS required: use AUTH TLS first.'));
      s.pendingUser = arg;
      s.state = 'password';
      s.reply(replies.needPassword());
    },
  },
  {
    verb: 'PASS',
    args: 'optional',
    login: false,
    help: 'PASS <sp> password',
    async run(s, arg) {
      if (s.state === 'ready') throw new FtpReplyError(replies.badSequence('Already logged in.'));
      if (s.state !== 'password') throw new FtpReplyError(replies.badSequence('Login with USER first.'));
      const name = s.pendingUser;
      const verify = () => s.ctx.login(name, arg, s.channel.remoteAddress, s.secure);
      // The core's flow: a growing delay per source address (shared by all its connections)
      // after a failure, the count toward maxAuthFailures, the login/loginFailed events.
      const outcome = await s.ctx.loginFlow.attempt(s.channel, s.authFailures, name, 'user', verify);
      if (outcome.kind === 'unavailable') {
        // The authenticator failed: a temporary failure, not a wrong password (RFC 959's 421
        // is PASS's only transient reply, and it closes). Not counted, not delayed.
        s.state = 'user';
        s.reply(replies.closing('Authentication service unavailable, try again later.'));
        s.closeWhenDone();
        return;
      }
      if (outcome.kind === 'failed') {
        if (!s.closing) s.loginFailed(outcome.failures, outcome.disconnect);
        return;
      }
      const user = outcome.user;
      s.loggedIn(user);
      s.reply(replies.loggedIn(user.anonymous ? 'Anonymous access granted, restrictions apply.' : 'Login successful.'));
    },
  },
  {
    verb: 'ACCT',
    args: 'required',
    login: false,
    help: 'ACCT <sp> account-information',
    run(s) {
      s.reply(replies.superfluous('ACCT not needed.'));
    },
  },
  {
    verb: 'REIN',
    args: 'none',
    login: false,
    help: 'REIN (reinitialize the session)',
    run(s) {
      s.reinitialize();
      s.reply(replies.readyForNewUser());
    },
  },
  {
    verb: 'QUIT',
    args: 'none',
    login: false,
    duringTransfer: true,
    help: 'QUIT (end the session)',
    run(s) {
      s.quit();
    },
  },
  {
    verb: 'HOST',
    args: 'required',
    login: false,
    help: 'HOST <sp> hostname',
    capability: 'HOST',
    run(s, arg) {
      // RFC 7151 §3: HOST comes before USER; afterwards it is a bad sequence.
      if (s.state !== 'user') throw new FtpReplyError(replies.badSequence('HOST must come before USER.'));
      const host = arg.trim().replace(/^\[(.*)\]$/, '$1');
      const known = s.ctx.hosts;
      if (known && !known.some((h) => h.toLowerCase() === host.toLowerCase())) {
        throw new FtpReplyError(replies.parameterNotImplemented('Unknown host.'));
      }
      s.host = host;
      s.reply(replies.hostAccepted(printable(host, 64)));
    },
  },
];
