import type { ServerLimits } from '@gorgon/core';

/**
 * Every limit of the HTTP server, with its default, in one place: the core's common limits
 * (same names in every protocol) and HTTP's. Each has its status (statuses.ts) and a test.
 */
export interface HttpLimits extends ServerLimits {
  /** Longest request line, CRLF excluded; longer gets 414 and the connection closes. @see RFC 9112 §3, RFC 9110 §15.5.15 */
  readonly maxLineLength: number;
  /** Longest header section in octets (field lines with their CRLFs); larger gets 431 and close. @see RFC 6585 §5 */
  readonly maxHeaderBytes: number;
  /** Most header fields in one request; more gets 431 and close. @see RFC 6585 §5 */
  readonly maxHeaders: number;
  /**
   * Time from the first byte of a request (or from the connection, for the first one) to the
   * end of its header section; a slower client gets 408 and the connection closes (slowloris);
   * 0 = no deadline.
   * @see RFC 9110 §15.5.9
   */
  readonly headerTimeoutMs: number;
  /** Keep-alive: a connection with no request for this long is closed. @see RFC 9112 §9.5 */
  readonly idleTimeoutMs: number;
  /** Largest request body drained on GET/HEAD/OPTIONS (Content-Length or chunked); larger gets 413 and close. */
  readonly maxDrainBytes: number;
  /** Most ranges in one Range field; more and the whole representation is sent (200). @see RFC 9110 §14.2 */
  readonly maxRanges: number;
  /** Connections open at once; more get 503. */
  readonly maxConnections: number;
  /** Connections open at once from one address; 0 = no limit. */
  readonly maxConnectionsPerIp: number;
}

/** The defaults of {@link HttpLimits}. */
export const defaultHttpLimits: HttpLimits = Object.freeze({
  maxLineLength: 8190, // nginx's large_client_header_buffers and Apache's LimitRequestLine: 8 KiB with CRLF
  maxHeaderBytes: 32 * 1024,
  maxHeaders: 100, // Apache's LimitRequestFields
  headerTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  totalTimeoutMs: 0,
  loginTimeoutMs: 0, // no logins in HTTP; the header deadline rides on the same tick
  maxConnections: 10_000,
  maxConnectionsPerIp: 0,
  maxAuthFailures: 1,
  maxUnknownCommands: 1,
  maxDrainBytes: 64 * 1024,
  maxRanges: 16,
  closeTimeoutMs: 10_000,
  shutdownTimeoutMs: 5_000,
});

/** Reads of a file body: 1 MiB each (the header goes out with the first). */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/** The `Server` field. @see RFC 9110 §10.2.4 */
export const serverName = 'Gorgon/0.1';
