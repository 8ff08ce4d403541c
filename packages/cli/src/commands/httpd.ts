import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseSection } from '../config.js';
import { adminRunOptions } from '../admin/run.js';
import { holdSignals, runDaemons } from '../daemon.js';
import { httpProtocol, httpSection } from '../protocols/http.js';
import {
  checkPort,
  limitOptions,
  loggerFor,
  runAsFrom,
  runAsOptions,
  type GlobalArgs,
  type RunAsArgs,
  adminFrom,
  adminOptions,
  type AdminArgs,
} from './options.js';

interface HttpdArgs extends GlobalArgs, RunAsArgs, AdminArgs {
  port: number;
  host: string;
  root: string;
  'tls-port'?: number;
  cert?: string;
  key?: string;
  'cert-dir': string;
  listings: boolean;
  'access-log'?: string;
  'cache-bytes': number;
  'idle-timeout': number;
  'max-connections'?: number;
  'max-per-ip'?: number;
  'proxy-trusted'?: string[];
}

/** `gorgon httpd`: the HTTP/1.1 static file server alone. */
export const httpdCommand: CommandModule<GlobalArgs, HttpdArgs> = {
  command: 'httpd',
  describe: 'run the HTTP/1.1 static file server (RFC 9110, RFC 9112)',
  builder: (yargs: Argv<GlobalArgs>) =>
    runAsOptions(adminOptions(limitOptions(yargs)))
      .option('port', { type: 'number', default: 8080, describe: 'HTTP port (80 needs root)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (:: or 0.0.0.0 for all)' })
      .option('root', { type: 'string', demandOption: true, describe: 'the directory served' })
      .option('tls-port', { type: 'number', describe: 'also serve https (TLS from the first byte) here' })
      .option('cert', { type: 'string', describe: 'PEM certificate (default: a self-signed demo one)' })
      .option('key', { type: 'string', describe: 'PEM private key for --cert' })
      .option('cert-dir', { type: 'string', default: '.gorgon-tls', describe: 'where the demo certificate is kept' })
      .option('listings', { type: 'boolean', default: true, describe: 'list directories without index.html (--no-listings: 403)' })
      .option('access-log', { type: 'string', describe: 'also append the combined-format access log to this file' })
      .option('cache-bytes', { type: 'number', default: 0, describe: 'keep small hot files in memory, up to this many bytes' })
      .option('idle-timeout', { type: 'number', default: 60, describe: 'close a keep-alive connection idle this many seconds' })
      .check((args) => checkPort(args.port) && (args['tls-port'] === undefined || checkPort(args['tls-port'], '--tls-port')))
      .example('$0 httpd --root ./site --port 8080', 'serve ./site on port 8080')
      .example('$0 httpd --root ./site --tls-port 8443', 'also https on 8443 with the demo certificate'),
  handler: async (args: ArgumentsCamelCase<HttpdArgs>) => {
    holdSignals(); // a SIGHUP or SIGUSR1 while starting is kept for later, never fatal
    const log = loggerFor(args);
    const section = parseSection(
      httpSection,
      {
        port: args.port,
        host: args.host,
        root: args.root,
        tlsPort: args['tls-port'],
        cert: args.cert,
        key: args.key,
        certDir: args['cert-dir'],
        listings: args.listings,
        accessLog: args['access-log'],
        cacheBytes: args['cache-bytes'],
        idleTimeoutSeconds: args['idle-timeout'],
        maxConnections: args['max-connections'],
        maxConnectionsPerIp: args['max-per-ip'],
        proxyTrusted: args['proxy-trusted'],
      },
      'httpd',
    );
    const daemons = await httpProtocol.build(section, { logger: log, baseDir: process.cwd() });
    for (const daemon of daemons) daemon.protocol = httpProtocol.key;
    await runDaemons(daemons, log, { runAs: runAsFrom(args), ...adminRunOptions(adminFrom(args), log) });
  },
};
