/**
 * `@gorgon/http/client`: the HTTP/1.1 GET and HEAD client on the Gorgon core (`HttpClient`), and
 * the grabber behind `gorgon get` (`getUrls`).
 * @see RFC 9110 (semantics), RFC 9112 (HTTP/1.1 message syntax and connections)
 */
export {
  HttpClient,
  parseHttpUrl,
  type HttpClientOptions,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpResponseWithBody,
  type HttpTarget,
  type HttpTlsOptions,
} from './client-http.js';
export { HttpConnection, type BodySink, type HttpResponseHead, type PendingRequest } from './client-connection.js';
export { HttpClientError, HttpStatusError, type HttpClientErrorKind } from './client-errors.js';
export { getUrls, localNameFor, PART_SUFFIX } from './client-get.js';
export { describeGetError, certificateProblem, isRetryable } from './client-get-errors.js';
export type { GetOptions, GetEvent, GetFileInfo, GetOutcome, GetResult } from './client-get-types.js';
