import { hostname as osHostname } from 'node:os';
import type * as tls from 'node:tls';
import {
  checkCommonOptions,
  observeCommands,
  CommandTable,
  LoginFlow,
  resolveLimits,
  ServerEvents,
  ServerOptionError,
  silentLogger,
  toSecureContext,
  type Authenticator,
  type CommandSpec,
  type CommonServerOptions,
  type Logger,
  type LoginThrottle,
  type LoginThrottleOptions,
  type ServerEventMap,
} from '@gorgon/core';
import { pop3Commands } from './commands/index.js';
import type { Pop3Command } from './commands/command.js';
import { defaultPop3Limits, type Pop3Limits } from './defaults.js';
import { LoginDelay } from './login-delay.js';
import type { MaildropStore } from './maildrop.js';
import type { Pop3CustomCommand, Pop3Session, Pop3State } from './session.js';

/**
 * A way to log in. `user` is USER/PASS (RFC 1939 §7), `apop` is APOP (RFC 1939 §7; needs a
 * plain `apopSecret` per user from the authenticator's `lookup`), `plain` is AUTH PLAIN
 * (RFC 5034, RFC 4616).
 */
export type Pop3Mechanism = 'user' | 'apop' | 'plain';

/**
 * Options of a POP3 server: the common server options (`store`, `auth`, `logger`, `tls`,
 * `limits`, `proxyProtocol`, `commands`, `hooks`, `on`) and POP3's own. Every field but
 * `store` and `auth` has a default.
 */
export interface Pop3Options extends CommonServerOptions<Pop3Limits, MaildropStore, Pop3CustomCommand> {
  /** Where maildrops live: `new MaildirStore(root)`, `new MemoryMaildropStore()`, or your own. */
  store?: MaildropStore;
  /** @deprecated The old name of `store`. */
  maildrops?: MaildropStore;
  /** Who may log in: `UsersFileAuthenticator`, `MemoryAuthenticator`, or your own. */
  auth: Authenticator;
  /**
   * Login mechanisms offered, default `['user', 'plain']`. Add `'apop'` to put the timestamp in
   * the greeting and accept APOP (clients such as curl prefer SASL, then APOP, then USER, so
   * leave out what a deployment does not want them to pick).
   */
  mechanisms?: readonly Pop3Mechanism[];
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
  /** The login-and-throttle flow (the core's, shared with FTP). */
  readonly login: LoginFlow;
  readonly throttle: LoginThrottle;
  readonly hostname: string;
  readonly table: CommandTable<Pop3State, Pop3Session>;
  readonly stats: Pop3Stats;
  readonly events: ServerEvents;
}

/**
 * Checks the options (one {@link ServerOptionError} sentence for a bad one) and resolves them
 * into the shared context; the command table holds only what is offered, then the embedder's
 * `commands`.
 */
export function createPop3Context(options: Pop3Options): Pop3Context {
  checkCommonOptions('pop3', options);
  const store = options.store ?? options.maildrops;
  if (typeof (store as Partial<MaildropStore> | undefined)?.open !== 'function') {
    throw new ServerOptionError('pop3', 'store', 'must be a MaildropStore (with open())');
  }
  if (!options.auth) throw new ServerOptionError('pop3', 'auth', 'is required (an Authenticator)');
  const limits = resolveLimits('pop3', defaultPop3Limits, options.limits);
  const mechanisms = new Set<Pop3Mechanism>(options.mechanisms ?? ['user', 'plain']);
  for (const m of mechanisms) {
    if (m !== 'user' && m !== 'apop' && m !== 'plain') throw new ServerOptionError('pop3', 'mechanisms', `has an unknown login mechanism "${String(m)}" (user, apop, plain)`);
  }
  const delay = options.loginDelaySeconds;
  if (delay !== undefined && (!Number.isSafeInteger(delay) || delay < 0)) {
    throw new ServerOptionError('pop3', 'loginDelaySeconds', `must be a whole number of at least 0, got ${String(delay)}`);
  }
  if (options.expire !== undefined && options.expire !== 'never' && options.expire !== 0) {
    throw new ServerOptionError('pop3', 'expire', `must be 'never' or 0, got ${JSON.stringify(options.expire)}`);
  }
  const secureContext = options.tls ? toSecureContext(options.tls) : undefined;
  const offer = { mechanisms, tls: secureContext !== undefined };
  const offered = pop3Commands.filter((c: Pop3Command) => c.offered?.(offer) ?? true);
  const logger = options.logger ?? silentLogger;
  const events = new ServerEvents(logger);
  for (const [name, fn] of Object.entries(options.on ?? {})) events.on(name as keyof ServerEventMap, fn as (e: unknown) => void);
  const table = new CommandTable<Pop3State, Pop3Session>([...offered, ...(options.commands ?? [])], {
    loggedIn: (session) => session.state === 'transaction',
  });
  observeCommands(table, events);
  const login = new LoginFlow({ throttle: options.throttle, maxAuthFailures: limits.maxAuthFailures, events });
  return {
    limits,
    store: store!,
    auth: options.auth,
    logger,
    mechanisms,
    secureContext,
    requireTlsForPlaintext: options.requireTlsForPlaintext ?? false,
    loginDelay: new LoginDelay(options.loginDelaySeconds ?? 0),
    expire: options.expire ?? 'never',
    login,
    throttle: login.throttle,
    hostname: options.hostname ?? osHostname(),
    table,
    stats: { logins: 0, authFailures: 0, messagesRetrieved: 0, messagesDeleted: 0 },
    events,
  };
}
