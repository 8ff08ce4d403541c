import type { ArgumentRule } from '@gorgon/core';
import type { Permission } from '../permissions.js';
import type { FtpSession } from '../session.js';

/**
 * One row of the FTP command table. The session's one gate answers unknown verbs (500),
 * argument errors (501), missing login (530) and missing permission (550) before `run`.
 */
export interface FtpCommand {
  verb: string;
  args: ArgumentRule;
  /** Needs a logged-in user. */
  login: boolean;
  /** The permission the command needs (checked by the gate). */
  perm?: Permission;
  /** Syntax shown by `HELP verb`. */
  help: string;
  /** The line this command adds to FEAT, if any. @see RFC 2389 §3 */
  feat?: string | ((session: FtpSession) => string);
  /**
   * Runs at once even while a transfer is in progress (ABOR, STAT, NOOP, QUIT); every other
   * command waits for the transfer to end, so replies keep their order.
   */
  duringTransfer?: boolean;
  /** Only offered when the server has TLS configured. */
  needsTls?: boolean;
  run(session: FtpSession, arg: string): void | Promise<void>;
}
