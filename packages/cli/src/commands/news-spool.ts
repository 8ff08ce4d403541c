import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { DiskNewsStore, isWildmat, NewsStoreError, type GroupStatus } from '@gorgon/nntp';
import { CliError } from '../errors.js';
import type { GlobalArgs } from './options.js';

interface SpoolArgs extends GlobalArgs {
  spool: string;
}

const spoolOption = <T>(y: Argv<T>) => y.option('spool', { type: 'string', demandOption: true, describe: 'spool directory' });

async function withStore<T>(dir: string, fn: (s: DiskNewsStore) => Promise<T>): Promise<T> {
  const store = await DiskNewsStore.open(dir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

interface ExpireArgs extends SpoolArgs {
  rule: string[];
  'history-days': number;
}

/** `gorgon news expire`: removes articles older than N days in groups matching a wildmat. */
export const newsExpireCommand: CommandModule<GlobalArgs, ExpireArgs> = {
  command: 'expire',
  describe: 'remove old articles from a spool (by age per group pattern)',
  builder: (y: Argv<GlobalArgs>) =>
    spoolOption(y)
      .option('rule', {
        type: 'string',
        array: true,
        default: ['*:30'],
        describe: 'PATTERN:DAYS, the last matching rule decides (e.g. "*:30" "alt.*:7")',
      })
      .option('history-days', {
        type: 'number',
        default: 7,
        describe: 'days a message-id stays in the history after arrival (refusing it again)',
      })
      .example('$0 news expire --spool ./spool --rule "*:30" --rule "alt.binaries.*:3"', 'keep 30 days, binaries 3'),
  handler: async (args: ArgumentsCamelCase<ExpireArgs>) => {
    const rules = args.rule.map((r) => {
      const colon = r.lastIndexOf(':');
      const pattern = r.slice(0, colon);
      const days = Number(r.slice(colon + 1));
      if (colon <= 0 || !isWildmat(pattern) || !Number.isFinite(days) || days < 0)
        throw new CliError(`--rule ${r}: expected PATTERN:DAYS, such as "*:30".`);
      return { pattern, days };
    });
    const report = await withStore(args.spool, (s) => s.expire(rules, undefined, args['history-days'] * 86400));
    process.stdout.write(`expired ${report.removed} articles; ${report.historyForgotten} message-ids forgotten\n`);
  },
};

interface NewgroupArgs extends SpoolArgs {
  name: string;
  description: string;
  moderated: boolean;
  'no-posting': boolean;
}

/** `gorgon news newgroup NAME`. */
export const newsNewgroupCommand: CommandModule<GlobalArgs, NewgroupArgs> = {
  command: 'newgroup <name>',
  describe: 'create a newsgroup in a spool',
  builder: (y: Argv<GlobalArgs>) =>
    spoolOption(y)
      .positional('name', { type: 'string', demandOption: true })
      .option('description', { type: 'string', default: '' })
      .option('moderated', { type: 'boolean', default: false })
      .option('no-posting', { type: 'boolean', default: false }) as unknown as Argv<NewgroupArgs>,
  handler: async (args: ArgumentsCamelCase<NewgroupArgs>) => {
    const status: GroupStatus = args.moderated ? 'm' : args['no-posting'] ? 'n' : 'y';
    try {
      await withStore(args.spool, (s) =>
        s.createGroup(args.name, { status, description: args.description, creator: process.env['USER'] ?? 'gorgon' }),
      );
    } catch (err) {
      if (err instanceof NewsStoreError)
        throw new CliError(
          err.code === 'exists' ? `newsgroup ${args.name} already exists.` : `invalid newsgroup name ${JSON.stringify(args.name)}.`,
        );
      throw err;
    }
    process.stdout.write(`created ${args.name}\n`);
  },
};

interface RmgroupArgs extends SpoolArgs {
  name: string;
}

/** `gorgon news rmgroup NAME`: its articles go; its numbers are never handed out again. */
export const newsRmgroupCommand: CommandModule<GlobalArgs, RmgroupArgs> = {
  command: 'rmgroup <name>',
  describe: 'remove a newsgroup and its articles from a spool',
  builder: (y: Argv<GlobalArgs>) =>
    spoolOption(y).positional('name', { type: 'string', demandOption: true }) as unknown as Argv<RmgroupArgs>,
  handler: async (args: ArgumentsCamelCase<RmgroupArgs>) => {
    const removed = await withStore(args.spool, (s) => s.removeGroup(args.name));
    if (!removed) throw new CliError(`no newsgroup ${args.name} in ${args.spool}.`);
    process.stdout.write(`removed ${args.name}\n`);
  },
};
