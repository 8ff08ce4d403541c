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
  type LoginThrottleOptions,
  type ServerEventMap,
} from '@gorgon/core';
import { nntpCommands } from './commands/index.js';
import { defaultNntpLimits, type NntpLimits } from './defaults.js';
import type { NntpSession, NntpState } from './session.js';
import type { AcceptedArticle } from './feeds.js';
import type { NewsStore } from './store.js';
import { wildmat, type Matcher } from './wildmat.js';

/** What a user (or anonymous, `undefined`) may read and post to: two wildmats. @see RFC 3977 §4 */
export interface GroupAccess {
  /** Groups that may be read (GROUP, ARTICLE, OVER, LIST). Default `*`. */
  readonly read?: string;
  /** Groups that may be posted to (POST). Anonymous default: none; logged-in default `*`. */
  readonly post?: string;
}

/** Options of an NNTP server: the common ones plus NNTP's. */
export interface NntpOptions extends CommonServerOptions<NntpLimits, NewsStore, CommandSpec<NntpState, NntpSession>> {
  /** The spool: `new MemoryNewsStore()`, `new DiskNewsStore(dir)`, or your own. */
  store: NewsStore;
  /** Who may log in (AUTHINFO USER/PASS, SASL PLAIN). Without one, AUTHINFO is not offered. */
  auth?: Authenticator;
  /** Access for anonymous readers. Default: read everything, post nothing. */
  anonymous?: GroupAccess;
  /** Access per logged-in user (by name); a user not listed gets `users['*']`, else read and post everything. */
  users?: Readonly<Record<string, GroupAccess>>;
  /**
   * Who may feed articles (IHAVE, MODE STREAM, CHECK, TAKETHIS): a predicate on the client
   * address and user. Default: logged-in users and loopback addresses.
   */
  feeders?: (peer: { remoteAddress: string; user: string | undefined }) => boolean;
  /**
   * Called once per article stored (posted or fed), after the store acknowledged it: how
   * outgoing feeds learn what to send (`feeds.articleAccepted`). Its failure is logged; the
   * article stays accepted.
   */
  onAccepted?: (article: AcceptedArticle) => void | Promise<void>;
  /** Refuse AUTHINFO over cleartext except from loopback (483). Default false. @see RFC 4643 §2.2 */
  requireTlsForAuth?: boolean;
  /** This server's name in Path and Xref. Default: the host name. @see RFC 5537 §3.2 */
  pathHost?: string;
  /** The growing delay after failed logins. */
  throttle?: LoginThrottleOptions;
  /**
   * What LIST DISTRIB.PATS serves: default Distribution values by group pattern (INN's
   * distrib.pats; {@link parseDistribPats} reads that file). Unset: LIST DISTRIB.PATS answers
   * 503 (not maintained); an empty list is an empty 215. @see RFC 3977 §7.6.1, §7.6.5
   */
  distribPats?: readonly DistribPattern[];
}

/** One LIST DISTRIB.PATS entry: `weight:wildmat:distribution`. @see RFC 3977 §7.6.5 */
export interface DistribPattern {
  readonly weight: number;
  readonly wildmat: string;
  readonly distribution: string;
}

/**
 * Reads a distrib.pats file (INN's format, RFC 3977 §7.6.5): `weight:wildmat:distribution`
 * per line, `#` comments and blank lines ignored. Throws with the line number on a bad line.
 */
export function parseDistribPats(text: string): DistribPattern[] {
  const out: DistribPattern[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\d+):([^:\s]+):([^:\s]+)$/.exec(line);
    if (!m) throw new Error(`distrib.pats line ${i + 1}: expected weight:wildmat:distribution, got ${JSON.stringify(raw.slice(0, 80))}`);
    try {
      wildmat(m[2]!);
    } catch {
      throw new Error(`distrib.pats line ${i + 1}: ${JSON.stringify(m[2])} is not a wildmat`);
    }
    out.push({ weight: Number(m[1]), wildmat: m[2]!, distribution: m[3]! });
  });
  return out;
}

/** Counts an NNTP server keeps. */
export interface NntpStats {
  logins: number;
  authFailures: number;
  articlesSent: number;
  articlesAccepted: number;
  articlesRejected: number;
  duplicates: number;
}

/** What the sessions of one server share. */
export interface NntpContext {
  readonly limits: NntpLimits;
  readonly store: NewsStore;
  readonly auth: Authenticator | undefined;
  readonly logger: Logger;
  readonly secureContext: tls.SecureContext | undefined;
  readonly requireTlsForAuth: boolean;
  readonly pathHost: string;
  readonly login: LoginFlow;
  readonly table: CommandTable<NntpState, NntpSession>;
  readonly stats: NntpStats;
  readonly events: ServerEvents;
  /** What `user` (undefined: anonymous) may read and post to; `anyPost`: posting allowed somewhere (greeting 200). */
  readonly access: (user: string | undefined) => { read: Matcher; post: Matcher; anyPost: boolean };
  readonly feeders: (peer: { remoteAddress: string; user: string | undefined }) => boolean;
  readonly onAccepted: ((article: AcceptedArticle) => void | Promise<void>) | undefined;
  /** LIST DISTRIB.PATS lines, or undefined when not maintained (503). */
  readonly distribPats: readonly string[] | undefined;
  /** Serialises acceptance of one message-id: two feeds offering it at once get one 235 and one 435. */
  readonly inFlight: Set<string>;
}

