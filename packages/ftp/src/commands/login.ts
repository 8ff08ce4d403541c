import { printable } from '@gorgon/core';
import { replies, FtpReplyError } from '../replies.js';
import type { FtpCommand } from './table.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

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
      const address = s.channel.remoteAddress;
      let user;
      try {
        user = await s.ctx.login(s.pendingUser, arg, address, s.secure);
      } catch (err) {
        s.channel.log.error({ event: 'login-error', user: printable(s.pendingUser) }, (err as Error).message);
        user = undefined;
      }
      if (!user) {
        // A growing delay per source address (shared by all its connections) slows guessing.
        await sleep(s.ctx.throttle.failed(address));
        if (!s.closing) s.loginFailed();
        return;
      }
      s.ctx.throttle.succeeded(address);
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
    feat: 'HOST',
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
