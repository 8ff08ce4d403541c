import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { createCliLogger, type LogFormat, type LogLevel } from '../logging.js';
import { resolveRunAs, type Identity, type RunAs } from '../privileges.js';

/** Options every command has. */
export interface GlobalArgs {
  'log-format': LogFormat;
  'log-level': LogLevel;
  'log-file'?: string;
}

export function globalOptions<T>(yargs: Argv<T>): Argv<T & GlobalArgs> {
  return yargs
    .option('log-format', {
      choices: ['pretty', 'json'] as const,
      default: 'pretty' as LogFormat,
      describe: 'log lines on stderr: readable, or one JSON object per line',
      global: true,
    })
    .option('log-level', {
      choices: ['debug', 'info', 'warn', 'error', 'silent'] as const,
      default: 'info' as LogLevel,
      describe: 'least severe log level shown',
      global: true,
    })
    .option('log-file', {
      type: 'string',
      describe: 'append log lines to this file instead of stderr (reopened on SIGUSR1, for logrotate)',
      global: true,
    });
}

export function loggerFor(args: GlobalArgs) {
  return createCliLogger(args['log-format'], args['log-level'], args['log-file']);
}

/** Checks a --port value: yargs gives NaN for "abc". */
export function checkPort(port: number, flag = '--port'): true {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag} must be a whole number from 0 to 65535, got ${String(port)}.`);
  }
  return true;
}

/** The connection-limit and PROXY options every daemon command has. */
export interface LimitArgs {
  'max-connections'?: number;
  'max-per-ip'?: number;
  'proxy-trusted'?: string[];
}

export function limitOptions<T>(yargs: Argv<T>): Argv<T & LimitArgs> {
  return yargs
    .option('max-connections', { type: 'number', describe: 'connections open at once' })
    .option('max-per-ip', { type: 'number', describe: 'connections open at once from one address' })
    .option('proxy-trusted', { type: 'string', array: true, describe: 'addresses allowed to send a PROXY header' });
}

/** `--admin-port`/`--admin-host`: the admin listener (status page, /metrics, /healthz). */
export interface AdminArgs {
  'admin-port'?: number;
  'admin-host'?: string;
}

export function adminOptions<T>(yargs: Argv<T>): Argv<T & AdminArgs> {
  return yargs
    .option('admin-port', {
      type: 'number',
      describe: 'serve the status page, /metrics and /healthz on this port (0: any free one)',
    })
    .option('admin-host', { type: 'string', describe: 'address of the admin listener (default 127.0.0.1: this machine only)' })
    .check((args) => (args['admin-port'] === undefined ? true : checkPort(args['admin-port'], '--admin-port')));
}

/**
 * Where the admin listener goes: the flags win over the config's `admin:` section (or the
 * default a command gives, as `serve --demo` does); undefined when neither asks for one.
 * `--admin-host` alone means the default port, 9090.
 */
export function adminFrom(args: AdminArgs, config?: { port: number; host: string }): { port: number; host: string } | undefined {
  const port = args['admin-port'] ?? config?.port ?? (args['admin-host'] === undefined ? undefined : 9090);
  if (port === undefined) return undefined;
  return { port, host: args['admin-host'] ?? config?.host ?? '127.0.0.1' };
}

/** `--auth-cache`, for the daemons that check passwords against a users file. */
export interface AuthCacheArgs {
  'auth-cache': number;
}

export function authCacheOption<T>(yargs: Argv<T>): Argv<T & AuthCacheArgs> {
  return yargs.option('auth-cache', {
    type: 'number',
    default: 60,
    describe: 'seconds a successful login is remembered, sparing its scrypt check (0: off; an edit of the users file empties it)',
  });
}

/** `--user`/`--group`: who a daemon started as root becomes once its ports are bound. */
export interface RunAsArgs {
  user?: string;
  group?: string;
}

export function runAsOptions<T>(yargs: Argv<T>): Argv<T & RunAsArgs> {
  return yargs
    .option('user', { type: 'string', describe: 'started as root: become this user once every port is bound' })
    .option('group', { type: 'string', describe: "with --user: this group instead of the user's own groups" });
}

/**
 * The identity to switch to, from the flags or else the config's `runAs`, resolved before any
 * port is bound (an unknown user stops the start with one sentence).
 */
export function runAsFrom(args: RunAsArgs, config?: RunAs): Identity | undefined {
  if (args.group !== undefined && args.user === undefined && config === undefined) throw new UsageError('--group needs --user.');
  const user = args.user ?? config?.user;
  if (user === undefined) return undefined;
  const group = args.group ?? (args.user === undefined ? config?.group : undefined);
  return resolveRunAs({ user, group });
}
