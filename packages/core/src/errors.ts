/** Codes of the internal errors the core raises (never sent to a client as they are). */
export type CoreErrorCode = 'closed' | 'timeout' | 'tls-failed' | 'proxy-header' | 'limit' | 'bad-terminator' | 'connect-failed';

/** An internal error with a machine-readable code. Its message is for logs, not for the wire. */
export class CoreError extends Error {
  readonly code: CoreErrorCode;
  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoreError';
    this.code = code;
  }
}

/**
 * An error that carries the reply a client should get. Protocols subclass it with their own
 * reply type (`throw new ReplyError(replies.noSuchMessage)`); the session's error handler sends
 * `reply` and the session goes on.
 */
export class ReplyError<R> extends Error {
  readonly reply: R;
  constructor(reply: R, message = 'reply error') {
    super(message);
    this.name = 'ReplyError';
    this.reply = reply;
  }
}

/** The text of anything thrown, for a log line. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
