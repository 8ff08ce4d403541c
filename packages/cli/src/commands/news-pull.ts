import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseNewsUrl, parseRules, pullNews, type FilterRules, type PullFormat } from '@gorgon/nntp';
import { CliError, UsageError, messageOf } from '../errors.js';
import { pullBarView, pullLineView } from './news-progress.js';
import type { GlobalArgs } from './options.js';

interface PullArgs extends GlobalArgs {
  servers: string[];
  groups: string;
  out: string;
  format: PullFormat;
  connections: number;
  window: number;
  rules?: string;
  explain: boolean;
  user?: string;
  password?: string;
  'ca-file'?: string;
  progress: 'auto' | 'bars' | 'lines';
}

/** Reads and parses a rules file, as one sentence on failure. */
export async function loadRules(file: string): Promise<FilterRules> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --rules ${file}: ${messageOf(err)}.`);
  }
  try {
    return parseRules(text);
  } catch (err) {
    throw new CliError(`${file}: ${messageOf(err)}.`, 2);
  }
}

/**
 * `gorgon news pull nntp://host[:port]... --groups WILDMAT --out DIR`: what is new since the
 * last run, ARTICLE pipelined over several connections per server, into a Maildir or an mbox.
 */
export const newsPullCommand: CommandModule<GlobalArgs, PullArgs> = {
  command: 'pull <servers..>',
  describe: 'fetch new articles from news servers into a Maildir or an mbox (high-water marks remembered)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('servers', { type: 'string', array: true, demandOption: true, describe: 'nntp://host[:port] or nntps://host[:port]' })
      .option('groups', { alias: 'g', type: 'string', default: '*', describe: "wildmat list of groups, e.g. 'comp.lang.*,!*.binaries'" })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Maildir directory (or mbox file with --format mbox)' })
      .option('format', { choices: ['maildir', 'mbox'] as const, default: 'maildir' as PullFormat, describe: 'how articles are stored' })
      .option('connections', { alias: 'j', type: 'number', default: 2, describe: 'connections per server' })
      .option('window', { type: 'number', default: 16, describe: 'ARTICLE requests in flight per connection' })
      .option('rules', { type: 'string', describe: 'kill/keep/score rules applied while pulling (see news filter)' })
      .option('explain', { type: 'boolean', default: false, describe: 'with --rules: say which rule decided each article' })
      .option('user', { alias: 'u', type: 'string', describe: 'AUTHINFO user' })
      .option('password', { type: 'string', describe: 'AUTHINFO password' })
      .option('ca-file', { type: 'string', describe: 'PEM file of CA certificates to trust for nntps://' })
      .option('progress', {
        choices: ['auto', 'bars', 'lines'] as const,
        default: 'auto' as const,
        describe: 'progress bars (auto: on a terminal) or lines',
      })
      .check((args) => {
        for (const s of args.servers) parseNewsUrl(s);
        if (!Number.isInteger(args.connections) || args.connections < 1)
          throw new Error(`--connections must be a whole number of at least 1, got ${String(args.connections)}.`);
        if (!Number.isInteger(args.window) || args.window < 1)
          throw new Error(`--window must be a whole number of at least 1, got ${String(args.window)}.`);
        return true;
      })
      .example("$0 news pull nntp://127.0.0.1:1119 --groups 'comp.lang.*,!*.binaries' --out ~/News", 'what is new in those groups'),
  handler: async (args: ArgumentsCamelCase<PullArgs>) => {
    if (args.user !== undefined && args.password === undefined) throw new UsageError('--user needs --password.');
    const rules = args.rules !== undefined ? await loadRules(args.rules) : undefined;
    let ca: string | undefined;
    if (args['ca-file'] !== undefined) {
      try {
        ca = await readFile(args['ca-file'], 'utf8');
      } catch (err) {
        throw new CliError(`cannot read --ca-file ${args['ca-file']}: ${messageOf(err)}.`);
      }
    }
    const bars = args.progress === 'bars' || (args.progress === 'auto' && process.stdout.isTTY === true);
    const view = bars ? pullBarView(process.stdout, args.progress === 'bars') : pullLineView(process.stdout, args.explain);
    const started = Date.now();
    let result;
    try {
      result = await pullNews({
        servers: args.servers,
        groups: args.groups,
        out: resolve(args.out),
        format: args.format,
        connections: args.connections,
        window: args.window,
        onEvent: (e) => view.event(e),
        ...(rules ? { rules } : {}),
        ...(ca !== undefined ? { client: { tls: { ca } } } : {}),
        ...(args.user !== undefined ? { login: { user: args.user, password: args.password! } } : {}),
      });
    } catch (err) {
      throw new CliError(`news pull: ${messageOf(err)}`);
    } finally {
      view.stop();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `pulled ${result.fetched} article${result.fetched === 1 ? '' : 's'} in ${seconds} s` +
        `${result.killed > 0 ? `, ${result.killed} killed by rules` : ''}${result.duplicates > 0 ? `, ${result.duplicates} cross-posted duplicates skipped` : ''}.\n`,
    );
    if (result.failures.length > 0) {
      for (const f of result.failures) process.stderr.write(`gorgon: ${f}\n`);
      throw new CliError(`${result.failures.length} server${result.failures.length === 1 ? '' : 's'} failed.`);
    }
  },
};
