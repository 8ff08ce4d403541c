import type { ServerLimits } from '@gorgon/core';

/**
 * Every limit of the POP3 server, with its default, in one place: the core's common limits
 * (same names and meaning in every protocol) and POP3's. Each one has its reply (see
 * `replies.ts`), its close behaviour and a test.
 */
export interface Pop3Limits extends ServerLimits {
  /**
   * Longest command line in octets, CRLF excluded (as in every Gorgon protocol); a longer one
   * gets `lineTooLong` and is discarded up to its line end, and the session goes on. The
   * default 253 is RFC 2449 §4's 255 octets, which count the CRLF. @see RFC 2449 §4
   */
  readonly maxLineLength: number;
  /**
   * RFC 1939's inactivity autologout timer: a session idle this long is closed without
   * entering UPDATE (nothing is deleted). At least ten minutes by the RFC. @see RFC 1939 §3
   */
  readonly idleTimeoutMs: number;
  /**
   * Close a connection that has not logged in within this long (`loginTimeout`), however busy
   * it keeps itself: the slowloris guard, the same option and default as FTP's. RFC 1939's
   * ten-minute minimum is for the autologout of a session, which `idleTimeoutMs` is; a
   * connection that has not authenticated has no session to lose. 0 = no deadline.
   * @see RFC 1939 §3, RFC 2577 §2
   */
  readonly loginTimeoutMs: number;
  /** Failed logins (USER/PASS, APOP, AUTH) on one connection before it is closed. */
  readonly maxAuthFailures: number;
  /** Unknown commands on one connection before it is closed. */
  readonly maxUnknownCommands: number;
  /** Connections open at once; more get `tooManyConnections`. */
  readonly maxConnections: number;
  /** Connections open at once from one address; more get `tooManyConnections`. 0 = no limit. */
  readonly maxConnectionsPerIp: number;
  /** How long a flushing close may take before the socket is destroyed. */
  readonly closeTimeoutMs: number;
  /** How long a graceful `close()` waits for sessions to say goodbye. */
  readonly shutdownTimeoutMs: number;
  /** Close any connection after this long in all. Default 0: none (RFC 1939 has only the idle timer). */
  readonly totalTimeoutMs: number;
}

/** The defaults of {@link Pop3Limits}. */
export const defaultPop3Limits: Pop3Limits = Object.freeze({
  maxLineLength: 253, // RFC 2449 §4: 255 octets with the CRLF
  idleTimeoutMs: 10 * 60_000,
  loginTimeoutMs: 60_000,
  maxAuthFailures: 3,
  maxUnknownCommands: 10,
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  closeTimeoutMs: 10_000,
  shutdownTimeoutMs: 5_000,
  totalTimeoutMs: 0,
});

/** The name and version the IMPLEMENTATION capability announces. @see RFC 2449 §6.9 */
export const implementationName = 'Gorgon-POP3-0.1.0';
