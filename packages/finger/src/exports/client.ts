/**
 * `@gorgon/finger/client`: ask a finger server about a user, as finger(1) does.
 * @see RFC 1288 §2.3
 * @packageDocumentation
 */
export { finger, FingerError, type FingerErrorCode, type FingerQueryOptions } from '../client.js';
export { parseFingerTarget } from '../query.js';
