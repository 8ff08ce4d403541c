import { resolve } from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@gorgon/core';
import { CliError, messageOf } from './errors.js';

/** How log lines look on stderr. */
export type LogFormat = 'pretty' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

type Destination = ReturnType<typeof pino.destination>;

/** Log files open in this process, by path: SIGUSR1 reopens them (logrotate's `postrotate`). */
const logFiles = new Map<string, Destination>();

/**
 * The CLI's logger: readable lines on stderr for people, one JSON object per line with
 * `--log-format json` for machines. Daemon output never goes to stdout. With `file`, the lines
 * are appended to that file instead (written synchronously, so none is lost at exit), and
 * {@link reopenLogFiles} opens it again under its name after a rotation.
 */
export function createCliLogger(format: LogFormat, level: LogLevel, file?: string): Logger & PinoLogger {
  const options = { level, base: undefined, redact: { paths: ['password', 'pass', 'secret'], censor: '***' } };
  const destination = file === undefined ? undefined : openLogFile(file);
  if (format === 'json') return pino(options, destination ?? pino.destination({ dest: 2, sync: true }));
  const stream = pretty({
    destination: destination ?? 2,
    sync: true,
    colorize: destination === undefined && process.stderr.isTTY,
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return pino(options, stream);
}

function openLogFile(file: string): Destination {
  // Absolute, so the reopen after a rotation finds it whatever the working directory.
  const path = resolve(file);
  const open = logFiles.get(path);
  if (open) return open;
  let destination: Destination;
  try {
    destination = pino.destination({ dest: path, append: true, sync: true });
  } catch (err) {
    throw new CliError(`cannot open log file ${path}: ${messageOf(err)}`);
  }
  logFiles.set(path, destination);
  return destination;
}

/**
 * Opens every log file again under its name (after logrotate renamed it): lines written before
 * went to the old file, lines from now on go to the new one. Returns what was reopened and
 * what failed (that file keeps being written where it was).
 */
export function reopenLogFiles(): { reopened: string[]; failed: Array<{ path: string; error: string }> } {
  const reopened: string[] = [];
  const failed: Array<{ path: string; error: string }> = [];
  for (const [path, destination] of logFiles) {
    try {
      destination.reopen();
      reopened.push(path);
    } catch (err) {
      failed.push({ path, error: messageOf(err) });
    }
  }
  return { reopened, failed };
}
