import type { ServerLimits } from '@gorgon/core';

/**
 * Every limit of the NNTP server, with its default, in one place: the core's common limits
 * (same names and meaning in every protocol) and NNTP's own.
 */
export interface NntpLimits extends ServerLimits {
  /**
   * Longest command line in octets, CRLF excluded. RFC 3977 §3.1 allows 512 with the CRLF;
   * a longer one gets 501 and is discarded up to its line end.
   */
  readonly maxLineLength: number;
  /** Longest line inside an article (POST/IHAVE/TAKETHIS data); a longer one rejects the article (441/437/439), the session goes on. */
  readonly maxArticleLineLength: number;
  /** Largest article in octets; a larger one is read to its end, not kept, and rejected. */
  readonly maxArticleBytes: number;
  /** Idle timeout; RFC 3977 §3.1 asks for at least 3 minutes. INN's default is 10 minutes. */
  readonly idleTimeoutMs: number;
  /** A posted or fed article whose Date is more than this far in the future is refused. */
  readonly maxFutureSkewMs: number;
  /** A fed article older than this (Date) is refused as stale (437/439). */
  readonly maxArticleAgeMs: number;
  /** Articles one OVER/XOVER/HDR/LISTGROUP answer lists at most (the rest is cut off). */
  readonly maxRangeArticles: number;
}

/** The defaults of {@link NntpLimits}. */
export const defaultNntpLimits: NntpLimits = Object.freeze({
  maxLineLength: 510, // RFC 3977 §3.1: 512 octets with the CRLF
  maxArticleLineLength: 64 * 1024,
  maxArticleBytes: 1024 * 1024,
  idleTimeoutMs: 10 * 60_000,
  totalTimeoutMs: 0,
  loginTimeoutMs: 0, // reading news needs no login
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  maxAuthFailures: 3,
  maxUnknownCommands: 20,
  closeTimeoutMs: 10_000,
  shutdownTimeoutMs: 5_000,
  maxFutureSkewMs: 24 * 3600_000,
  maxArticleAgeMs: 14 * 24 * 3600_000,
  maxRangeArticles: 100_000,
});

/** The IMPLEMENTATION capability. @see RFC 3977 §5.2.2 */
export const implementationName = 'Gorgon-NNTP 0.1.0';
