import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { commands } from './commands/index.js';
import { globalOptions } from './commands/options.js';
import { CliError, UsageError, messageOf } from './errors.js';
import { rejectNotANumber, rewriteUsageMessage } from './usage-messages.js';

const NO_COMMAND = 'Name a command: gorgon serve --demo, gorgon fingerd, gorgon finger user@host.';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Where the CLI writes: injectable so tests can run it in-process. */
export interface CliIo {
  stderr: (text: string) => void;
}

/**
 * Runs `gorgon` with `argv` (without node and the script). Resolves with the exit status: 0,
 * 1 for a failure, 2 for a usage mistake. Never throws and never prints a stack trace unless
 * GORGON_DEBUG is set.
 */
export async function runCli(argv: string[], io: CliIo = { stderr: (t) => process.stderr.write(t) }): Promise<number> {
  const parser = globalOptions(yargs(argv))
    .scriptName('gorgon')
    .usage('$0 <command> [options]\n\nClassic Internet servers and clients on one asyncore-style core.')
    .command(commands)
    .demandCommand(1, NO_COMMAND)
    .middleware(rejectNotANumber(argv) as never, true)
    .strict()
    .recommendCommands()
    .version(version)
    .alias('h', 'help')
    .alias('V', 'version')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // Throwing stops yargs from running the handler after a validation failure.
      // A handler's own failure arrives with no message: it is not a usage mistake.
      if (err instanceof CliError || (err && !msg)) throw err;
      const text = err
        ? err.message
        : rewriteUsageMessage(msg, argv, commands, (parser as unknown as { getOptions(): never }).getOptions(), NO_COMMAND);
      throw new UsageError(oneSentence(text));
    })
    .exitProcess(false);
  try {
    await parser.parseAsync();
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`gorgon: ${err.message}\nRun 'gorgon --help' for the commands and options.\n`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      io.stderr(`gorgon: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`gorgon: ${oneSentence(messageOf(err))}\n`);
    if (process.env.GORGON_DEBUG) io.stderr(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}

function oneSentence(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return /[.!?]$/.test(line) ? line : `${line}.`;
}
