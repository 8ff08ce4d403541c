import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { finger, parseFingerTarget } from '@gorgon/finger';
import { CliError, messageOf } from '../errors.js';
import { checkPort, type GlobalArgs } from './options.js';

interface FingerArgs extends GlobalArgs {
  target?: string;
  long: boolean;
  port?: number;
  timeout: number;
}

/** `gorgon finger [user]@host[:port]`: the client, as finger(1) but with a port. */
export const fingerCommand: CommandModule<GlobalArgs, FingerArgs> = {
  command: 'finger [target]',
  describe: 'ask a finger server about a user ([user]@host[:port])',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('target', { type: 'string', describe: 'user@host, @host (everyone), or user@host:port' })
      .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'verbose answer (sends /W)' })
      .option('port', { alias: 'p', type: 'number', describe: 'server port (default 79, or the one in the target)' })
      .option('timeout', { type: 'number', default: 10, describe: 'seconds to wait for the answer' })
      .check((args) => (args.port === undefined ? true : checkPort(args.port)))
      .example('$0 finger alice@127.0.0.1:7979', "alice's entry on the demo server")
      .example('$0 finger @127.0.0.1:7979', 'who is there'),
  handler: async (args: ArgumentsCamelCase<FingerArgs>) => {
    let target;
    try {
      target = parseFingerTarget(args.target ?? '@127.0.0.1');
    } catch (err) {
      throw new CliError(messageOf(err), 2);
    }
    const port = args.port ?? target.port ?? 79;
    try {
      const text = await finger(target.user, { host: target.host, port, verbose: args.long, timeoutMs: args.timeout * 1000 });
      process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    } catch (err) {
      throw new CliError(`finger ${target.host}:${port}: ${messageOf(err)}`);
    }
  },
};
