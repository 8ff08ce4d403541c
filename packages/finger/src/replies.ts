import { printable } from '@gorgon/core';

/**
 * Every fixed text the finger server sends, by name. Handlers pick a reply from here and never
 * build one inline; `format.ts` owns line ends. Client-supplied text is always passed through
 * `printable` (escaped, at most 40 characters) before it is echoed.
 * @see RFC 1288 §2.5, §3.2
 */
export const replies = {
  /** `{C}` refused by configuration (`allowList: false`). @see RFC 1288 §3.2.2 */
  listDenied: 'Finger online user list denied.',
  /** `{Q2}` refused: forwarding is off (the default). @see RFC 1288 §3.2.1 */
  forwardingDenied: 'Finger forwarding service denied.',
  /** `{Q2}` with more `@host` parts than `forwarding.maxHops`. @see RFC 1288 §2.4, §3.2.1 */
  tooManyHops: (maxHops: number): string => `Finger forwarding denied: more than ${maxHops} ${maxHops === 1 ? 'hop' : 'hops'}.`,
  /** `{Q2}` naming a port other than the forwarding port: no port scanning through us. */
  forwardPortDenied: 'Finger forwarding denied: only the finger port can be reached.',
  /** First line of a relayed reply, as BSD finger heads a remote answer. @see RFC 1288 §2.4 */
  forwardedFrom: (host: string): string => `[${printable(host, 60)}]`,
  /** The next host did not answer, refused, or sent too much. @see RFC 1288 §2.4 */
  forwardFailed: (host: string): string => `Finger forwarding to ${printable(host, 40)} failed.`,
  /** `{U}` that matches no login and no real name. @see RFC 1288 §2.5.2 */
  noSuchUser: (name: string): string => `finger: ${printable(name, 40)}: no such user.`,
  /** `{C}` on an empty directory. @see RFC 1288 §2.5.1 */
  noUsers: 'No one here.',
  /** A query line over `maxQueryLength` bytes. @see RFC 1288 §3.1 */
  queryTooLong: 'Finger query too long.',
  /** Control characters, NUL or invalid UTF-8 in the query. @see RFC 1288 §2.2, §3.1 */
  badCharacters: 'Finger query contains invalid characters.',
  /** A query that does not follow the grammar (`alice@`, `a b@host`). @see RFC 1288 §2.3 */
  badSyntax: 'Finger query not understood.',
  /** More names in one query than the limit. */
  tooManyNames: (max: number): string => `Finger query names more than ${max} users.`,
  /** The directory failed; the details go to the log only. */
  unavailable: 'Finger service temporarily unavailable.',
  /** Refused by `maxConnections` or `maxConnectionsPerIp`. */
  tooManyConnections: 'Too many finger connections; try again later.',
  /** No complete query within `idleTimeoutMs` (or the whole exchange over its total time). */
  timedOut: 'Finger query timed out.',
  /** The server is closing while the query was still to come. */
  shuttingDown: 'Finger service shutting down.',
  /** Last line of a listing cut at `maxListEntries`. */
  moreUsers: (count: number): string => `... and ${count} more.`,
  /** Last line of a plan or project cut at `maxPlanLines` / `maxPlanBytes`. */
  textCut: '[cut]',
} as const;

/**
 * The names of {@link replies}.
 * @see RFC 1288 §2.5
 */
export type ReplyName = keyof typeof replies;
