import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseSection } from '../config.js';
import { adminRunOptions } from '../admin/run.js';
import { holdSignals, runDaemons } from '../daemon.js';
import { fingerSection, fingerProtocol } from '../protocols/finger.js';
import {
  checkPort,
  loggerFor,
  type GlobalArgs,
  runAsFrom,
  runAsOptions,
  type RunAsArgs,
  limitOptions,
  adminFrom,
  adminOptions,
  type AdminArgs,
} from './options.js';

interface FingerdArgs extends GlobalArgs, RunAsArgs, AdminArgs {
  port: number;
  host: string;
  users?: string;
  'system-users': boolean;
  list: boolean;
  forwarding: boolean;
  'max-hops': number;
  'max-connections'?: number;
  'max-per-ip'?: number;
  'proxy-trusted'?: string[];
}

/** `gorgon fingerd`: the RFC 1288 daemon alone. */
export const fingerdCommand: CommandModule<GlobalArgs, FingerdArgs> = {
  command: 'fingerd',
  describe: 'run the finger daemon (RFC 1288)',
  builder: (yargs: Argv<GlobalArgs>) =>
    runAsOptions(adminOptions(limitOptions(yargs)))
      .option('port', { type: 'number', default: 7979, describe: 'TCP port (79 needs root)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (:: or 0.0.0.0 for all)' })
      .option('users', { type: 'string', describe: 'JSON users file (login, name, office, plan, …)' })
      .option('system-users', { type: 'boolean', default: false, describe: 'serve /etc/passwd users and their ~/.plan' })
      .option('list', { type: 'boolean', default: true, describe: 'answer an empty query with the user list (--no-list refuses)' })
      .option('forwarding', { type: 'boolean', default: false, describe: 'allow user@host forwarding queries' })
      .option('max-hops', { type: 'number', default: 1, describe: 'forwarding hops allowed' })
      .check((args) => checkPort(args.port))
      .example('$0 fingerd --users users.json --port 7979', 'serve a JSON directory on port 7979'),
  handler: async (args: ArgumentsCamelCase<FingerdArgs>) => {
    holdSignals(); // a SIGHUP or SIGUSR1 while starting is kept for later, never fatal
    const log = loggerFor(args);
    const runAs = runAsFrom(args);
    const section = parseSection(
      fingerSection,
      {
        port: args.port,
        host: args.host,
        users: args.users,
        systemUsers: args['system-users'],
        allowList: args.list,
        forwarding: args.forwarding,
        maxHops: args['max-hops'],
        maxConnections: args['max-connections'],
        maxConnectionsPerIp: args['max-per-ip'],
        proxyTrusted: args['proxy-trusted'],
      },
      'fingerd',
    );
    const daemons = await fingerProtocol.build(section, { logger: log, baseDir: process.cwd() });
    for (const daemon of daemons) daemon.protocol = fingerProtocol.key;
    await runDaemons(daemons, log, { runAs, ...adminRunOptions(adminFrom(args), log) });
  },
};
