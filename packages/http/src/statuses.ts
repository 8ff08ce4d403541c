/**
 * The status codes the server sends, by name, with their reason phrases.
 * @see RFC 9110 §15 (status codes), RFC 9112 §4 (status line)
 */
export const statuses = Object.freeze({
  /** The interim answer to `Expect: 100-continue`. @see RFC 9110 §15.2.1 */
  continue: 100,
  /** @see RFC 9110 §15.3.1 */
  ok: 200,
  /** OPTIONS. @see RFC 9110 §15.3.5 */
  noContent: 204,
  /** @see RFC 9110 §15.3.7 */
  partialContent: 206,
  /** A directory asked for without its trailing slash. @see RFC 9110 §15.4.2 */
  movedPermanently: 301,
  /** @see RFC 9110 §15.4.5 */
  notModified: 304,
  /** @see RFC 9110 §15.5.1 */
  badRequest: 400,
  /** @see RFC 9110 §15.5.4 */
  forbidden: 403,
  /** @see RFC 9110 §15.5.5 */
  notFound: 404,
  /** @see RFC 9110 §15.5.6 */
  methodNotAllowed: 405,
  /** Header timeout. @see RFC 9110 §15.5.9 */
  requestTimeout: 408,
  /** @see RFC 9110 §15.5.13 */
  preconditionFailed: 412,
  /** A request body larger than the server drains. @see RFC 9110 §15.5.14 */
  contentTooLarge: 413,
  /** Request line too long. @see RFC 9110 §15.5.15 */
  uriTooLong: 414,
  /** @see RFC 9110 §15.5.17 */
  rangeNotSatisfiable: 416,
  /** An `Expect` other than 100-continue. @see RFC 9110 §10.1.1, §15.5.18 */
  expectationFailed: 417,
  /** Header section too large, or too many fields. @see RFC 6585 §5 */
  headersTooLarge: 431,
  /** @see RFC 9110 §15.6.1 */
  internalError: 500,
  /** An unknown method or transfer coding. @see RFC 9110 §15.6.2 */
  notImplemented: 501,
  /** Too many connections. @see RFC 9110 §15.6.4 */
  unavailable: 503,
  /** @see RFC 9110 §15.6.6 */
  versionNotSupported: 505,
});

/** A status the server sends. */
export type HttpStatus = (typeof statuses)[keyof typeof statuses];

/** Reason phrases (RFC 9110 §15; RFC 6585 §5 for 431). */
export const reasons: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue',
  200: 'OK',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
});

/** The reason phrase of `status` (empty for one not listed: the phrase is optional, RFC 9112 §4). */
export function reasonOf(status: number): string {
  return reasons[status] ?? '';
}

/** The line sent before closing a connection refused by the connection limits. */
export const tooManyConnectionsReply =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\ntoo many connections';
