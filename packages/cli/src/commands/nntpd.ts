import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseSection } from '../config.js';
import { adminRunOptions } from '../admin/run.js';
import { holdSignals, runDaemons } from '../daemon.js';
import { nntpProtocol, nntpSection } from '../protocols/nntp.js';
import {
  authCacheOption,
  checkPort,
  limitOptions,
  loggerFor,
  runAsFrom,
  runAsOptions,
  type AuthCacheArgs,
  type GlobalArgs,
  type RunAsArgs,
  adminFrom,
  adminOptions,
  type AdminArgs,
} from './options.js';

interface NntpdArgs extends GlobalArgs, RunAsArgs, AuthCacheArgs, AdminArgs {
  port: number;
  host: string;
  spool: string;
  fsync: boolean;
  'network-root': boolean;
  users?: string;
  feeds?: string;
  'distrib-pats'?: string;
  'tls-port'?: number;
  tls: boolean;
  cert?: string;
  key?: string;
  'cert-dir': string;
  'require-tls': boolean;
  'path-host'?: string;
  'anonymous-post'?: string;
  'idle-timeout': number;
  'max-article-bytes'?: number;
  'max-connections'?: number;
  'max-per-ip'?: number;
  'max-auth-failures'?: number;
  'proxy-trusted'?: string[];
}

/** `gorgon nntpd`: the RFC 3977 news server alone, over a disk spool. */
export const nntpdCommand: CommandModule<GlobalArgs, NntpdArgs> = {
  command: 'nntpd',
  describe: 'run the NNTP news server (RFC 3977, STARTTLS, AUTHINFO, streaming feeds) over a disk spool',
  builder: (yargs: Argv<GlobalArgs>) =>
    authCacheOption(runAsOptions(adminOptions(limitOptions(yargs))))
      .option('port', { type: 'number', default: 1119, describe: 'plain NNTP port (119 needs root); STARTTLS upgrades' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (:: or 0.0.0.0 for all)' })
      .option('spool', { type: 'string', demandOption: true, describe: 'spool directory (created when missing)' })
      .option('fsync', {
        type: 'boolean',
        default: true,
        describe: 'acknowledge an article only once it is flushed to disk (group commit); --no-fsync leaves it to the kernel, as INN does',
      })
      .option('network-root', {
        type: 'boolean',
        default: false,
        describe: 'the spool is on a network filesystem (NFS, SMB): no synchronous reads of small articles',
      })
      .option('users', { type: 'string', describe: 'JSON users file (gorgon passwd) for AUTHINFO' })
      .option('feeds', { type: 'string', describe: 'feeds file: peers to feed and addresses that may feed us' })
      .option('distrib-pats', { type: 'string', describe: 'distrib.pats file (weight:wildmat:distribution lines) for LIST DISTRIB.PATS' })
      .option('tls-port', { type: 'number', describe: 'also listen for NNTP over implicit TLS (nntps) here' })
      .option('tls', { type: 'boolean', default: false, describe: 'offer STARTTLS even without --tls-port' })
      .option('cert', { type: 'string', describe: 'PEM certificate (default: a self-signed demo one)' })
      .option('key', { type: 'string', describe: 'PEM private key for --cert' })
      .option('cert-dir', { type: 'string', default: '.gorgon-tls', describe: 'where the demo certificate is kept' })
      .option('require-tls', { type: 'boolean', default: false, describe: 'refuse AUTHINFO before TLS, except from loopback' })
      .option('path-host', { type: 'string', describe: 'this server’s name in Path and Xref (default: the host name)' })
      .option('anonymous-post', { type: 'string', describe: 'groups anonymous clients may post to (a wildmat; default none)' })
      .option('idle-timeout', { type: 'number', default: 600, describe: 'close after this many idle seconds (RFC 3977: at least 180)' })
      .option('max-article-bytes', { type: 'number', describe: 'largest article accepted' })
      .option('max-auth-failures', { type: 'number', describe: 'failed logins before the connection closes' })
      .check((args) => checkPort(args.port) && (args['tls-port'] === undefined || checkPort(args['tls-port'], '--tls-port')))
      .example('$0 nntpd --port 1119 --spool ./spool', 'serve a spool on port 1119')
      .example('$0 nntpd --spool ./spool --users users.json --tls-port 1563', 'also nntps on 1563, STARTTLS on 1119'),
  handler: async (args: ArgumentsCamelCase<NntpdArgs>) => {
    holdSignals(); // a SIGHUP or SIGUSR1 while starting is kept for later, never fatal
    const log = loggerFor(args);
    const section = parseSection(
      nntpSection,
      {
        port: args.port,
        host: args.host,
        spool: args.spool,
        fsync: args.fsync,
        networkRoot: args['network-root'],
        users: args.users,
        feeds: args.feeds,
        distribPats: args['distrib-pats'],
        tlsPort: args['tls-port'],
        tls: args.tls,
        cert: args.cert,
        key: args.key,
        certDir: args['cert-dir'],
        requireTls: args['require-tls'],
        pathHost: args['path-host'],
        anonymousPost: args['anonymous-post'],
        authCacheSeconds: args['auth-cache'],
        idleTimeoutSeconds: args['idle-timeout'],
        maxArticleBytes: args['max-article-bytes'],
        maxConnections: args['max-connections'],
        maxConnectionsPerIp: args['max-per-ip'],
        maxAuthFailures: args['max-auth-failures'],
        proxyTrusted: args['proxy-trusted'],
      },
      'nntpd',
    );
    const daemons = await nntpProtocol.build(section, { logger: log, baseDir: process.cwd() });
    for (const daemon of daemons) daemon.protocol = nntpProtocol.key;
    await runDaemons(daemons, log, { runAs: runAsFrom(args), ...adminRunOptions(adminFrom(args), log) });
  },
};
