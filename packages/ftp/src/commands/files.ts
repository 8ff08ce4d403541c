import { formatTime, parseTime } from '../list-format.js';
import { quotePath } from '../path.js';
import { FtpReplyError, replies } from '../replies.js';
import type { FtpSession } from '../session.js';
import type { FtpCommand } from './table.js';

async function setTime(s: FtpSession, time: string, pathArg: string): Promise<string> {
  const date = parseTime(time);
  if (!date) throw new FtpReplyError(replies.syntax('Time must be YYYYMMDDHHMMSS (UTC).'));
  const path = s.resolve(pathArg);
  await s.me.fs.setMtime(path, date);
  return path;
}

const rmd = (verb: string): FtpCommand => ({
  verb,
  args: 'required',
  login: true,
  permission: 'delete',
  help: `${verb} <sp> pathname`,
  async run(s, arg) {
    const path = s.resolve(arg);
    if (path === '/') throw new FtpReplyError(replies.permissionDenied());
    await s.me.fs.rmdir(path);
    s.reply(replies.fileActionOk('Directory removed.'));
  },
});

const mkd = (verb: string): FtpCommand => ({
  verb,
  args: 'required',
  login: true,
  permission: 'mkdir',
  help: `${verb} <sp> pathname`,
  async run(s, arg) {
    const path = s.resolve(arg);
    await s.me.fs.mkdir(path);
    s.reply(replies.created(quotePath(path)));
  },
});

/** DELE, RMD, MKD, RNFR/RNTO, SIZE, MDTM, MFMT. @see RFC 959 §4.1.3, RFC 3659 §3–4, MFMT draft */
export const fileCommands: FtpCommand[] = [
  {
    verb: 'DELE',
    args: 'required',
    login: true,
    permission: 'delete',
    help: 'DELE <sp> pathname',
    async run(s, arg) {
      await s.me.fs.unlink(s.resolve(arg));
      s.reply(replies.fileActionOk('File removed.'));
    },
  },
  rmd('RMD'),
  rmd('XRMD'),
  mkd('MKD'),
  mkd('XMKD'),
  {
    verb: 'RNFR',
    args: 'required',
    login: true,
    permission: 'rename',
    help: 'RNFR <sp> pathname',
    async run(s, arg) {
      const path = s.resolve(arg);
      if (path === '/') throw new FtpReplyError(replies.permissionDenied());
      await s.me.fs.stat(path);
      s.renameFrom = path;
      s.reply(replies.readyForDestination());
    },
  },
  {
    verb: 'RNTO',
    args: 'required',
    login: true,
    permission: 'rename',
    help: 'RNTO <sp> pathname',
    async run(s, arg) {
      const from = s.renameFrom;
      s.renameFrom = undefined;
      if (!from) throw new FtpReplyError(replies.badSequence('RNFR required first.'));
      await s.me.fs.rename(from, s.resolve(arg));
      s.reply(replies.fileActionOk('Rename successful.'));
    },
  },
  {
    verb: 'SIZE',
    args: 'required',
    login: true,
    permission: 'list',
    help: 'SIZE <sp> pathname',
    capability: 'SIZE',
    async run(s, arg) {
      // RFC 3659 §4: in ASCII mode the size would have to count converted line ends.
      if (s.type === 'A') throw new FtpReplyError(replies.fileUnavailable('SIZE not allowed in ASCII mode.'));
      const st = await s.me.fs.stat(s.resolve(arg));
      if (st.kind !== 'file') throw new FtpReplyError(replies.fileUnavailable('Not a regular file.'));
      s.reply(replies.fileStatus(String(st.size)));
    },
  },
  {
    verb: 'MDTM',
    args: 'required',
    login: true,
    permission: 'list',
    help: 'MDTM <sp> pathname',
    capability: 'MDTM',
    async run(s, arg) {
      const st = await s.me.fs.stat(s.resolve(arg));
      if (st.kind !== 'file') throw new FtpReplyError(replies.fileUnavailable('Not a regular file.'));
      s.reply(replies.fileStatus(formatTime(st.mtime)));
    },
  },
  {
    verb: 'MFMT',
    args: 'required',
    login: true,
    permission: 'setTime',
    help: 'MFMT <sp> YYYYMMDDHHMMSS <sp> pathname',
    capability: 'MFMT',
    async run(s, arg) {
      const space = arg.indexOf(' ');
      if (space === -1) throw new FtpReplyError(replies.syntax('Syntax: MFMT <sp> YYYYMMDDHHMMSS <sp> pathname'));
      const path = await setTime(s, arg.slice(0, space), arg.slice(space + 1));
      const st = await s.me.fs.stat(path);
      s.reply(replies.fileStatus(`Modify=${formatTime(st.mtime)}; ${path}`));
    },
  },
];

export { setTime };
