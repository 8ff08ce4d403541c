import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseSection } from '../config.js';
import { adminRunOptions } from '../admin/run.js';
import { holdSignals, runDaemons } from '../daemon.js';
import { pop3Protocol, pop3Section } from '../protocols/pop3.js';
import {
  authCacheOption,
  checkPort,
  loggerFor,
  type AuthCacheArgs,
  type GlobalArgs,
  runAsFrom,
  runAsOptions,
  type RunAsArgs,
  limitOptions,
  adminFrom,
  adminOptions,
  type AdminArgs,
} from './options.js';

interface Pop3dArgs extends GlobalArgs, RunAsArgs, AuthCacheArgs, AdminArgs {
  port: number;
  host: string;
  maildirs: string;
  'network-root': boolean;
  users: string;
  'tls-port'?: number;
  tls: boolean;
  cert?: string;
  key?: string;
  'cert-dir': string;
  'require-tls': boolean;
  mechanisms: string[];
  'login-delay': number;
  expire: string;
  'idle-timeout': number;
  'max-connections'?: number;
  'max-per-ip'?: number;
  'max-auth-failures'?: number;
  'proxy-trusted'?: string[];
}

/** `gorgon pop3d`: the RFC 1939 daemon alone, over a Maildir root and a users file. */
export const pop3dCommand: CommandModule<GlobalArgs, Pop3dArgs> = {
  command: 'pop3d',
  describe: 'run the POP3 daemon (RFC 1939, STLS, AUTH PLAIN, APOP) over Maildirs',
  builder: (yargs: Argv<GlobalArgs>) =>
    authCacheOption(runAsOptions(adminOptions(limitOptions(yargs))))
      .option('port', { type: 'number', default: 1110, describe: 'plain POP3 port (110 needs root); STLS upgrades' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (:: or 0.0.0.0 for all)' })
      .option('maildirs', { type: 'string', demandOption: true, describe: 'Maildir root: one Maildir per user at DIR/USER' })
      .option('network-root', {
        type: 'boolean',
        default: false,
        describe: 'the Maildirs are on a network filesystem (NFS, SMB): no synchronous reads of small messages',
      })
      .option('users', { type: 'string', demandOption: true, describe: 'JSON users file (hashes from gorgon passwd; apopSecret for APOP)' })
      .option('tls-port', { type: 'number', describe: 'also listen for POP3 over implicit TLS (pop3s) here' })
      .option('tls', { type: 'boolean', default: false, describe: 'offer STLS even without --tls-port' })
      .option('cert', { type: 'string', describe: 'PEM certificate (default: a self-signed demo one)' })
      .option('key', { type: 'string', describe: 'PEM private key for --cert' })
      .option('cert-dir', { type: 'string', default: '.gorgon-tls', describe: 'where the demo certificate is kept' })
      .option('require-tls', { type: 'boolean', default: false, describe: 'refuse USER/PASS and PLAIN before TLS, except from loopback' })
      .option('mechanisms', {
        type: 'string',
        array: true,
        default: ['user', 'plain'],
        describe: 'login mechanisms offered: user, plain, apop',
      })
      .option('login-delay', { type: 'number', default: 0, describe: 'LOGIN-DELAY: least seconds between logins of a user' })
      .option('expire', { type: 'string', default: 'never', describe: 'EXPIRE policy: never, or 0 to remove retrieved mail at QUIT' })
      .option('idle-timeout', {
        type: 'number',
        default: 600,
        describe: 'autologout after this many idle seconds (RFC 1939: at least 600)',
      })
      .option('max-auth-failures', { type: 'number', describe: 'failed logins before the connection closes' })
      .check((args) => checkPort(args.port) && (args['tls-port'] === undefined || checkPort(args['tls-port'], '--tls-port')))
      .example('$0 pop3d --maildirs ./mail --users users.json', 'serve Maildirs on port 1110')
      .example('$0 pop3d --maildirs ./mail --users users.json --tls-port 1995', 'also pop3s on 1995, STLS on 1110'),
  handler: async (args: ArgumentsCamelCase<Pop3dArgs>) => {
    holdSignals(); // a SIGHUP or SIGUSR1 while starting is kept for later, never fatal
    const log = loggerFor(args);
    const runAs = runAsFrom(args);
    const section = parseSection(
      pop3Section,
      {
        port: args.port,
        host: args.host,
        maildirs: args.maildirs,
        networkRoot: args['network-root'],
        users: args.users,
        tlsPort: args['tls-port'],
        tls: args.tls,
        cert: args.cert,
        key: args.key,
        certDir: args['cert-dir'],
        requireTls: args['require-tls'],
        mechanisms: args.mechanisms,
        loginDelay: args['login-delay'],
        expire: args.expire === '0' ? 0 : args.expire,
        idleTimeoutSeconds: args['idle-timeout'],
        authCacheSeconds: args['auth-cache'],
        maxConnections: args['max-connections'],
        maxConnectionsPerIp: args['max-per-ip'],
        maxAuthFailures: args['max-auth-failures'],
        proxyTrusted: args['proxy-trusted'],
      },
      'pop3d',
    );
    const daemons = await pop3Protocol.build(section, { logger: log, baseDir: process.cwd() });
    for (const daemon of daemons) daemon.protocol = pop3Protocol.key;
    await runDaemons(daemons, log, { runAs, ...adminRunOptions(adminFrom(args), log) });
  },
};