/** Checks the options ({@link ServerOptionError} on a bad one) and resolves them. */
export function createNntpContext(options: NntpOptions): NntpContext {
  checkCommonOptions('nntp', options);
  if (typeof (options.store as Partial<NewsStore> | undefined)?.articleById !== 'function') {
    throw new ServerOptionError('nntp', 'store', 'must be a NewsStore (MemoryNewsStore, DiskNewsStore)');
  }
  const limits = resolveLimits('nntp', defaultNntpLimits, options.limits);
  if (limits.idleTimeoutMs > 0 && limits.idleTimeoutMs < 180_000) {
    throw new ServerOptionError(
      'nntp',
      'limits.idleTimeoutMs',
      `must be at least 180000 (RFC 3977 §3.1: three minutes), got ${limits.idleTimeoutMs}`,
    );
  }
  const secureContext = options.tls ? toSecureContext(options.tls) : undefined;
  const logger = options.logger ?? silentLogger;
  const events = new ServerEvents(logger);
  for (const [name, fn] of Object.entries(options.on ?? {})) events.on(name as keyof ServerEventMap, fn as (e: unknown) => void);
  const offered = nntpCommands.filter((c) => c.offered?.({ tls: secureContext !== undefined, auth: options.auth !== undefined }) ?? true);
  const table = new CommandTable<NntpState, NntpSession>([...offered, ...(options.commands ?? [])], {
    loggedIn: (s) => s.user !== undefined,
  });
  observeCommands(table, events);
  const check = (what: string, p: string | undefined): void => {
    if (p === undefined) return;
    try {
      wildmat(p);
    } catch {
      throw new ServerOptionError('nntp', what, `is not a wildmat: ${JSON.stringify(p)}`);
    }
  };
  check('anonymous.read', options.anonymous?.read);
  for (const [i, d] of (options.distribPats ?? []).entries()) {
    check(`distribPats[${i}].wildmat`, d.wildmat);
    if (!Number.isSafeInteger(d.weight) || d.weight < 0)
      throw new ServerOptionError('nntp', `distribPats[${i}].weight`, `must be a whole number >= 0, got ${d.weight}`);
    if (!/^[^:\s]+$/.test(d.distribution))
      throw new ServerOptionError(
        'nntp',
        `distribPats[${i}].distribution`,
        `must be one word without a colon, got ${JSON.stringify(d.distribution)}`,
      );
    if (/[:\s]/.test(d.wildmat))
      throw new ServerOptionError(
        'nntp',
        `distribPats[${i}].wildmat`,
        `must not contain a colon or a space, got ${JSON.stringify(d.wildmat)}`,
      );
  }
  check('anonymous.post', options.anonymous?.post);
  for (const [u, a] of Object.entries(options.users ?? {})) {
    check(`users.${u}.read`, a.read);
    check(`users.${u}.post`, a.post);
  }
  const none: Matcher = () => false;
  const anonPost = options.anonymous?.post;
  const anon = { read: wildmat(options.anonymous?.read ?? '*'), post: anonPost ? wildmat(anonPost) : none, anyPost: Boolean(anonPost) };
  const access = (user: string | undefined): { read: Matcher; post: Matcher; anyPost: boolean } => {
    if (user === undefined) return anon;
    const a = options.users?.[user] ?? options.users?.['*'] ?? {};
    return { read: wildmat(a.read ?? '*'), post: wildmat(a.post ?? '*'), anyPost: a.post !== '' };
  };
  const feeders = options.feeders ?? ((p) => p.user !== undefined || p.remoteAddress === '::1' || p.remoteAddress.startsWith('127.'));
  return {
    limits,
    store: options.store,
    auth: options.auth,
    logger,
    secureContext,
    requireTlsForAuth: options.requireTlsForAuth ?? false,
    pathHost:
      options.pathHost ??
      osHostname()
        .split('.')[0]!
        .replace(/[^A-Za-z0-9.-]/g, '') ??
      'gorgon',
    login: new LoginFlow({ throttle: options.throttle, maxAuthFailures: limits.maxAuthFailures, events }),
    table,
    stats: { logins: 0, authFailures: 0, articlesSent: 0, articlesAccepted: 0, articlesRejected: 0, duplicates: 0 },
    events,
    access,
    feeders,
    onAccepted: options.onAccepted,
    distribPats: options.distribPats?.map((d) => `${d.weight}:${d.wildmat}:${d.distribution}`),
    inFlight: new Set(),
  };
}
