import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { hashPassword } from '@gorgon/core';
import { CliError } from '../errors.js';
import type { GlobalArgs } from './options.js';

interface PasswdArgs extends GlobalArgs {
  user?: string;
}

/** Reads one line from a pipe (everything up to the first line end). */
async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).length > 64 * 1024) throw new CliError('passwd: the password on stdin is longer than 64 KiB.');
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** Prompts on the terminal with echo off. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done(new CliError('passwd: cancelled.', 130));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** `gorgon passwd`: prints an scrypt hash for a users file. */
export const passwdCommand: CommandModule<GlobalArgs, PasswdArgs> = {
  command: 'passwd',
  describe: 'print an scrypt password hash for a users file (password read without echo, or from a pipe)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .option('user', { type: 'string', describe: 'print a whole users-file entry for this name' })
      .example('$0 passwd', 'prompt twice and print the hash')
      .example("printf 'secret\\n' | $0 passwd --user alice", 'a users-file entry from a pipe'),
  handler: async (args: ArgumentsCamelCase<PasswdArgs>) => {
    let password: string;
    if (process.stdin.isTTY) {
      password = await prompt('Password: ');
      if ((await prompt('Again: ')) !== password) throw new CliError('passwd: the passwords differ.');
    } else {
      password = await readPiped();
    }
    if (password === '') throw new CliError('passwd: empty password.');
    const hash = await hashPassword(password);
    process.stdout.write(args.user === undefined ? `${hash}\n` : `${JSON.stringify({ name: args.user, password: hash })}\n`);
  },
};
