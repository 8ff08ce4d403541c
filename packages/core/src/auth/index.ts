export type { Authenticator, AuthUser, LoginAttempt } from './authenticator.js';
export { LoginFlow, type LoginFlowOptions, type LoginOutcome } from './login-flow.js';
export { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
export {
  credentialDigest,
  defaultScryptParams,
  hashPassword,
  parsePasswordHash,
  verifyNothing,
  verifyPassword,
  type ScryptParams,
} from './password.js';
export {
  loadUsersFile,
  MemoryAuthenticator,
  UsersFileAuthenticator,
  type MemoryUser,
  type UserRecord,
  type UsersFileOptions,
} from './users-file.js';
