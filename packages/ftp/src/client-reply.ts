import { FtpClientError } from './client-errors.js';

/**
 * One FTP reply: its three-digit code and its text. For a multi-line reply `lines` holds every
 * line with the `xyz-` / `xyz ` prefix of the first and last line removed.
 * @see RFC 959 §4.2
 */
export interface FtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

/** The five reply groups by first digit. @see RFC 959 §4.2.1 */
export type ReplyGroup = 'preliminary' | 'completion' | 'intermediate' | 'transient' | 'permanent';

/** The group of a reply code (1yz … 5yz). */
export function replyGroup(code: number): ReplyGroup {
  const first = Math.floor(code / 100);
  if (first === 1) return 'preliminary';
  if (first === 2) return 'completion';
  if (first === 3) return 'intermediate';
  if (first === 4) return 'transient';
  return 'permanent';
}

/** The reply's text on one line (lines joined by a space), for messages. */
export function replyText(reply: FtpReply): string {
  return reply.lines
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ');
}

/** Limits that keep a hostile server from growing one reply without bound. */
export interface ReplyParserLimits {
  /** Most lines in one multi-line reply. Default 100,000 (a long STAT listing). */
  maxLines: number;
}

const REPLY_LINE = /^([1-5]\d\d)([ -]|$)/;

/**
 * Turns control-connection lines into replies. A reply is one line `xyz text`, or a first line
 * `xyz-text`, any lines, and a last line that starts with the same code and a space (a line of
 * the bare code alone is accepted as the end too, as some servers send `226`). Inner lines are
 * kept as they are, except that a repeated `xyz-` prefix (ProFTPD, IIS) is removed.
 * @see RFC 959 §4.2 (multi-line replies)
 */
export class ReplyParser {
  readonly #limits: ReplyParserLimits;
  #code: string | undefined;
  #lines: string[] = [];

  constructor(limits: Partial<ReplyParserLimits> = {}) {
    this.#limits = { maxLines: 100_000, ...limits };
  }

  /** True while inside a multi-line reply. */
  get pending(): boolean {
    return this.#code !== undefined;
  }

  /**
   * Feeds one line (without its line end). Returns the reply it completes, if any.
   * @throws FtpClientError `protocol` for a line that cannot start a reply, or an over-long reply.
   */
  push(line: string): FtpReply | undefined {
    const code = this.#code;
    if (code !== undefined) {
      if (line === code || (line.startsWith(code) && line.charCodeAt(3) === 0x20)) {
        this.#lines.push(line.slice(4));
        return this.#finish(code);
      }
      if (this.#lines.length >= this.#limits.maxLines) {
        this.#reset();
        throw new FtpClientError('protocol', `a multi-line reply passed ${this.#limits.maxLines} lines`);
      }
      this.#lines.push(line.startsWith(code) && line.charCodeAt(3) === 0x2d ? line.slice(4) : line);
      return undefined;
    }
    const match = REPLY_LINE.exec(line);
    if (!match) {
      throw new FtpClientError('protocol', `the server sent a line that is not an FTP reply: ${JSON.stringify(line.slice(0, 80))}`);
    }
    const text = line.slice(4);
    if (match[2] === '-') {
      this.#code = match[1]!;
      this.#lines = [text];
      return undefined;
    }
    return { code: Number(match[1]), lines: [text] };
  }

  #finish(code: string): FtpReply {
    const reply = { code: Number(code), lines: this.#lines };
    this.#reset();
    return reply;
  }

  #reset(): void {
    this.#code = undefined;
    this.#lines = [];
  }
}

/**
 * Formats a reply as a server would send it: the inverse of {@link ReplyParser}, used by tests and
 * fake servers. Inner lines that could be taken for the end line are indented by a space.
 */
export function formatReply(reply: FtpReply): string {
  const { code, lines } = reply;
  if (lines.length <= 1) return `${code} ${lines[0] ?? ''}\r\n`;
  const inner = lines.slice(1, -1).map((l) => (REPLY_LINE.test(l) && l.startsWith(String(code)) ? ` ${l}` : l));
  return [`${code}-${lines[0]}`, ...inner, `${code} ${lines[lines.length - 1]}`].map((l) => `${l}\r\n`).join('');
}

/**
 * The features of a FEAT reply, by upper-case name, each with its parameters (`MLST` →
 * `type*;size*;modify*;`, `REST` → `STREAM`). @see RFC 2389 §3.2
 */
export function parseFeatures(reply: FtpReply): Map<string, string> {
  const features = new Map<string, string>();
  if (reply.code !== 211) return features;
  for (const line of reply.lines.slice(1, -1)) {
    const text = line.trim();
    if (text === '') continue;
    const space = text.indexOf(' ');
    const name = (space === -1 ? text : text.slice(0, space)).toUpperCase();
    features.set(name, space === -1 ? '' : text.slice(space + 1).trim());
  }
  return features;
}

/** A host and port for a passive data connection. */
export interface PassiveAddress {
  host: string;
  port: number;
}

/**
 * The address of a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` reply; the parentheses are
 * optional, as RFC 1123 §4.1.2.6 tells clients to scan for the six numbers.
 * @see RFC 959 §4.1.2 (PASV)
 */
export function parsePasvReply(reply: FtpReply): PassiveAddress {
  const match = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(replyText(reply));
  const n = match ? match.slice(1).map(Number) : [];
  if (!match || n.some((v) => v > 255)) {
    throw new FtpClientError('protocol', `cannot read the address in the PASV reply: ${JSON.stringify(replyText(reply))}`);
  }
  const [a, b, c, d, p1, p2] = n as [number, number, number, number, number, number];
  const port = p1 * 256 + p2;
  if (port === 0) throw new FtpClientError('protocol', 'the PASV reply names port 0');
  return { host: `${a}.${b}.${c}.${d}`, port };
}

/**
 * The port of a `229 Entering Extended Passive Mode (|||port|)` reply. The delimiter is any
 * printable character, repeated. @see RFC 2428 §3
 */
export function parseEpsvReply(reply: FtpReply): number {
  const match = /\(([!-~])\1\1(\d{1,5})\1\)/.exec(replyText(reply));
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw new FtpClientError('protocol', `cannot read the port in the EPSV reply: ${JSON.stringify(replyText(reply))}`);
  }
  return port;
}
