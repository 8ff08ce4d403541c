import { FtpReplyError, replies } from '../replies.js';
import type { FtpCommand } from './table.js';

/** TYPE, STRU, MODE, REST, ALLO. @see RFC 959 §3.1, §4.1.2, §4.1.3; RFC 3659 §5 */
export const paramCommands: FtpCommand[] = [
  {
    verb: 'TYPE',
    args: 'required',
    login: true,
    help: 'TYPE <sp> A [N] | I | L 8',
    run(s, arg) {
      const t = arg.toUpperCase().replace(/\s+/g, ' ').trim();
      if (t === 'A' || t === 'A N') {
        s.type = 'A';
        s.reply(replies.typeSet('A'));
      } else if (t === 'I' || t === 'L 8' || t === 'L8') {
        s.type = 'I';
        s.reply(replies.typeSet('I'));
      } else if (/^(E|A [TC]|E [NTC]|L \d+)$/.test(t) || t === 'E N') {
        s.reply(replies.parameterNotImplemented(`Type ${t} not implemented.`));
      } else {
        s.reply(replies.syntax('Syntax: TYPE <sp> A | I | L 8'));
      }
    },
  },
  {
    verb: 'STRU',
    args: 'required',
    login: true,
    help: 'STRU <sp> F',
    run(s, arg) {
      const v = arg.trim().toUpperCase();
      if (v === 'F') s.reply(replies.ok('Structure set to F.'));
      else if (v === 'R' || v === 'P') s.reply(replies.parameterNotImplemented(`Structure ${v} not implemented.`));
      else s.reply(replies.syntax('Syntax: STRU <sp> F'));
    },
  },
  {
    verb: 'MODE',
    args: 'required',
    login: true,
    help: 'MODE <sp> S',
    run(s, arg) {
      const v = arg.trim().toUpperCase();
      if (v === 'S') s.reply(replies.ok('Mode set to S.'));
      else if (v === 'B' || v === 'C' || v === 'Z') s.reply(replies.parameterNotImplemented(`Mode ${v} not implemented.`));
      else s.reply(replies.syntax('Syntax: MODE <sp> S'));
    },
  },
  {
    verb: 'REST',
    args: 'required',
    login: true,
    help: 'REST <sp> byte-offset',
    capability: 'REST STREAM',
    run(s, arg) {
      const text = arg.trim();
      // Range-checked, never wrapped: REST 100000000000000000000000 is refused.
      const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw new FtpReplyError(replies.syntax('REST needs a decimal byte offset.'));
      s.restOffset = n;
      s.reply(replies.restarting(n));
    },
  },
  {
    verb: 'ALLO',
    args: 'required',
    login: true,
    help: 'ALLO <sp> decimal-integer [<sp> R <sp> decimal-integer]',
    run(s, arg) {
      const m = /^(\d{1,16})(?:\s+R\s+\d{1,16})?$/i.exec(arg.trim());
      if (!m) throw new FtpReplyError(replies.syntax('Syntax: ALLO <sp> size'));
      const max = s.ctx.limits.maxUploadBytes;
      if (max > 0 && Number(m[1]) > max) throw new FtpReplyError(replies.storageExceeded('Upload size limit exceeded.'));
      s.reply(replies.superfluous('No storage allocation necessary.'));
    },
  },
];
