/**
 * @gorgon/finger: an RFC 1288 finger server and client on @gorgon/core. The root re-exports the
 * server (`@gorgon/finger/server`) and the client (`@gorgon/finger/client`); the directory
 * contract suite is in `@gorgon/finger/testing`.
 * @see RFC 1288
 * @packageDocumentation
 */
export * from './exports/server.js';
export * from './exports/client.js';
