import { printable } from '@gorgon/core';
import { MLST_FACTS, type MlstFact } from '../list-format.js';
import { FtpReplyError, replies } from '../replies.js';
import type { FtpSession } from '../session.js';
import { setTime } from './files.js';
import type { FtpCommand } from './table.js';

/** SITE subcommands: name, syntax, handler. */
interface SiteCommand {
  name: string;
  help: string;
  run(s: FtpSession, arg: string): Promise<void> | void;
}

const siteCommands: SiteCommand[] = [
  {
    name: 'HELP',
    help: 'SITE HELP',
    run(s) {
      s.reply(replies.help(['SITE commands:', ...siteCommands.map((c) => ` ${c.help}`), 'End of SITE help.']));
    },
  },
  {
    name: 'CHMOD',
    help: 'SITE CHMOD <sp> mode <sp> pathname',
    async run(s, arg) {
      if (!s.me.perms.has('chmod')) throw new FtpReplyError(replies.permissionDenied());
      // One space before the path, which runs to the line end (trailing spaces included).
      const m = /^([0-7]{1,4}) (.+)$/.exec(arg);
      if (!m) throw new FtpReplyError(replies.syntax('Syntax: SITE CHMOD <sp> mode <sp> pathname'));
      const fs = s.me.fs;
      if (!fs.chmod) throw new FtpReplyError(replies.notImplemented('SITE CHMOD not supported by this filesystem.'));
      await fs.chmod(s.resolve(m[2]!), parseInt(m[1]!, 8));
      s.reply(replies.ok('SITE CHMOD command successful.'));
    },
  },
  {
    name: 'UTIME',
    help: 'SITE UTIME <sp> YYYYMMDDHHMMSS <sp> pathname',
    async run(s, arg) {
      if (!s.me.perms.has('setTime')) throw new FtpReplyError(replies.permissionDenied());
      // lftp: `SITE UTIME time path`; ProFTPD/pure-ftpd form: `SITE UTIME path atime mtime ctime UTC`.
      const short = /^(\d{14}) (.+)$/.exec(arg);
      const long = /^(.+) (\d{14}) (\d{14}) (\d{14}) UTC$/i.exec(arg);
      if (short) await setTime(s, short[1]!, short[2]!);
      else if (long) await setTime(s, long[3]!, long[1]!);
      else throw new FtpReplyError(replies.syntax('Syntax: SITE UTIME <sp> YYYYMMDDHHMMSS <sp> pathname'));
      s.reply(replies.ok('SITE UTIME command successful.'));
    },
  },
];

function visible(s: FtpSession): FtpCommand[] {
  return s.ctx.table.specs;
}

/** FEAT lines, generated from the table so they cannot drift from what is implemented. */
export function featureLines(s: FtpSession): string[] {
  return [...new Set(['UTF8', 'TVFS', ...s.ctx.table.capabilities(undefined, s)])].sort();
}

/** SYST, NOOP, HELP, FEAT, OPTS, SITE. @see RFC 959 §4.1.3, RFC 2389, RFC 2640 §3.1 */
export const infoCommands: FtpCommand[] = [
  {
    verb: 'SYST',
    args: 'none',
    login: false,
    help: 'SYST (system type)',
    run: (s) => s.reply(replies.system()),
  },
  {
    verb: 'NOOP',
    args: 'none',
    login: false,
    duringTransfer: true,
    help: 'NOOP',
    run: (s) => s.reply(replies.ok('NOOP ok.')),
  },
  {
    verb: 'HELP',
    args: 'optional',
    login: false,
    help: 'HELP [<sp> command]',
    run(s, arg) {
      const topic = arg.trim().toUpperCase();
      if (topic === '') {
        const verbs = visible(s)
          .map((c) => c.verb)
          .sort();
        const rows: string[] = [];
        for (let i = 0; i < verbs.length; i += 8)
          rows.push(
            ` ${verbs
              .slice(i, i + 8)
              .map((v) => v.padEnd(5))
              .join(' ')}`,
          );
        s.reply(replies.help(['The following commands are recognized:', ...rows, 'Help OK.']));
        return;
      }
      if (topic === 'SITE') return siteCommands[0]!.run(s, '');
      const spec = s.ctx.table.get(topic);
      if (!spec) throw new FtpReplyError(replies.syntax(`Unknown command "${printable(topic, 16)}".`));
      s.reply(replies.help([`Syntax: ${spec.help}`]));
    },
  },
  {
    verb: 'FEAT',
    args: 'none',
    login: false,
    help: 'FEAT (list extensions)',
    run(s) {
      s.reply(replies.status(['Features:', ...featureLines(s).map((f) => ` ${f}`), 'End']));
    },
  },
  {
    verb: 'OPTS',
    args: 'required',
    login: false,
    help: 'OPTS <sp> UTF8 ON | MLST facts',
    run(s, arg) {
      const space = arg.indexOf(' ');
      const name = (space === -1 ? arg : arg.slice(0, space)).toUpperCase();
      const value = space === -1 ? '' : arg.slice(space + 1).trim();
      if (name === 'UTF8' || name === 'UTF-8') {
        // Paths are always UTF-8 here (RFC 2640); turning it off is not offered.
        if (value.toUpperCase() === 'ON' || value === '') s.reply(replies.ok('Always in UTF8 mode.'));
        else s.reply(replies.parameterNotImplemented('UTF8 cannot be turned off.'));
        return;
      }
      if (name === 'MLST') {
        const wanted = value
          .toLowerCase()
          .split(';')
          .filter((f) => f !== '');
        s.mlstFacts = new Set(MLST_FACTS.filter((f) => wanted.includes(f)) as MlstFact[]);
        s.reply(replies.ok(`MLST OPTS ${[...s.mlstFacts].map((f) => `${f};`).join('')}`));
        return;
      }
      throw new FtpReplyError(replies.syntax('Option not understood.'));
    },
  },
  {
    verb: 'SITE',
    args: 'required',
    login: true,
    help: 'SITE <sp> HELP | CHMOD | UTIME',
    async run(s, arg) {
      const space = arg.indexOf(' ');
      const name = (space === -1 ? arg : arg.slice(0, space)).toUpperCase();
      // The rest as sent: a path at its end keeps its trailing spaces.
      const rest = space === -1 ? '' : arg.slice(space + 1);
      const sub = siteCommands.find((c) => c.name === name);
      if (!sub) throw new FtpReplyError(replies.syntax(`Unknown SITE command "${printable(name, 16)}".`));
      await sub.run(s, rest);
    },
  },
];
