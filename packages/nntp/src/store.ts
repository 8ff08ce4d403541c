/**
 * The news storage interface: what the NNTP server needs from a spool. Shipped implementations are
 * {@link MemoryNewsStore} (tests, embedding) and the disk spool; both pass one contract suite
 * (`test/store-contract.test.ts`).
 *
 * Invariants every implementation keeps:
 * - an article number, once handed out in a group, is never handed out again (even after expiry,
 *   rmgroup + newgroup of the same name, or a crash): the high water mark only grows;
 * - a message-id is in the history from the moment its article is accepted until the history entry
 *   itself expires (`rememberFor`), so a feed offering it again is refused (RFC 3977 §6.3.2, 435/438);
 * - an article is stored byte-exact (the bytes after un-dot-stuffing, CRLF line ends), and read back
 *   the same by number and by message-id;
 * - {@link NewsStore.overview} answers from the overview data alone (no article is opened).
 * @see RFC 3977 §6.1 (groups, water marks), §8 (overview), RFC 977 §2.1
 */

/** Posting status of a group, the fourth field of LIST ACTIVE. @see RFC 3977 §7.6.3 */
export type GroupStatus = 'y' | 'n' | 'm';

/** One newsgroup as LIST ACTIVE shows it. @see RFC 3977 §7.6.3 */
export interface GroupInfo {
  readonly name: string;
  /** Lowest article number present; high + 1 when the group is empty (RFC 3977 §6.1.1.2). */
  readonly low: number;
  /** Highest article number ever assigned (0 for a new group). Never decreases. */
  readonly high: number;
  /** Number of articles present (exact for the shipped stores). */
  readonly count: number;
  /** `y` posting allowed, `n` no posting, `m` moderated. */
  readonly status: GroupStatus;
  /** When the group was created, seconds since the epoch (LIST ACTIVE.TIMES, NEWGROUPS). */
  readonly created: number;
  /** Who created it (LIST ACTIVE.TIMES). */
  readonly creator: string;
  /** One-line description (LIST NEWSGROUPS). */
  readonly description: string;
}

/** The standard overview fields, in RFC 3977 §8.4 order, plus `xref` (LIST OVERVIEW.FMT `Xref:full`). */
export interface OverviewEntry {
  readonly number: number;
  readonly subject: string;
  readonly from: string;
  readonly date: string;
  readonly messageId: string;
  readonly references: string;
  /** Article size in octets (`:bytes`). */
  readonly bytes: number;
  /** Body line count (`:lines`). */
  readonly lines: number;
  /** The Xref header value, without the name. */
  readonly xref: string;
}

/** Where an article lives: one entry per group it was filed in. */
export interface ArticleLocation {
  readonly group: string;
  readonly number: number;
}

/** An article as the store hands it back. */
export interface StoredArticle {
  readonly messageId: string;
  /** The whole article, header and body separated by an empty line, CRLF line ends, not dot-stuffed. */
  readonly data: Buffer;
  /** Offset of the body (just after the CRLF CRLF separating it from the header). */
  readonly bodyOffset: number;
  readonly locations: readonly ArticleLocation[];
  /** Arrival time, seconds since the epoch (NEWNEWS, expiry). */
  readonly arrived: number;
}

/** What the server gives the store once it has validated an article (Path and Xref already set). */
export interface NewArticle {
  readonly messageId: string;
  /** Groups to file in; the store assigns the numbers and returns them. */
  readonly groups: readonly string[];
  /**
   * Builds the final bytes once numbers are known, so the Xref header can name them.
   * Called exactly once per {@link NewsStore.add} that succeeds.
   */
  readonly render: (locations: readonly ArticleLocation[]) => { data: Buffer; bodyOffset: number; overview: Omit<OverviewEntry, 'number'> };
  /** Arrival time, seconds since the epoch (defaults to now). */
  readonly arrived?: number;
}

/** The outcome of {@link NewsStore.add}. */
export type AddResult =
  | { readonly ok: true; readonly locations: readonly ArticleLocation[] }
  /** `duplicate`: message-id already in the history; `no-group`: none of the groups exist. */
  | { readonly ok: false; readonly reason: 'duplicate' | 'no-group' };

/** History lookup result. @see RFC 3977 §6.3.2, RFC 4644 §2.4 */
export type HistoryState = 'absent' | 'present' | 'expired';

/**
 * Expiry policy: articles at least `days` old (arrival times in whole seconds) in groups matching
 * `pattern` (a wildmat) are removed; `days: 0` removes everything, also what arrived this second.
 */
export interface ExpireRule {
  readonly pattern: string;
  readonly days: number;
}

/** What one expire run did. */
export interface ExpireReport {
  readonly removed: number;
  readonly historyForgotten: number;
}

/** Typed errors a store may throw; the session maps them to 403 (RFC 3977 §3.2.1). */
export class NewsStoreError extends Error {
  constructor(
    readonly code: 'io' | 'exists' | 'no-group' | 'bad-name' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'NewsStoreError';
  }
}

/**
 * A news spool. All methods may be called concurrently by many sessions; `add` calls are
 * serialised by the store itself so numbering and duplicate suppression are atomic.
 */
export interface NewsStore {
  /** All groups, sorted by name. */
  groups(): Promise<readonly GroupInfo[]>;
  /** One group, or undefined. */
  group(name: string): Promise<GroupInfo | undefined>;
  /** Create a group (newgroup). Throws `exists` when it exists, `bad-name` for an invalid name. */
  createGroup(
    name: string,
    options?: { status?: GroupStatus; description?: string; creator?: string; created?: number },
  ): Promise<GroupInfo>;
  /** Remove a group and its articles (rmgroup). Its high water mark is remembered so a re-created group never reuses numbers. */
  removeGroup(name: string): Promise<boolean>;
  /** Article numbers present in `group` within [low, high], ascending. */
  numbers(group: string, low: number, high: number): Promise<readonly number[]>;
  /** The article filed as `number` in `group`. */
  articleByNumber(group: string, number: number): Promise<StoredArticle | undefined>;
  /** The article with this message-id (`<…>`, angle brackets included). */
  articleById(messageId: string): Promise<StoredArticle | undefined>;
  /** Overview entries for `group` within [low, high], ascending; from overview data only. */
  overview(group: string, low: number, high: number): Promise<readonly OverviewEntry[]>;
  /** History: has this message-id been seen (and is still remembered)? */
  history(messageId: string): Promise<HistoryState>;
  /** Accept an article: check history, number it in each existing group, write it durably, record it. */
  add(article: NewArticle): Promise<AddResult>;
  /** Message-ids of articles that arrived at or after `since` (seconds) in groups `match` accepts. */
  newSince(since: number, match: (group: string) => boolean): Promise<readonly string[]>;
  /** Remove old articles; history entries are kept `rememberFor` seconds after arrival (default 7 days). */
  expire(rules: readonly ExpireRule[], now?: number, rememberFor?: number): Promise<ExpireReport>;
  /** Release files and timers. */
  close(): Promise<void>;
}

/** A valid newsgroup name: dot-separated components of printable non-space ASCII, no wildmat specials. @see RFC 3977 §4.1 */
export function isValidGroupName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && /^[A-Za-z0-9+_-]+(\.[A-Za-z0-9+_-]+)*$/.test(name);
}
