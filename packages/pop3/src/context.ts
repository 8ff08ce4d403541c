import { hostname as osHostname } from 'node:os';
import type * as tls from 'node:tls';
import {
  CommandTable,
  LoginThrottle,
  silentLogger,
  toSecureContext,
  type Authenticator,
  type Logger,
  type LoginThrottleOptions,
  type TlsServerOptions,
} from '@gorgon/core';
import { pop3Commands } from './commands/index.js';
import type { Pop3Command } from './commands/command.js';
import { defaultPop3Limits, type Pop3Limits } from './defaults.js';
import { LoginDelay } from './login-delay.js';
import type { MaildropStore } from './maildrop.js';
import type { Pop3Session, Pop3State } from './session.js';

/**
 * A way to log in. `user` is USER/PASS (RFC 1939 §7), `apop` is APOP (RFC 1939 §7; needs a
 * plain `apopSecret` per user from the authenticator's `lookup`), `plain` is AUTH PLAIN
 * (RFC 5034, RFC 4616).
 */
export type Pop3Mechanism = 'user' | 'apop' | 'plain';

/** Options of a POP3 server; every field but `maildrops` and `auth` has a default. */
export interface Pop3Options {
  /** Where maildrops live: `new MaildirStore(root)`, `new MemoryMaildropStore()`, or your own. */
  maildrops: MaildropStore;
  /** Who may log in: `UsersFileAuthenticator`, `MemoryAuthenticator`, or your own. */
  auth: Authenticator;
  logger?: Logger;
  /** Limits; see {@link Pop3Limits} for each default. */
  limits?: Partial<Pop3Limits>;
  /**
   * Login mechanisms offered, default `['user', 'plain']`. Add `'apop'` to put the timestamp in
   * the greeting and accept APOP (clients such as curl prefer SASL, then APOP, then USER, so
   * leave out what a deployment does not want them to pick).
   */
  mechanisms?: readonly Pop3Mechanism[];
  /** Certificate and key: enables STLS and the implicit-TLS listener (`listenTls`). */
  tls?: TlsServerOptions;
  /**
   * Refuse USER/PASS and AUTH PLAIN on unencrypted connections except from loopback, and leave
   * them out of CAPA there. Default false. @see RFC 2595 §2
   */
  requireTlsForPlaintext?: boolean;
  /** LOGIN-DELAY: least seconds between two logins of a user. Default 0 (none). @see RFC 2449 §6.5 */
  loginDelaySeconds?: number;
  /**
   * EXPIRE policy: `'never'` (default) keeps mail until the client deletes it; `0` also removes
   * every message retrieved in a session when it ends with QUIT. @see RFC 2449 §6.7
   */
  expire?: 'never' | 0;
  /** The growing delay after failed logins, shared by all sessions of the server. */
  throttle?: LoginThrottle | LoginThrottleOptions;
  /** Host name in the APOP timestamp. Default: the machine's. */
  hostname?: string;
  /** Expect a PROXY header from these addresses (HAProxy in front). */
  proxyProtocol?: { trusted: readonly string[] };
}

/** Counts a POP3 server keeps on top of the core's connection counters. */
export interface Pop3Stats {
  logins: number;
  authFailures: number;
  messagesRetrieved: number;
  messagesDeleted: number;
}

/** Everything the sessions of one server share, resolved from {@link Pop3Options} once. */
export interface Pop3Context {
  readonly limits: Pop3Limits;
  readonly store: MaildropStore;
  readonly auth: Authenticator;
  readonly logger: Logger;
  readonly mechanisms: ReadonlySet<Pop3Mechanism>;
  readonly secureContext: tls.SecureContext | undefined;
  readonly requireTlsForPlaintext: boolean;
  readonly loginDelay: LoginDelay;
  readonly expire: 'never' | 0;
  readonly throttle: LoginThrottle;
  readonly hostname: string;
  readonly table: CommandTable<Pop3State, Pop3Session>;
  readonly stats: Pop3Stats;
}

/** Resolves options into the shared context; the command table holds only what is offered. */
export function createPop3Context(options: Pop3Options): Pop3Context {
  const mechanisms = new Set<Pop3Mechanism>(options.mechanisms ?? ['user', 'plain']);
  for (const m of mechanisms) {
    if (m !== 'user' && m !== 'apop' && m !== 'plain') throw new Error(`unknown POP3 login mechanism "${String(m)}"`);
  }
  const secureContext = options.tls ? toSecureContext(options.tls) : undefined;
  const offer = { mechanisms, tls: secureContext !== undefined };
  const offered = pop3Commands.filter((c: Pop3Command) => c.offered?.(offer) ?? true);
  return {
    limits: { ...defaultPop3Limits, ...options.limits },
    store: options.maildrops,
    auth: options.auth,
    logger: options.logger ?? silentLogger,
    mechanisms,
    secureContext,
    requireTlsForPlaintext: options.requireTlsForPlaintext ?? false,
    loginDelay: new LoginDelay(options.loginDelaySeconds ?? 0),
    expire: options.expire ?? 'never',
    throttle: options.throttle instanceof LoginThrottle ? options.throttle : new LoginThrottle(options.throttle ?? {}),
    hostname: options.hostname ?? osHostname(),
    table: new CommandTable<Pop3State, Pop3Session>(offered),
    stats: { logins: 0, authFailures: 0, messagesRetrieved: 0, messagesDeleted: 0 },
  };
}
