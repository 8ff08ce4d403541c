import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { deliver, MaildropError } from '@gorgon/pop3';
import { CliError, messageOf } from '../errors.js';
import { loggerFor, type GlobalArgs } from './options.js';

interface DeliverArgs extends GlobalArgs {
  user: string;
  maildirs: string;
}

/** sysexits.h codes an MTA understands: 67 no such user, 75 try again later. */
const EX_NOUSER = 67;
const EX_TEMPFAIL = 75;

/** `gorgon deliver USER`: one message from stdin into USER's Maildir (tmp/, fsync, rename into new/). */
export const deliverCommand: CommandModule<GlobalArgs, DeliverArgs> = {
  command: 'deliver <user>',
  describe: 'deliver a message from stdin into a Maildir (an MDA for fetchmail, procmail, Postfix)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('user', { type: 'string', demandOption: true, describe: 'mailbox name (the Maildir is DIR/USER)' })
      .option('maildirs', { type: 'string', demandOption: true, describe: 'Maildir root' })
      .example('$0 deliver alice --maildirs ./mail < message.eml', 'deliver one message to alice'),
  handler: async (args: ArgumentsCamelCase<DeliverArgs>) => {
    const log = loggerFor(args);
    if (process.stdin.isTTY) throw new CliError('deliver: pipe the message on stdin (gorgon deliver USER --maildirs DIR < message).', 2);
    try {
      const d = await deliver(resolve(args.maildirs), args.user, process.stdin);
      log.info({ event: 'delivered', user: args.user, uid: d.uid, octets: d.rawSize }, `delivered ${d.rawSize} octets to ${args.user}`);
    } catch (err) {
      if (err instanceof MaildropError && err.code === 'invalid-user') {
        throw new CliError(`deliver: "${args.user}" is not a usable mailbox name.`, EX_NOUSER);
      }
      throw new CliError(`deliver: ${messageOf(err)}`, EX_TEMPFAIL);
    }
  },
};
