/** Who is logging in, from where, over what. */
export interface LoginAttempt {
  user: string;
  password: string;
  remoteAddress: string;
  /** True when the connection is encrypted. */
  secure: boolean;
}

/** An authenticated user: the name plus whatever per-user settings the users file carries. */
export interface AuthUser {
  name: string;
  /** Protocol-specific settings from the users file (FTP root and permissions, …). */
  attributes: Readonly<Record<string, unknown>>;
}

/**
 * The auth hook every protocol server takes. Returns the user on success and undefined on any
 * failure: a caller cannot tell an unknown user from a wrong password, and must not.
 */
export interface Authenticator {
  authenticate(attempt: LoginAttempt): Promise<AuthUser | undefined>;
  /**
   * The stored record of a user without a password check, for mechanisms that need a shared
   * secret (APOP) or for anonymous FTP. Optional.
   */
  lookup?(user: string): Promise<AuthUser | undefined>;
}
