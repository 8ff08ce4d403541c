import type { Argv, CommandModule } from 'yargs';
import { newsFilterCommand } from './news-filter.js';
import { newsPostCommand } from './news-post.js';
import { newsPullCommand } from './news-pull.js';
import { newsExpireCommand, newsNewgroupCommand, newsRmgroupCommand } from './news-spool.js';
import type { GlobalArgs } from './options.js';

/**
 * The news subcommands, one file each (`news-*.ts`): the clients (`pull`, `filter`, `post`)
 * and the spool tools (`expire`, `newgroup`, `rmgroup`). A new subcommand is one more row here.
 */
// yargs types a command list only as CommandModule<T, any>: the handlers keep their own types.
export const newsSubcommands: Array<CommandModule<GlobalArgs, never>> = [
  newsPullCommand as CommandModule<GlobalArgs, never>,
  newsFilterCommand as CommandModule<GlobalArgs, never>,
  newsPostCommand as CommandModule<GlobalArgs, never>,
  newsExpireCommand as CommandModule<GlobalArgs, never>,
  newsNewgroupCommand as CommandModule<GlobalArgs, never>,
  newsRmgroupCommand as CommandModule<GlobalArgs, never>,
];

/** `gorgon news <subcommand>`. */
export const newsCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'news <subcommand>',
  describe: 'news client and spool tools: pull, filter, post, expire, newgroup, rmgroup',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs.command(newsSubcommands).demandCommand(1, 'say which news subcommand to run (see gorgon news --help).'),
  handler: () => {},
};
