import { createProtocolServer, type GorgonServer } from '@gorgon/core';
import { createHttpContext, type HttpOptions, type HttpStats } from './context.js';
import { HttpSession } from './session.js';
import { tooManyConnectionsReply } from './statuses.js';

/** Options of {@link createHttpServer}. */
export type HttpServerOptions = HttpOptions;

/** A running HTTP server: the core's one server shape, with HTTP's counts in `counters`. */
export type HttpServer = GorgonServer<HttpStats>;

/**
 * Creates an HTTP/1.1 static file server over `store`: `listen` for http, `listenTls` for
 * https (TLS from the first byte), `accept(stream)`, the core's events and counters. The
 * header deadline (`limits.headerTimeoutMs`) is checked on the core's housekeeping tick, one
 * sweep for all connections, no timer each. Throws a `ServerOptionError` for a bad option.
 * @see RFC 9110, RFC 9112, RFC 2818 (HTTP over TLS)
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const ctx = createHttpContext(options);
  const waiting = ctx.awaitingHeaders;
  return createProtocolServer<HttpStats>({
    name: 'http',
    logger: ctx.logger,
    // The tick period follows the shortest timeout; the header deadline is one of them.
    limits: { ...ctx.limits, loginTimeoutMs: ctx.limits.headerTimeoutMs },
    secureContext: ctx.secureContext,
    proxyProtocol: options.proxyProtocol,
    hooks: options.hooks,
    events: ctx.events,
    rejectReply: () => tooManyConnectionsReply,
    onTick: (now) => {
      for (const s of waiting) if (!s.checkHeaderDeadline(now)) waiting.delete(s);
    },
    createSession: (channel) => {
      new HttpSession(channel, ctx);
    },
    stats: () => ({ ...ctx.stats }),
    afterClose: () => ctx.accessLog?.close(),
  });
}
