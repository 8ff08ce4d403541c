import { quotePath, resolvePath } from '../path.js';
import { FtpReplyError, replies } from '../replies.js';
import type { FtpSession } from '../session.js';
import type { FtpCommand } from './table.js';

async function changeDir(s: FtpSession, path: string): Promise<void> {
  const st = await s.me.fs.stat(path);
  if (st.kind !== 'dir') throw new FtpReplyError(replies.fileUnavailable('Not a directory.'));
  s.cwd = path;
  s.reply(replies.fileActionOk(`Directory changed to ${quotePath(path)}.`));
}

const cwd = (verb: string): FtpCommand => ({
  verb,
  args: 'required',
  login: true,
  permission: 'cwd',
  help: `${verb} <sp> pathname`,
  run: (s, arg) => changeDir(s, s.resolve(arg)),
});

const cdup = (verb: string): FtpCommand => ({
  verb,
  args: 'none',
  login: true,
  permission: 'cwd',
  help: `${verb} (go to the parent directory)`,
  run: (s) => changeDir(s, resolvePath(s.cwd, '..')),
});

const pwd = (verb: string): FtpCommand => ({
  verb,
  args: 'none',
  login: true,
  help: `${verb} (print the working directory)`,
  run(s) {
    s.reply(replies.currentDir(quotePath(s.cwd)));
  },
});

/** CWD, CDUP, PWD and their RFC 775 X-forms, SMNT. @see RFC 959 §4.1.1, §4.1.3 */
export const navigationCommands: FtpCommand[] = [
  cwd('CWD'),
  cwd('XCWD'),
  cdup('CDUP'),
  cdup('XCUP'),
  pwd('PWD'),
  pwd('XPWD'),
  {
    verb: 'SMNT',
    args: 'required',
    login: true,
    help: 'SMNT <sp> pathname (not implemented)',
    run(s) {
      s.reply(replies.notImplemented('SMNT not implemented.'));
    },
  },
];
