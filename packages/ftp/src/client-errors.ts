import type { FtpReply } from './client-reply.js';

/**
 * A command was answered with a negative (4yz/5yz) or unexpected reply. `code` is the server's
 * three-digit reply code, so callers branch on numbers (`err.code === 550`) rather than text.
 * @see RFC 959 §4.2.1 (reply codes by function groups)
 */
export class FtpError extends Error {
  /** The reply code, e.g. 530 (not logged in) or 550 (no such file). */
  readonly code: number;
  /** The whole reply, every line. */
  readonly reply: FtpReply;
  /** The command that drew the reply, with any password masked. */
  readonly command: string;

  constructor(reply: FtpReply, command: string) {
    super(`${command === '' ? 'greeting' : command}: ${reply.code} ${firstLine(reply)}`);
    this.name = 'FtpError';
    this.code = reply.code;
    this.reply = reply;
    this.command = command;
  }

  /** True for 4yz replies: the same command may succeed later (RFC 959 §4.2, "transient"). */
  get transient(): boolean {
    return this.code >= 400 && this.code < 500;
  }
}

/** Why a client operation failed when there is no reply code to show. */
export type FtpClientErrorKind = 'connect-failed' | 'timeout' | 'closed' | 'tls-failed' | 'protocol' | 'data-connection' | 'local-io';

/**
 * A failure without an FTP reply: the connection could not be made or was lost, a reply did not
 * come in time, the server broke the reply syntax, or the data connection or local file failed.
 */
export class FtpClientError extends Error {
  readonly kind: FtpClientErrorKind;

  constructor(kind: FtpClientErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FtpClientError';
    this.kind = kind;
  }
}

function firstLine(reply: FtpReply): string {
  return reply.lines[0] ?? '';
}
