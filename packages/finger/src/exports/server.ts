/**
 * `@gorgon/finger/server`: the RFC 1288 finger server and its user directories (the interface,
 * an in-memory one, a JSON users file and the system's passwd).
 * @see RFC 1288
 * @packageDocumentation
 */
export { createFingerServer, type FingerServer, type FingerServerOptions } from '../server.js';
export type { FingerCommand, FingerCommandSession, FingerState } from '../session.js';
export type { FingerLimits } from '../defaults.js';
export { MemoryUserDirectory, matchesName, type FingerUser, type UserDirectory } from '../directory.js';
export { JsonUserDirectory, loadJsonUsers, type JsonUserDirectoryOptions } from '../directory-json.js';
export { SystemUserDirectory, type SystemUserDirectoryOptions } from '../directory-system.js';
