/**
 * Every NNTP status line the server sends, by name. Handlers pick one from here and never build
 * status lines inline; {@link formatReply} owns the code and CRLF. Client-supplied text is
 * echoed only where the RFC asks for it (message-ids in 22x/23x/43x/238/239), and then only
 * after it passed the message-id syntax check.
 * @see RFC 3977 §3.2 (response codes), RFC 4643 (AUTHINFO), RFC 4642 (STARTTLS), RFC 4644 (streaming)
 */

/** One single-line NNTP response: a three-digit code and text. */
export interface NntpReply {
  readonly code: number;
  readonly text: string;
}

const r = (code: number, text: string): NntpReply => ({ code, text });

/** `code text\r\n`. */
export function formatReply(reply: NntpReply): string {
  return `${reply.code} ${reply.text}\r\n`;
}

export const replies = {
  /** Greeting, posting allowed. @see RFC 3977 §5.1.1 */
  greetingPosting: r(200, 'Gorgon NNTP server ready, posting allowed'),
  /** Greeting, posting prohibited. @see RFC 3977 §5.1.1 */
  greetingNoPosting: r(201, 'Gorgon NNTP server ready, posting prohibited'),
  /** Service temporarily unavailable (greeting when full). @see RFC 3977 §5.1.1 */
  unavailable: r(400, 'service temporarily unavailable'),
  /** Service permanently unavailable. @see RFC 3977 §5.1.1 */
  unavailablePermanently: r(502, 'service permanently unavailable'),
  /** Server shutting down. @see RFC 3977 §3.2.1 */
  shuttingDown: r(400, 'server shutting down'),
  /**
   * The store cannot write (a full disk, an I/O error): said in place of a streamed article's
   * 239/439, and the connection closes, so the feeder offers the article again later rather
   * than dropping it (TAKETHIS has no "try later" code). @see RFC 3977 §3.2.1, RFC 4644 §2.5
   */
  storageUnavailable: (why: string): NntpReply => r(400, `cannot store articles now (${why}); try again later`),
  /** Idle timeout. @see RFC 3977 §3.1 */
  idleTimeout: r(400, 'idle timeout, closing connection'),
  /** QUIT. @see RFC 3977 §5.4 */
  bye: r(205, 'closing connection'),
  /** CAPABILITIES list follows. @see RFC 3977 §5.2 */
  capabilities: r(101, 'Capability list:'),
  /** HELP text follows. @see RFC 3977 §7.2 */
  help: r(100, 'Help text follows'),
  /** DATE. @see RFC 3977 §7.1 */
  date: (stamp: string): NntpReply => r(111, stamp),
  /** SLAVE acknowledged. @see RFC 977 §3.12 */
  slave: r(202, 'slave status noted'),
  /** GROUP selected. @see RFC 3977 §6.1.1 */
  groupSelected: (count: number, low: number, high: number, name: string): NntpReply => r(211, `${count} ${low} ${high} ${name}`),
  /** LISTGROUP: as GROUP, list follows. @see RFC 3977 §6.1.2 */
  listGroup: (count: number, low: number, high: number, name: string): NntpReply => r(211, `${count} ${low} ${high} ${name} list follows`),
  /** LIST follows. @see RFC 3977 §7.6.1 */
  listFollows: r(215, 'information follows'),
  /** ARTICLE. @see RFC 3977 §6.2.1 */
  article: (n: number, id: string): NntpReply => r(220, `${n} ${id}`),
  /** HEAD. @see RFC 3977 §6.2.2 */
  head: (n: number, id: string): NntpReply => r(221, `${n} ${id}`),
  /** BODY. @see RFC 3977 §6.2.3 */
  body: (n: number, id: string): NntpReply => r(222, `${n} ${id}`),
  /** STAT, LAST, NEXT. @see RFC 3977 §6.2.4, §6.1.3, §6.1.4 */
  stat: (n: number, id: string): NntpReply => r(223, `${n} ${id}`),
  /** OVER / XOVER. @see RFC 3977 §8.3 */
  overview: r(224, 'overview information follows'),
  /** HDR / XHDR / XPAT. @see RFC 3977 §8.5, RFC 2980 §2.6, §2.9 */
  headers: r(225, 'headers follow'),
  /** XHDR/XPAT (RFC 2980 uses 221). @see RFC 2980 §2.6 */
  headersLegacy: r(221, 'headers follow'),
  /** NEWNEWS. @see RFC 3977 §7.4 */
  newNews: r(230, 'list of new articles follows'),
  /** NEWGROUPS. @see RFC 3977 §7.3 */
  newGroups: r(231, 'list of new newsgroups follows'),
  /** IHAVE accepted. @see RFC 3977 §6.3.2 */
  transferred: r(235, 'article transferred OK'),
  /** CHECK: send it. @see RFC 4644 §2.4 */
  checkSend: (id: string): NntpReply => r(238, id),
  /** TAKETHIS accepted. @see RFC 4644 §2.5 */
  takeAccepted: (id: string): NntpReply => r(239, id),
  /** POST accepted. @see RFC 3977 §6.3.1 */
  posted: r(240, 'article received OK'),
  /** AUTHINFO accepted. @see RFC 4643 §2.3, §2.4 */
  authAccepted: r(281, 'authentication accepted'),
  /** SASL accepted. @see RFC 4643 §2.4 */
  saslAccepted: r(281, 'authentication accepted'),
  /** AUTHINFO SASL continuation: an empty challenge, sent as "=". @see RFC 4643 §2.4.1 */
  saslContinue: r(383, '='),
  /** IHAVE: send it. @see RFC 3977 §6.3.2 */
  sendArticleTransfer: r(335, 'send article to be transferred; end with <CR-LF>.<CR-LF>'),
  /** POST: send it. @see RFC 3977 §6.3.1 */
  sendArticlePost: r(340, 'send article to be posted; end with <CR-LF>.<CR-LF>'),
  /** AUTHINFO USER: send PASS. @see RFC 4643 §2.3 */
  passRequired: r(381, 'password required'),
  /** STARTTLS: begin negotiation. @see RFC 4642 §2.2 */
  beginTls: r(382, 'continue with TLS negotiation'),
  /** MODE STREAM. @see RFC 4644 §2.3 */
  streamingOk: r(203, 'streaming permitted'),
  /** No such newsgroup. @see RFC 3977 §6.1.1 */
  noSuchGroup: r(411, 'no such newsgroup'),
  /** No newsgroup selected. @see RFC 3977 §6.2.1 */
  noGroupSelected: r(412, 'no newsgroup selected'),
  /** Current article number invalid. @see RFC 3977 §6.2.1 */
  noCurrentArticle: r(420, 'current article number is invalid'),
  /** No article in that range (OVER/HDR). @see RFC 3977 §8.3 */
  noArticlesInRange: r(423, 'no articles in that range'),
  /** No next article. @see RFC 3977 §6.1.4 */
  noNextArticle: r(421, 'no next article in this group'),
  /** No previous article. @see RFC 3977 §6.1.3 */
  noPreviousArticle: r(422, 'no previous article in this group'),
  /** No article with that number. @see RFC 3977 §6.2.1 */
  noSuchNumber: r(423, 'no article with that number'),
  /** No article with that message-id. @see RFC 3977 §6.2.1 */
  noSuchId: r(430, 'no article with that message-id'),
  /** IHAVE: not wanted (duplicate). @see RFC 3977 §6.3.2 */
  notWanted: r(435, 'article not wanted'),
  /** IHAVE: try again later. @see RFC 3977 §6.3.2 */
  transferLater: r(436, 'transfer not possible; try again later'),
  /** IHAVE: rejected. @see RFC 3977 §6.3.2 */
  transferRejected: (why: string): NntpReply => r(437, `article rejected: ${why}`),
  /** CHECK: try later. @see RFC 4644 §2.4 */
  checkLater: (id: string): NntpReply => r(431, id),
  /** CHECK: not wanted. @see RFC 4644 §2.4 */
  checkNotWanted: (id: string): NntpReply => r(438, id),
  /** TAKETHIS rejected. @see RFC 4644 §2.5 */
  takeRejected: (id: string): NntpReply => r(439, id),
  /** POST not permitted. @see RFC 3977 §6.3.1 */
  postingNotPermitted: r(440, 'posting not permitted'),
  /** POST failed. @see RFC 3977 §6.3.1 */
  postingFailed: (why: string): NntpReply => r(441, `posting failed: ${why}`),
  /** Authentication required. @see RFC 4643 §2.2 */
  authRequired: r(480, 'authentication required'),
  /** Authentication failed (same reply for unknown user and bad password). @see RFC 4643 §2.3 */
  authFailed: r(481, 'authentication failed'),
  /** AUTHINFO out of sequence. @see RFC 4643 §2.3 */
  authOutOfSequence: r(482, 'authentication commands issued out of sequence'),
  /** Encryption required (cleartext login refused). @see RFC 4643 §2.3.2 */
  encryptionRequired: r(483, 'encryption or stronger authentication required'),
  /** Too many failed logins. */
  tooManyAuthFailures: r(481, 'too many failed logins; closing connection'),
  /** Internal fault. @see RFC 3977 §3.2.1 */
  internalFault: r(403, 'internal fault, try again later'),
  /** Unknown command. @see RFC 3977 §3.2.1 */
  unknownCommand: r(500, 'unknown command'),
  /** Syntax error. @see RFC 3977 §3.2.1 */
  syntaxError: r(501, 'syntax error in arguments'),
  /** Line too long. @see RFC 3977 §3.1 */
  lineTooLong: r(501, 'line too long'),
  /** Command unavailable (wrong state, already authenticated, TLS already active). @see RFC 3977 §3.2.1 */
  notPermitted: r(502, 'command unavailable'),
  /** Feature not supported. @see RFC 3977 §3.2.1 */
  notSupported: r(503, 'feature not supported'),
  /** RFC 3977 §7.6.1: a LIST keyword recognised, its list not maintained here. */
  dataNotStored: r(503, 'data item not stored'),
  /** Too many unknown commands. */
  tooManyErrors: r(400, 'too many errors; closing connection'),
  /** COMPRESS accepted: the layer starts right after this line. @see RFC 8054 §2.2.2 */
  compressionActive: r(206, 'Compression active'),
  /** COMPRESS could not start (the stream is closing). @see RFC 8054 §2.2.2 */
  compressionFailed: r(403, 'unable to activate compression'),
  /** TLS negotiation refused. @see RFC 4642 §2.2.2 */
  tlsUnavailable: r(580, 'cannot initiate TLS negotiation'),
  /** The idle/total connection limit. */
  tooManyConnections: r(400, 'too many connections, try later'),
} as const;

export type ReplyName = keyof typeof replies;
