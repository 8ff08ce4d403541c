import { ReplyError } from '@gorgon/core';

/**
 * The extended response codes this server sends in brackets after `-ERR`.
 * @see RFC 2449 §8 (RESP-CODES), RFC 3206 (SYS, AUTH)
 */
export type RespCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

/** One single-line POP3 status reply: `+OK text` or `-ERR [CODE] text`. @see RFC 1939 §3 */
export interface Pop3Reply {
  readonly ok: boolean;
  readonly code?: RespCode;
  readonly text: string;
}

const ok = (text: string): Pop3Reply => ({ ok: true, text });
const err = (text: string, code?: RespCode): Pop3Reply => (code ? { ok: false, code, text } : { ok: false, text });

/**
 * Every reply the server sends, by name. Handlers pick one from here and never build status
 * lines inline; {@link formatReply} owns the status indicator, the response code and CRLF.
 * Client-supplied text is never echoed.
 */
export const replies = {
  /** The greeting; `timestamp` (`<…@host>`) only when APOP is offered. @see RFC 1939 §4, §7 */
  greeting: (timestamp?: string): Pop3Reply => ok(timestamp ? `Gorgon POP3 server ready ${timestamp}` : 'Gorgon POP3 server ready'),
  /** USER accepted (for any name: unknown users are not told apart). @see RFC 1939 §7 */
  userAccepted: ok('send PASS'),
  /** PASS without a preceding USER. @see RFC 1939 §7 */
  userFirst: err('send USER first'),
  /** Any failed login: unknown user and wrong password get the same reply. @see RFC 3206 §4 */
  authFailed: err('authentication failed', 'AUTH'),
  /** Too many failed logins: the connection closes. */
  tooManyAuthFailures: err('too many failed logins; closing connection', 'AUTH'),
  /** USER/PASS or PLAIN over cleartext when the server requires TLS. @see RFC 2595 §2, RFC 3206 §4 */
  plaintextRefused: err('plaintext authentication disallowed on non-secure connections; use STLS', 'AUTH'),
  /** A second session while the maildrop is locked. @see RFC 2449 §8.1.1 */
  inUse: err('maildrop already locked by another session', 'IN-USE'),
  /** Logged in again sooner than LOGIN-DELAY allows. @see RFC 2449 §8.1.2 */
  loginDelay: (seconds: number): Pop3Reply => err(`wait ${seconds} seconds between logins`, 'LOGIN-DELAY'),
  /** The authenticator failed (users file unreadable, backend down). @see RFC 3206 §3 */
  authUnavailable: err('authentication temporarily unavailable', 'SYS/TEMP'),
  /** The maildrop could not be opened for a passing reason (I/O). @see RFC 3206 §3 */
  maildropTemporary: err('maildrop temporarily unavailable', 'SYS/TEMP'),
  /** The maildrop cannot be opened for this user at all. @see RFC 3206 §3 */
  maildropPermanent: err('maildrop unavailable', 'SYS/PERM'),
  /** Entered TRANSACTION. @see RFC 1939 §7 */
  maildropReady: (count: number, octets: number): Pop3Reply => ok(`maildrop has ${count} messages (${octets} octets)`),
  /** STAT. @see RFC 1939 §5 */
  stat: (count: number, octets: number): Pop3Reply => ok(`${count} ${octets}`),
  /** LIST without argument: the listing follows. @see RFC 1939 §5 */
  listing: (count: number, octets: number): Pop3Reply => ok(`${count} messages (${octets} octets)`),
  /** LIST n / UIDL n scan line. @see RFC 1939 §5, §7 */
  scanLine: (n: number, value: number | string): Pop3Reply => ok(`${n} ${value}`),
  /** UIDL without argument: the listing follows. @see RFC 1939 §7 */
  uidListing: ok('unique-id listing follows'),
  /** RETR: the message follows. @see RFC 1939 §5 */
  retrieving: (octets: number): Pop3Reply => ok(`${octets} octets`),
  /** TOP: the headers and lines follow. @see RFC 1939 §7 */
  top: ok('top of message follows'),
  /** DELE. @see RFC 1939 §5 */
  deleted: (n: number): Pop3Reply => ok(`message ${n} deleted`),
  /** A message number past the end (or not a number in range). @see RFC 1939 §5 */
  noSuchMessage: (count: number): Pop3Reply => err(`no such message, only ${count} messages in maildrop`),
  /** A message marked as deleted in this session. @see RFC 1939 §5 */
  alreadyDeleted: (n: number): Pop3Reply => err(`message ${n} already deleted`),
  /** A message number or line count that is not a decimal number. */
  badNumber: err('invalid message number or line count'),
  /** The message file vanished under us (removed by another program). @see RFC 3206 §3 */
  messageGone: err('message no longer available', 'SYS/TEMP'),
  /** NOOP. @see RFC 1939 §5 */
  noop: ok(''),
  /** RSET. @see RFC 1939 §5 */
  reset: (count: number, octets: number): Pop3Reply => ok(`maildrop has ${count} messages (${octets} octets)`),
  /** QUIT in AUTHORIZATION. @see RFC 1939 §6 */
  bye: ok('Gorgon POP3 server signing off'),
  /** QUIT in TRANSACTION after the deletions were committed. @see RFC 1939 §6 */
  byeAfterUpdate: (left: number): Pop3Reply => ok(`Gorgon POP3 server signing off (${left} ${left === 1 ? 'message' : 'messages'} left)`),
  /** QUIT in TRANSACTION when removing marked messages failed. @see RFC 1939 §6 */
  updateFailed: err('some deleted messages not removed', 'SYS/TEMP'),
  /** CAPA: the list follows. @see RFC 2449 §5 */
  capabilities: ok('Capability list follows'),
  /** AUTH without a mechanism: the mechanisms follow (RFC 1734 clients probe with it). */
  mechanisms: ok('SASL mechanisms follow'),
  /** AUTH with a mechanism we do not offer. @see RFC 5034 §4 */
  unsupportedMechanism: err('unsupported authentication mechanism'),
  /** The client answered a SASL challenge with `*`. @see RFC 5034 §4 */
  authCancelled: err('authentication cancelled'),
  /** A SASL response that is not valid base64 or not a PLAIN message. @see RFC 4616 §2 */
  badSaslResponse: err('invalid SASL response'),
  /** STLS accepted: the handshake follows. @see RFC 2595 §4 */
  beginTls: ok('Begin TLS negotiation'),
  /** STLS on a connection that is already encrypted. @see RFC 2595 §4 */
  alreadySecure: err('command not permitted when TLS active'),
  /** Unknown verb; the verb itself is not echoed. */
  unknownCommand: err('unknown command'),
  /** Too many unknown commands: the connection closes. */
  tooManyUnknownCommands: err('too many unknown commands; closing connection'),
  /** A known command in a state where it is not valid. @see RFC 1939 §3 */
  wrongState: err('command not valid in this state'),
  /** A command that needs an argument got none. */
  missingArgument: err('missing argument'),
  /** A command that takes no argument got one, or one too many. */
  unexpectedArgument: err('unexpected argument'),
  /** A command line over `maxLineLength`; it is discarded. @see RFC 2449 §4 */
  lineTooLong: err('command line too long'),
  /** RFC 1939's autologout timer fired; nothing is deleted. @see RFC 1939 §3 */
  autologout: err('autologout: idle for too long'),
  /** No login within `loginTimeoutMs`: the connection closes. */
  loginTimeout: err('no login in time; closing connection'),
  /** The listener is shutting down. */
  shuttingDown: err('server shutting down', 'SYS/TEMP'),
  /** Refused by `maxConnections` or `maxConnectionsPerIp`. */
  tooManyConnections: err('too many connections; try again later', 'SYS/TEMP'),
  /** Anything unexpected: the details go to the log with the session id, never to the wire. */
  internalError: err('internal server error', 'SYS/TEMP'),
} as const;

/** The names of {@link replies}. */
export type ReplyName = keyof typeof replies;

/** `+OK text\r\n` or `-ERR [CODE] text\r\n`. @see RFC 1939 §3, RFC 2449 §8 */
export function formatReply(reply: Pop3Reply): string {
  const status = reply.ok ? '+OK' : '-ERR';
  const code = reply.code ? ` [${reply.code}]` : '';
  const text = reply.text ? ` ${reply.text}` : '';
  return `${status}${code}${text}\r\n`;
}

/** The continuation line of a SASL exchange: `+ ` and a base64 challenge. @see RFC 5034 §4 */
export function formatContinuation(challenge = ''): string {
  return `+ ${challenge}\r\n`;
}

/** Thrown by a handler to answer with `reply`; the session goes on. */
export class Pop3ReplyError extends ReplyError<Pop3Reply> {
  constructor(reply: Pop3Reply) {
    super(reply, reply.text);
    this.name = 'Pop3ReplyError';
  }
}
