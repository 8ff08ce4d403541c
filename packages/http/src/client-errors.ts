/**
 * A response whose status says the request failed (4xx, 5xx), or a redirect that could not be
 * followed. `status` is the number, so callers branch on it (`err.status === 404`).
 * @see RFC 9110 §15 (status codes)
 */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly statusText: string;
  /** The URL that drew the status (after any redirects). */
  readonly url: string;

  constructor(status: number, statusText: string, url: string) {
    super(`${url}: ${status} ${statusText}`.trim());
    this.name = 'HttpStatusError';
    this.status = status;
    this.statusText = statusText;
    this.url = url;
  }

  /**
   * Whether the same request may succeed later: 408, 429 and the 5xx "try again" statuses
   * (500, 502, 503, 504). Other 4xx statuses describe the request, which will not change.
   * @see RFC 9110 §15.5.9 (408), §15.6 (5xx); RFC 6585 §4 (429)
   */
  get transient(): boolean {
    return [408, 429, 500, 502, 503, 504].includes(this.status);
  }
}

/** Why a request failed when there is no status to show. */
export type HttpClientErrorKind =
  | 'bad-url'
  | 'connect-failed'
  | 'timeout'
  | 'closed'
  | 'tls-failed'
  | 'protocol'
  | 'redirects'
  | 'local-io'
  | 'aborted';

/** A failure of the connection, the response's framing, or the local side. */
export class HttpClientError extends Error {
  readonly kind: HttpClientErrorKind;

  constructor(kind: HttpClientErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpClientError';
    this.kind = kind;
  }
}
