import type { ServerLimits } from '@gorgon/core';

/**
 * Every limit of the finger server and client, with its default, in one place. Each one has
 * its reply (see `replies.ts`), its close behaviour and a test.
 * @see RFC 1288 §3.1 (implementation security: bound everything a remote party controls)
 */
export interface FingerLimits extends ServerLimits {
  /** Longest query line in bytes, CRLF excluded (as everywhere); longer gets `queryTooLong` and a close. */
  readonly maxLineLength: number;
  /** Close a connection that sends no complete query within this long. */
  readonly idleTimeoutMs: number;
  /** Close any connection after this long in all (a stuck forward, a slow reader). */
  readonly totalTimeoutMs: number;
  /** Connections open at once; more get `tooManyConnections`. */
  readonly maxConnections: number;
  /** Connections open at once from one address; more get `tooManyConnections`. */
  readonly maxConnectionsPerIp: number;
  /** How long a flushing close may take before the socket is destroyed. */
  readonly closeTimeoutMs: number;
  /** Unused by finger (no login); kept so the limits have the common shape. */
  readonly loginTimeoutMs: number;
  /** Unused by finger (no login). */
  readonly maxAuthFailures: number;
  /** Unused by finger (one query per connection). */
  readonly maxUnknownCommands: number;
  /** How long a graceful `close()` lets queries in progress finish. */
  readonly shutdownTimeoutMs: number;
  /** `@host` parts a forwarded query may carry when forwarding is enabled. */
  readonly maxHops: number;
  /** Time allowed for a forwarded query, connect to close. */
  readonly forwardTimeoutMs: number;
  /** Largest reply relayed from a forwarding target. */
  readonly forwardMaxBytes: number;
  /** The port forwarded queries go to (RFC 1288 §2.1: finger is port 79). */
  readonly forwardPort: number;
  /** Names looked up from one query (`alice bob carol`). */
  readonly maxNamesPerQuery: number;
  /** Entries in one `{C}` listing; the rest are summarised in one line. */
  readonly maxListEntries: number;
  /** Columns of a reply line: longer user data is wrapped (plans) or cut (fields). */
  readonly lineWidth: number;
  /** Bytes of a plan or project shown; more is cut with a note. */
  readonly maxPlanBytes: number;
  /** Lines of a plan shown; more is cut with a note. */
  readonly maxPlanLines: number;
  /** Client: give up after this long, connect to close. */
  readonly clientTimeoutMs: number;
  /** Client: largest reply accepted. */
  readonly clientMaxBytes: number;
}

/**
 * The defaults of {@link FingerLimits}.
 * @see RFC 1288 §3.1
 */
export const defaultFingerLimits: FingerLimits = Object.freeze({
  maxLineLength: 512,
  loginTimeoutMs: 0, // finger has no login
  maxAuthFailures: 1,
  maxUnknownCommands: 1, // one query per connection
  shutdownTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  totalTimeoutMs: 60_000,
  maxConnections: 256,
  maxConnectionsPerIp: 16,
  closeTimeoutMs: 5_000,
  maxHops: 1,
  forwardTimeoutMs: 10_000,
  forwardMaxBytes: 256 * 1024,
  forwardPort: 79,
  maxNamesPerQuery: 8,
  maxListEntries: 1000,
  lineWidth: 80,
  maxPlanBytes: 16 * 1024,
  maxPlanLines: 200,
  clientTimeoutMs: 10_000,
  clientMaxBytes: 1024 * 1024,
});
