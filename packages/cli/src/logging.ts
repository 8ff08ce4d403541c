import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@gorgon/core';

/** How log lines look on stderr. */
export type LogFormat = 'pretty' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * The CLI's logger: readable lines on stderr for people, one JSON object per line with
 * `--log-format json` for machines. Daemon output never goes to stdout.
 */
export function createCliLogger(format: LogFormat, level: LogLevel): Logger & PinoLogger {
  const options = { level, base: undefined, redact: { paths: ['password', 'pass', 'secret'], censor: '***' } };
  if (format === 'json') return pino(options, pino.destination({ dest: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY,
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino(options, stream);
}
