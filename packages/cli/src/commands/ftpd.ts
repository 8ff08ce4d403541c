import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseSection } from '../config.js';
import { adminRunOptions } from '../admin/run.js';
import { holdSignals, runDaemons } from '../daemon.js';
import { ftpProtocol, ftpSection } from '../protocols/ftp.js';
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

interface FtpdArgs extends GlobalArgs, RunAsArgs, AuthCacheArgs, AdminArgs {
  port: number;
  host: string;
  root: string;
  users?: string;
  anonymous: boolean;
  'network-root': boolean;
  fsync: boolean;
  permissions: string;
  'pasv-range'?: string;
  masquerade?: string;
  'tls-port'?: number;
  tls: boolean;
  cert?: string;
  key?: string;
  'cert-dir': string;
  'require-tls': boolean;
  'require-tls-data': boolean;
  'idle-timeout': number;
  'max-upload'?: number;
  'max-connections'?: number;
  'max-per-ip'?: number;
  'proxy-trusted'?: string[];
}

/** `gorgon ftpd`: the FTP server alone (RFC 959 and extensions, FTPS). */
export const ftpdCommand: CommandModule<GlobalArgs, FtpdArgs> = {
  command: 'ftpd',
  describe: 'run the FTP daemon (RFC 959, FTPS)',
  builder: (yargs: Argv<GlobalArgs>) =>
    authCacheOption(runAsOptions(adminOptions(limitOptions(yargs))))
      .option('port', { type: 'number', default: 2121, describe: 'control port (21 needs root)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (:: or 0.0.0.0 for all)' })
      .option('root', { type: 'string', demandOption: true, describe: 'directory to serve' })
      .option('users', { type: 'string', describe: 'JSON users file (gorgon passwd; ftp: { root, perms } per user)' })
      .option('anonymous', { type: 'boolean', default: false, describe: 'allow anonymous read-only logins' })
      .option('network-root', {
        type: 'boolean',
        default: false,
        describe: 'the root is on a network filesystem (NFS, SMB): no synchronous file reads or upload writes on the event loop',
      })
      .option('fsync', {
        type: 'boolean',
        default: true,
        describe: 'flush each upload to disk before acknowledging it (226); --no-fsync leaves it to the kernel',
      })
      .option('permissions', { type: 'string', default: 'elradfmwMT', describe: 'default permission letters of users' })
      .option('pasv-range', { type: 'string', describe: 'passive data ports, e.g. 50000-50100' })
      .option('masquerade', { type: 'string', describe: 'IPv4 address announced by PASV (NAT)' })
      .option('tls-port', { type: 'number', describe: 'implicit FTPS port (e.g. 2990); turns TLS on' })
      .option('tls', { type: 'boolean', default: false, describe: 'offer AUTH TLS (demo certificate unless --cert/--key)' })
      .option('cert', { type: 'string', describe: 'PEM certificate' })
      .option('key', { type: 'string', describe: 'PEM private key' })
      .option('cert-dir', { type: 'string', default: '.gorgon-tls', describe: 'where the demo certificate is kept' })
      .option('require-tls', { type: 'boolean', default: false, describe: 'refuse logins before AUTH TLS' })
      .option('require-tls-data', { type: 'boolean', default: false, describe: 'refuse transfers without PROT P' })
      .option('idle-timeout', { type: 'number', default: 300, describe: 'seconds a control connection may idle' })
      .option('max-upload', { type: 'number', describe: 'largest upload in bytes' })
      .check((args) => checkPort(args.port) && (args['tls-port'] === undefined || checkPort(args['tls-port'], '--tls-port')))
      .example('$0 ftpd --root ./files --anonymous', 'serve ./files read-only to anonymous users on port 2121')
      .example('$0 ftpd --root ./files --users users.json --tls-port 2990', 'users from a file, FTPS on 2990 and AUTH TLS on 2121'),
  handler: async (args: ArgumentsCamelCase<FtpdArgs>) => {
    holdSignals(); // a SIGHUP or SIGUSR1 while starting is kept for later, never fatal
    const log = loggerFor(args);
    const runAs = runAsFrom(args);
    const section = parseSection(
      ftpSection,
      {
        port: args.port,
        host: args.host,
        root: args.root,
        users: args.users,
        anonymous: args.anonymous,
        networkRoot: args['network-root'],
        fsync: args.fsync,
        permissions: args.permissions,
        pasvRange: args['pasv-range'],
        masquerade: args.masquerade,
        tlsPort: args['tls-port'],
        tls: args.tls,
        cert: args.cert,
        key: args.key,
        certDir: args['cert-dir'],
        requireTls: args['require-tls'],
        requireTlsData: args['require-tls-data'],
        idleTimeoutSeconds: args['idle-timeout'],
        authCacheSeconds: args['auth-cache'],
        maxUploadBytes: args['max-upload'],
        maxConnections: args['max-connections'],
        maxConnectionsPerIp: args['max-per-ip'],
        proxyTrusted: args['proxy-trusted'],
      },
      'ftpd',
    );
    const daemons = await ftpProtocol.build(section, { logger: log, baseDir: process.cwd() });
    for (const daemon of daemons) daemon.protocol = ftpProtocol.key;
    await runDaemons(daemons, log, { runAs, ...adminRunOptions(adminFrom(args), log) });
  },
};
