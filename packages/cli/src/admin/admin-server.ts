import { errorText, formatAddress, silentLogger, type Logger } from '@gorgon/core';
import { createHttpServer, MemoryStore, type HttpHandlerRequest, type HttpHandlerResponse } from '@gorgon/http';
import type { AdminSource } from './source.js';
import { statusPage, statusPagePolicy } from './status-page.js';

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** 0: a free port the system picks. */
  port: number;
  /** Default 127.0.0.1: the admin listener is for the machine's own operator and Prometheus. */
  host?: string;
  logger?: Logger;
}

/** A running admin listener. */
export interface AdminServer {
  /** Where it listens ("127.0.0.1:9090"). */
  address: string;
  /** The status page's URL ("http://127.0.0.1:9090/"). */
  url: string;
  close(): Promise<void>;
}

/** The exposition format Prometheus scrapes. */
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * Starts the admin listener, served by `@gorgon/http` (the suite's own HTTP server, not
 * node:http): `GET /` the status page, `/status.json` what it draws, `/metrics` Prometheus's
 * text format, `/healthz` 200 `ok` while running and 503 otherwise (starting, draining,
 * stopped), for a load balancer. Anything else is a 404.
 */
export async function startAdminServer(source: AdminSource, options: AdminServerOptions): Promise<AdminServer> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const handler = async (req: HttpHandlerRequest): Promise<HttpHandlerResponse> => {
    switch (req.path) {
      case '/':
        return {
          status: 200,
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': statusPagePolicy, ...NO_STORE },
          body: statusPage,
        };
      case '/status.json':
        return { status: 200, headers: { 'Content-Type': 'application/json', ...NO_STORE }, body: JSON.stringify(await source.status()) };
      case '/metrics': {
        const { body } = await source.metrics();
        return { status: 200, headers: { 'Content-Type': METRICS_TYPE, ...NO_STORE }, body };
      }
      case '/healthz': {
        const phase = source.phase();
        const ok = phase === 'running';
        return {
          status: ok ? 200 : 503,
          headers: { 'Content-Type': 'text/plain; charset=utf-8', ...NO_STORE },
          body: ok ? 'ok\n' : `${phase}\n`,
        };
      }
      default:
        return {
          status: 404,
          headers: { 'Content-Type': 'text/plain; charset=utf-8' },
          body: 'not found: try /, /status.json, /metrics or /healthz\n',
        };
    }
  };
  const server = createHttpServer({
    // Nothing is served from a store: every answer is the handler's.
    store: new MemoryStore(),
    listings: false,
    handler: async (req) => {
      try {
        return await handler(req);
      } catch (err) {
        logger.error({ event: 'admin-error', path: req.path }, `admin listener: ${errorText(err)}`);
        return { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'internal error\n' };
      }
    },
    // The admin listener's own access lines would drown the daemons' at every scrape.
    logger: quiet(logger),
    limits: { maxConnections: 64 },
  });
  const bound = await server.listen(options.port, host);
  const address = formatAddress(bound);
  const url = `http://${address}/`;
  logger.info({ event: 'admin-started', address, url }, `status page on ${url} (metrics on ${url}metrics, health on ${url}healthz)`);
  return {
    address,
    url,
    close: () => server.close({ timeoutMs: 1000 }),
  };
}

/** The admin listener's logger: its warnings and errors, not an access line per scrape. */
function quiet(logger: Logger): Logger {
  return warningsOnly(logger.child({ daemon: 'admin' }));
}

function warningsOnly(logger: Logger): Logger {
  return {
    debug: () => {},
    info: () => {},
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    child: (bindings) => warningsOnly(logger.child(bindings)),
    isLevelEnabled: (level) => (level === 'warn' || level === 'error') && (logger.isLevelEnabled?.(level) ?? true),
  };
}
