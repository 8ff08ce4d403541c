/**
 * @gorgon/finger: an RFC 1288 finger server and client on @gorgon/core.
 * @see RFC 1288
 * @packageDocumentation
 */
export { finger, FingerError, type FingerErrorCode, type FingerQueryOptions } from './client.js';
export { defaultFingerLimits, type FingerLimits } from './defaults.js';
export { MemoryUserDirectory, matchesName, type FingerUser, type UserDirectory } from './directory.js';
export { JsonUserDirectory, loadJsonUsers, type JsonUserDirectoryOptions } from './directory-json.js';
export { SystemUserDirectory, parseGecos, parsePasswd, type PasswdEntry, type SystemUserDirectoryOptions } from './directory-system.js';
export {
  parseFingerTarget,
  parseQuery,
  type FingerHost,
  type FingerQuery,
  type QueryParse,
  type QueryParseOptions,
  type QueryProblem,
} from './query.js';
export { replies } from './replies.js';
export { createFingerServer, type FingerServer, type FingerServerOptions } from './server.js';
export type { FingerCommand, FingerState } from './session.js';
