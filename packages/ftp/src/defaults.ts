import type { ServerLimits } from '@gorgon/core';

/**
 * Every limit of the FTP server, with its default, in one place. Each has its reply (see
 * `replies.ts`), its close behaviour and a test.
 * @see RFC 2577 (FTP security considerations)
 */
export interface FtpLimits extends ServerLimits {
  /**
   * Longest command line in bytes, CRLF excluded (as in every Gorgon protocol; RFC 959 sets
   * none); longer gets 500 and is discarded.
   */
  readonly maxLineLength: number;
  /**
   * Close the control connection after this long without a command (421). RFC 959 suggests
   * 300 s. Bytes moving on the data connection are activity: a transfer never times out its
   * session, however long it takes (a stalled one has `stalledTransferMs`).
   */
  readonly idleTimeoutMs: number;
  /** Close a connection that has not logged in within this long (421): slowloris guard. */
  readonly loginTimeoutMs: number;
  /** Wait this long for a data connection to open (425). */
  readonly dataConnectTimeoutMs: number;
  /**
   * Abort a transfer whose data connection moved no byte for this long: the data connection is
   * reset, an upload is not committed, the client gets `426 Transfer stalled` and the session
   * goes on (its idle timeout counts again from then).
   */
  readonly stalledTransferMs: number;
  /** Connections open at once on one listener; more get 421. */
  readonly maxConnections: number;
  /** Connections open at once from one address; more get 421. 0 = no limit. */
  readonly maxConnectionsPerIp: number;
  /** Failed logins on one connection before it is closed (421). */
  readonly maxAuthFailures: number;
  /** Unknown or refused commands before the connection is closed (421). */
  readonly maxUnknownCommands: number;
  /** Largest upload in bytes (552). 0 = no limit. */
  readonly maxUploadBytes: number;
  /**
   * Uploads are written to the filesystem in chunks of about this size. A binary upload over
   * plain TCP reads into at most four blocks of this size (plus a 64 KiB first one), reused for
   * the whole upload: the memory one upload holds.
   */
  readonly writeChunkBytes: number;
  /** How long a flushing close may take before the socket is destroyed. */
  readonly closeTimeoutMs: number;
  /** How long a graceful `close()` waits for sessions to say goodbye (421). */
  readonly shutdownTimeoutMs: number;
  /** Close any control connection after this long in all. 0 = none (default). */
  readonly totalTimeoutMs: number;
}

/** The defaults (vsftpd and pyftpdlib use similar values). */
export const defaultFtpLimits: FtpLimits = {
  maxLineLength: 4096,
  idleTimeoutMs: 300_000,
  loginTimeoutMs: 60_000,
  dataConnectTimeoutMs: 30_000,
  stalledTransferMs: 120_000,
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  maxAuthFailures: 3,
  maxUnknownCommands: 20,
  maxUploadBytes: 0,
  writeChunkBytes: 1024 * 1024,
  closeTimeoutMs: 10_000,
  shutdownTimeoutMs: 5_000,
  totalTimeoutMs: 0,
};

/** The banner sent in the 220 greeting. */
export const DEFAULT_BANNER = 'Gorgon FTP server ready.';
