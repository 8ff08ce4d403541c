import type { CommandSpec } from '@gorgon/core';
import type { Permission } from '../permissions.js';
import type { FtpCommandSession, FtpSession, LoginState } from '../session.js';

/**
 * One row of the FTP command table: the core's command spec (the same shape as every
 * protocol's, and as an embedder's `commands`), whose gate answers unknown verbs (500),
 * missing login (530), argument errors (501) and missing permission (550) before `run`, and
 * whose `capability` is the line it adds to FEAT (RFC 2389 §3). FTP adds two fields.
 */
export interface FtpCommand extends CommandSpec<LoginState, FtpSession> {
  /** The permission the command needs (checked by the gate). */
  permission?: Permission;
  /**
   * Runs at once even while a transfer is in progress (ABOR, STAT, NOOP, QUIT); every other
   * command waits for the transfer to end, so replies keep their order.
   */
  duringTransfer?: boolean;
  /** Only offered when the server has TLS configured (otherwise 502). */
  needsTls?: boolean;
}

/**
 * A command an embedder adds (`commands` option): the core's command spec over
 * {@link FtpCommandSession}, with FTP's permission letter and whether it may run during a transfer.
 */
export interface FtpCustomCommand extends CommandSpec<LoginState, FtpCommandSession> {
  permission?: Permission;
  duringTransfer?: boolean;
}
