import { errorText } from '@gorgon/core';
import type { HttpRequest, HttpSession } from './session.js';
import { serveStatic } from './static.js';
import { statuses } from './statuses.js';

/** A GET or HEAD as the `handler` option sees it. */
export interface HttpHandlerRequest {
  readonly method: 'GET' | 'HEAD';
  /** The decoded path, starting with '/', every segment checked (no '.', '..', NUL). */
  readonly path: string;
  /** The query without '?', or ''. */
  readonly query: string;
  readonly remoteAddress: string;
  /** A request field by name (any case); repeated fields joined with ", ". */
  field(name: string): string | undefined;
}

/** A whole response made by the `handler` option. HEAD gets its fields without the content. */
export interface HttpHandlerResponse {
  status: number;
  /** Response fields (Content-Type, Cache-Control, …); Content-Length and Connection are set by the server. */
  headers?: Readonly<Record<string, string>>;
  body: string | Buffer;
}

/**
 * Answers GET and HEAD before the store: a response, or undefined to serve the store's file as
 * usual. For pages made on request (a status page, metrics); what a client sends never reaches
 * the fields unchecked: a field with CR, LF or NUL, or a bad name, is a 500 and a log line.
 */
export type HttpHandler = (request: HttpHandlerRequest) => HttpHandlerResponse | undefined | Promise<HttpHandlerResponse | undefined>;

const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Fields the server writes itself: a handler's copy would contradict them. */
const OWN_FIELDS = new Set(['content-length', 'connection', 'transfer-encoding', 'date', 'server']);

/** GET and HEAD with a handler: the handler's response, or the store's file. */
export async function serveWithHandler(s: HttpSession, req: HttpRequest, handler: HttpHandler): Promise<void> {
  const request: HttpHandlerRequest = {
    method: req.method === 'HEAD' ? 'HEAD' : 'GET',
    path: req.target.path,
    query: req.target.query,
    remoteAddress: s.channel.remoteAddress,
    field: (name) => req.fields.get(name.toLowerCase()),
  };
  let response: HttpHandlerResponse | undefined;
  let fields = '';
  try {
    response = await handler(request);
    if (response === undefined) return serveStatic(s, req);
    if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) {
      throw new Error(`the handler's status ${String(response.status)} is not from 200 to 599`);
    }
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      if (!FIELD_NAME.test(name) || /[\r\n\0]/.test(value)) throw new Error(`the handler's field ${JSON.stringify(name)} is not valid`);
      if (OWN_FIELDS.has(name.toLowerCase())) continue;
      fields += `${name}: ${value}\r\n`;
    }
  } catch (err) {
    s.channel.counters.errors++;
    s.channel.log.error({ event: 'handler-error', path: req.target.path }, errorText(err));
    return s.error(statuses.internalError);
  }
  if (s.channel.isClosed) return;
  s.respond(response.status, fields, response.body);
}
