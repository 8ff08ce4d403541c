/**
 * @gorgon/http — an HTTP/1.1 (RFC 9110, RFC 9112) static file server on the Gorgon core's
 * channels, framer and producers (not on node:http), and a GET client. The root re-exports the
 * `./server` and `./client` entry points.
 * @packageDocumentation
 */
export * from './exports/server.js';
export * from './exports/client.js';
