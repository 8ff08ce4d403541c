/**
 * The logger Gorgon writes to: the subset of pino's API that the core and the protocols use,
 * so a pino instance can be passed as it is, and so can any adapter with these five methods.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  /** A logger whose every line carries `bindings` (the connection id, the remote address). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of `level` are kept (pino has it); without it every level counts as kept. */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

const noop = (): void => {};

/** A logger that drops everything: the default when the embedder gives none. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};

/**
 * True when `logger` keeps debug lines: a hot path (one line per command) checks this before
 * building a line's text, so a server that does not log at debug level does not pay for it.
 */
export function logsDebug(logger: Logger): boolean {
  return logsAt(logger, 'debug');
}

/** True when `logger` keeps lines of `level` (one without `isLevelEnabled` keeps them all). */
export function logsAt(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error'): boolean {
  return logger.isLevelEnabled ? logger.isLevelEnabled(level) : true;
}

/** Log records kept in memory, for tests that assert on log lines. */
export interface MemoryLogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  [key: string]: unknown;
}

/** A logger that appends every record (with its bindings) to `records`. */
export function memoryLogger(
  records: MemoryLogRecord[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { records: MemoryLogRecord[] } {
  const at =
    (level: MemoryLogRecord['level']) =>
    (obj: object | string, msg?: string): void => {
      const fields = typeof obj === 'string' ? {} : obj;
      const text = typeof obj === 'string' ? obj : (msg ?? '');
      records.push({ ...bindings, ...fields, level, msg: text });
    };
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => memoryLogger(records, { ...bindings, ...more }),
  };
}

/**
 * Make a client-supplied string safe to put in a log line or a reply: at most `max`
 * characters, control and non-ASCII bytes escaped. Never echo a huge or binary argument.
 */
export function printable(text: string, max = 80): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  const safe = cut.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return text.length > max ? `${safe}...` : safe;
}
