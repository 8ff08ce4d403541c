import { errorText } from '@gorgon/core';
import { FtpReplyError, replies } from '../replies.js';
import type { FtpCommand } from './table.js';

/** AUTH TLS, PBSZ, PROT. @see RFC 4217 §4–9, RFC 2228 */
export const securityCommands: FtpCommand[] = [
  {
    verb: 'AUTH',
    args: 'required',
    login: false,
    needsTls: true,
    help: 'AUTH <sp> TLS',
    capability: 'AUTH TLS',
    async run(s, arg) {
      const mech = arg.trim().toUpperCase();
      // curl tries AUTH SSL first; RFC 4217 §4 names TLS (TLS-C is an old alias).
      if (mech !== 'TLS' && mech !== 'TLS-C' && mech !== 'SSL' && mech !== 'TLS-P') {
        throw new FtpReplyError(replies.parameterNotImplemented('AUTH type not supported: use AUTH TLS.'));
      }
      if (s.secure) throw new FtpReplyError(replies.badSequence('Already using TLS.'));
      if (s.state === 'ready') throw new FtpReplyError(replies.badSequence('AUTH must come before login.'));
      s.reply(replies.authOk());
      try {
        await s.startTls({ isServer: true, secureContext: s.ctx.secureContext! });
      } catch (err) {
        s.channel.log.warn({ event: 'tls-failed' }, errorText(err));
        s.close({ flush: false });
        return;
      }
      // RFC 4217 §10: a fresh start after the upgrade.
      s.state = 'user';
      s.pendingUser = '';
      s.pbsz = false;
      s.prot = 'C';
    },
  },
  {
    verb: 'PBSZ',
    args: 'required',
    login: false,
    needsTls: true,
    help: 'PBSZ <sp> 0',
    capability: 'PBSZ',
    run(s, arg) {
      if (!s.secure) throw new FtpReplyError(replies.badSequence('PBSZ not allowed on an insecure control connection.'));
      if (!/^\d{1,10}$/.test(arg.trim())) throw new FtpReplyError(replies.syntax('Syntax: PBSZ <sp> 0'));
      s.pbsz = true;
      s.reply(replies.ok('PBSZ=0'));
    },
  },
  {
    verb: 'PROT',
    args: 'required',
    login: false,
    needsTls: true,
    help: 'PROT <sp> C | P',
    capability: 'PROT',
    run(s, arg) {
      if (!s.secure) throw new FtpReplyError(replies.badSequence('PROT not allowed on an insecure control connection.'));
      if (!s.pbsz && !s.implicitTls) throw new FtpReplyError(replies.badSequence('PROT needs PBSZ first.'));
      const level = arg.trim().toUpperCase();
      if (level === 'C' || level === 'P') {
        s.prot = level;
        s.reply(replies.ok(`Protection set to ${level === 'P' ? 'Private' : 'Clear'}.`));
      } else if (level === 'S' || level === 'E') {
        s.reply(replies.protectionNotSupported(level));
      } else {
        s.reply(replies.parameterNotImplemented('Unknown protection level.'));
      }
    },
  },
];
