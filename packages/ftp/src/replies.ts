import { ReplyError } from '@gorgon/core';
import { escapeLineEnds } from './path.js';

/** One FTP reply: a three-digit code and one or more lines of text. @see RFC 959 §4.2 */
export interface FtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

/** A reply with one line, or several (sent as a multi-line reply). */
export function reply(code: number, ...lines: string[]): FtpReply {
  return { code, lines: lines.length === 0 ? [''] : lines };
}

/**
 * The wire form: `code text` for one line; `code-first`, the middle lines, `code last` for
 * several. A middle line that starts with a digit is indented one space so that no client
 * mistakes it for the end, and no line holds a bare CR or an LF. @see RFC 959 §4.2
 */
export function formatReply(r: FtpReply): string {
  const { code, lines } = r;
  // Every line passes escapeLineEnds: a file name in it (257, 250 CWD, STAT, MLST, 150 RETR)
  // cannot end the line, nor the reply, early. @see RFC 2640 §3.1
  if (lines.length === 1) return `${code} ${escapeLineEnds(lines[0]!)}\r\n`;
  let out = `${code}-${escapeLineEnds(lines[0]!)}\r\n`;
  for (let i = 1; i < lines.length - 1; i++) {
    const line = escapeLineEnds(lines[i]!);
    out += /^\d/.test(line) ? ` ${line}\r\n` : `${line}\r\n`;
  }
  return `${out}${code} ${escapeLineEnds(lines[lines.length - 1]!)}\r\n`;
}

/** Thrown by a handler to answer with `reply` and go on. */
export class FtpReplyError extends ReplyError<FtpReply> {}

/** Every reply the server sends, by name. Handlers never build a code into a string. */
export const replies = {
  // 1xx: preliminary. @see RFC 959 §4.2.1
  openingData: (what: string) => reply(150, what),
  dataAlreadyOpen: (what: string) => reply(125, what),
  // 2xx
  ok: (text = 'Command okay.') => reply(200, text),
  typeSet: (type: string) => reply(200, `Type set to ${type}.`),
  superfluous: (text = 'Command not needed.') => reply(202, text),
  status: (lines: string[]) => reply(211, ...lines),
  fileStatus: (...lines: string[]) => reply(213, ...lines),
  help: (lines: string[]) => reply(214, ...lines),
  system: () => reply(215, 'UNIX Type: L8'),
  greeting: (banner: string) => reply(220, banner),
  hostAccepted: (host: string) => reply(220, `Host ${host} accepted.`),
  readyForNewUser: () => reply(220, 'Ready for a new user.'),
  goodbye: () => reply(221, 'Goodbye.'),
  transferComplete: (text = 'Transfer complete.') => reply(226, text),
  abortOk: () => reply(226, 'ABOR command successful.'),
  enteringPassive: (hostPort: string) => reply(227, `Entering Passive Mode (${hostPort}).`),
  enteringExtendedPassive: (port: number) => reply(229, `Entering Extended Passive Mode (|||${port}|).`),
  loggedIn: (text = 'Login successful.') => reply(230, text),
  authOk: () => reply(234, 'AUTH TLS successful.'),
  fileActionOk: (text: string) => reply(250, text),
  mlst: (lines: string[]) => reply(250, ...lines),
  created: (quoted: string) => reply(257, `${quoted} created.`),
  currentDir: (quoted: string) => reply(257, `${quoted} is the current directory.`),
  // 3xx
  needPassword: () => reply(331, 'Please specify the password.'),
  restarting: (offset: number) => reply(350, `Restarting at ${offset}. Send STORE or RETRIEVE to initiate transfer.`),
  readyForDestination: () => reply(350, 'Ready for destination name.'),
  // 4xx
  closing: (text: string) => reply(421, text),
  cannotOpenData: (text = "Can't open data connection.") => reply(425, text),
  transferAborted: (text = 'Connection closed; transfer aborted.') => reply(426, text),
  actionNotTaken: (text: string) => reply(450, text),
  localError: (text = 'Requested action aborted: local error in processing.') => reply(451, text),
  // 5xx
  unknownCommand: (verb: string) => reply(500, `Unknown command "${verb}".`),
  lineTooLong: () => reply(500, 'Command line too long.'),
  syntax: (text: string) => reply(501, text),
  notImplemented: (text = 'Command not implemented.') => reply(502, text),
  badSequence: (text: string) => reply(503, text),
  parameterNotImplemented: (text: string) => reply(504, text),
  extendedNotSupported: (families: string) => reply(522, `Network protocol not supported, use (${families}).`),
  tlsRequiredOnData: () => reply(522, 'Data connections must be encrypted: use PROT P.'),
  notLoggedIn: (text = 'Please login with USER and PASS.') => reply(530, text),
  loginIncorrect: () => reply(530, 'Login incorrect.'),
  protectionNotSupported: (level: string) => reply(536, `PROT ${level} not supported.`),
  tlsUnavailable: () => reply(431, 'TLS is not configured on this server.'),
  fileUnavailable: (text: string) => reply(550, text),
  permissionDenied: () => reply(550, 'Permission denied.'),
  restInvalid: (text: string) => reply(554, text),
  /** A full disk (ENOSPC, EDQUOT). @see RFC 959 §4.2 (452) */
  insufficientStorage: () => reply(452, 'Insufficient storage space in system.'),
  storageExceeded: (text: string) => reply(552, text),
  nameNotAllowed: (text: string) => reply(553, text),
} as const;
