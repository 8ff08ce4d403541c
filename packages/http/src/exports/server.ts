/**
 * `@gorgon/http/server`: the HTTP/1.1 static file server (RFC 9110, RFC 9112) and its file
 * stores: the interface, the disk store confined to its root, and a memory store.
 * @see RFC 9110, RFC 9112
 * @packageDocumentation
 */
export { createHttpServer, type HttpServer, type HttpServerOptions } from '../server.js';
export type { HttpMethodSpec, HttpOptions, HttpStats } from '../context.js';
export type { HttpHandler, HttpHandlerRequest, HttpHandlerResponse } from '../handler.js';
// Types only: what a custom method (the `commands` option) may use of the session.
export type { HttpMethodSession, HttpRequest } from '../session.js';
export type { Target } from '../request.js';
export type { HttpLimits } from '../defaults.js';
export { statuses, type HttpStatus } from '../statuses.js';
export type { HttpStore, StoreFile, StoreDirectory, StoreListEntry } from '../store.js';
export { DiskStore, type DiskStoreOptions } from '../store-disk.js';
export { MemoryStore } from '../store-memory.js';
