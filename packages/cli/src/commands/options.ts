import type { Argv } from 'yargs';
import { createCliLogger, type LogFormat, type LogLevel } from '../logging.js';

/** Options every command has. */
export interface GlobalArgs {
  'log-format': LogFormat;
  'log-level': LogLevel;
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
    });
}

export function loggerFor(args: GlobalArgs) {
  return createCliLogger(args['log-format'], args['log-level']);
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
