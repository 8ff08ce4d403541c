/**
 * @gorgon/http — an HTTP/1.1 (RFC 9110, RFC 9112) static file server on the Gorgon core's
 * channels, framer and producers (not on node:http), and a GET client (subpath
 * `@gorgon/http/client`).
 */
export { createHttpServer, type HttpServer, type HttpServerOptions } from './server.js';
export type { HttpContext, HttpMethodSpec, HttpOptions, HttpStats } from './context.js';
export { HttpSession, type HttpRequest } from './session.js';
export { defaultHttpLimits, type HttpLimits } from './defaults.js';
export { statuses, reasons, reasonOf, type HttpStatus } from './statuses.js';
export type { HttpStore, StoreFile, StoreDirectory, StoreListEntry } from './store.js';
export { DiskStore } from './store-disk.js';
export { MemoryStore } from './store-memory.js';
export { HotFileCache } from './hot-cache.js';
export { parseRange, type ByteRange } from './range.js';
export { parseRequestLine, parseFieldLine, parseTarget, type Target, type RequestLine } from './request.js';
export { formatCombined, type AccessRecord } from './access-log.js';
export { httpDate } from './response.js';
