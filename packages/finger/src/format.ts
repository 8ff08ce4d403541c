import type { FingerUser } from './directory.js';
import { replies } from './replies.js';

/**
 * What the formatter needs of the limits.
 * @see RFC 1288 §3.1
 */
export interface FormatLimits {
  lineWidth: number;
  maxPlanBytes: number;
  maxPlanLines: number;
}

const TAB_STOP = 8;
/** Where the right-hand field of a two-field line of a long entry starts. */
const RIGHT_COLUMN = 40;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The reply on the wire: every line ends in CRLF. The only place line ends are written.
 * @see RFC 1288 §2.2
 */
export function toWire(lines: readonly string[]): string {
  return lines.map((line) => `${line}\r\n`).join('');
}

/**
 * One line of user data made safe for any terminal: tabs expanded, accents on Latin letters
 * dropped (`José` → `Jose`), control characters in caret notation (`\x1b` → `^[`, DEL → `^?`),
 * and any other non-ASCII character as `\uXXXX`. The result is printable ASCII only: a `.plan`
 * cannot move the cursor, clear the screen or retitle the reader's terminal.
 * @see RFC 1288 §2.2 (ASCII data), §3.3 (client security)
 */
export function safeText(text: string): string {
  // Most user data is already printable ASCII: nothing to do (and Unicode normalisation, twice
  // per line, was a tenth of the server's time per query).
  if (PRINTABLE_ASCII.test(text)) return text;
  const plain = text
    .normalize('NFD')
    .replace(/(?<=[A-Za-z])\p{Mn}+/gu, '')
    .normalize('NFC');
  let out = '';
  for (const ch of expandTabs(plain)) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code < 0x20) out += `^${String.fromCharCode(code + 0x40)}`;
    else if (code === 0x7f) out += '^?';
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
}

function expandTabs(line: string): string {
  if (!line.includes('\t')) return line;
  let out = '';
  for (const ch of line) {
    if (ch === '\t') out += ' '.repeat(TAB_STOP - (out.length % TAB_STOP));
    else out += ch;
  }
  return out;
}

/**
 * `text` cut to `width` columns, ending in `...` when it was longer.
 * @see RFC 1288 §2.2
 */
export function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 3 ? text.slice(0, width) : `${text.slice(0, width - 3)}...`;
}

/**
 * Breaks one safe line at spaces into lines of at most `width`; a longer word is split.
 * @see RFC 1288 §2.2
 */
export function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const space = rest.lastIndexOf(' ', width);
    const at = space > 0 ? space : width;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(space > 0 ? at + 1 : at);
  }
  out.push(rest);
  return out;
}

/**
 * A multi-line text from a user (plan, project, a relayed reply) as safe lines: CRLF or LF line
 * ends, every line escaped and wrapped to `width`, at most `maxLines` lines and `maxBytes`
 * bytes, with a `[cut]` line when anything was left out.
 * @see RFC 1288 §3.2.4 (user information files), §3.3
 */
export function textBlock(text: string, options: { width: number; maxLines: number; maxBytes: number }): string[] {
  let body = text;
  let wasCut = false;
  if (Buffer.byteLength(body) > options.maxBytes) {
    // A multi-byte character split by the cut decodes to U+FFFD: drop it.
    body = Buffer.from(body)
      .subarray(0, options.maxBytes)
      .toString('utf8')
      .replace(/\ufffd+$/, '');
    wasCut = true;
  }
  const out: string[] = [];
  const rawLines = body.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  outer: for (const raw of rawLines) {
    for (const piece of wrap(safeText(raw).trimEnd(), options.width)) {
      if (out.length >= options.maxLines) {
        wasCut = true;
        break outer;
      }
      out.push(piece);
    }
  }
  if (wasCut) out.push(replies.textCut);
  return out;
}

/**
 * An ISO 8601 time as `2024-03-01 12:00 UTC`; text that is no date is shown escaped.
 * @see RFC 1288 §2.5.2
 */
export function formatTime(iso: string, withZone = true): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return cut(safeText(iso), 25);
  const text = date.toISOString().slice(0, 16).replace('T', ' ');
  return withZone ? `${text} UTC` : text;
}

/**
 * Idle time for the list column: `''` under a minute, `5m`, `1:02`, `3d`.
 * @see RFC 1288 §2.5.1
 */
export function shortIdle(seconds: number | undefined): string {
  if (seconds === undefined || seconds < 60) return '';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
  return `${Math.floor(minutes / (24 * 60))}d`;
}

/**
 * Idle time in words: `45 seconds`, `3 minutes`, `1 hour 2 minutes`, `2 days 3 hours`.
 * @see RFC 1288 §2.5.2
 */
export function longIdle(seconds: number): string {
  const unit = (n: number, name: string): string => `${n} ${name}${n === 1 ? '' : 's'}`;
  const s = Math.floor(seconds);
  if (s < 60) return unit(s, 'second');
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return unit(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? unit(hours, 'hour') : `${unit(hours, 'hour')} ${unit(minutes % 60, 'minute')}`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? unit(days, 'day') : `${unit(days, 'day')} ${unit(hours % 24, 'hour')}`;
}

const LIST_COLUMNS = [
  { title: 'Login', width: 9 },
  { title: 'Name', width: 20 },
  { title: 'Tty', width: 8 },
  { title: 'Idle', width: 5, right: true },
  { title: 'Login Time', width: 16 },
] as const;

function row(cells: readonly string[], lineWidth: number): string {
  const fixed = LIST_COLUMNS.map((col, i) => {
    const text = cut(cells[i] ?? '', col.width);
    return 'right' in col ? text.padStart(col.width) : text.padEnd(col.width);
  }).join(' ');
  const used = fixed.length + 1;
  const last = cut(cells[LIST_COLUMNS.length] ?? '', Math.max(0, lineWidth - used));
  return `${fixed} ${last}`.trimEnd();
}

function officeText(user: FingerUser): string {
  return [user.office, user.officePhone].filter((s) => s !== undefined && s !== '').join(', ');
}

/**
 * The `{C}` reply: one line per user with login, name, tty (`-` when not logged in), idle
 * time, login time (or last login) and office, under a header line.
 * @see RFC 1288 §2.5.1
 */
export function formatList(users: readonly FingerUser[], limits: FormatLimits & { maxListEntries: number }): string[] {
  if (users.length === 0) return [replies.noUsers];
  const lines = [row([...LIST_COLUMNS.map((c) => c.title), 'Office'], limits.lineWidth)];
  for (const user of users.slice(0, limits.maxListEntries)) {
    lines.push(
      row(
        [
          safeText(user.login),
          safeText(user.name ?? ''),
          user.loggedIn ? safeText(user.tty ?? '') : '-',
          user.loggedIn ? shortIdle(user.idleSeconds) : '',
          user.lastLogin ? formatTime(user.lastLogin, false) : '',
          safeText(officeText(user)),
        ],
        limits.lineWidth,
      ),
    );
  }
  if (users.length > limits.maxListEntries) lines.push(replies.moreUsers(users.length - limits.maxListEntries));
  return lines;
}

function pair(left: string | undefined, right: string | undefined, width: number): string[] {
  if (left === undefined) return right === undefined ? [] : [cut(right, width)];
  if (right === undefined) return [cut(left, width)];
  if (left.length < RIGHT_COLUMN) return [cut(`${left.padEnd(RIGHT_COLUMN)}${right}`, width)];
  return [cut(left, width), cut(right, width)];
}

function labelled(label: string, value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : `${label}: ${safeText(value)}`;
}

function status(user: FingerUser): string {
  const tty = user.tty ? ` on ${safeText(user.tty)}` : '';
  if (user.loggedIn) {
    const since = user.lastLogin ? `On since ${formatTime(user.lastLogin)}` : 'Logged in';
    const idle = user.idleSeconds !== undefined && user.idleSeconds >= 1 ? `, idle ${longIdle(user.idleSeconds)}` : '';
    return `${since}${tty}${idle}`;
  }
  return user.lastLogin ? `Last login ${formatTime(user.lastLogin)}${tty}` : 'Never logged in.';
}

/**
 * The `{U}` reply for one user, after BSD finger's long format: login and name, directory and
 * shell, office and phones, login status, project and plan. `/W` adds the home phone, which
 * is left out of the plain answer as the more private atom.
 * @see RFC 1288 §2.5.2, §2.5.4 (`/W`), §3.2.3 (which atoms are given out)
 */
export function formatEntry(user: FingerUser, options: FormatLimits & { verbose: boolean }): string[] {
  const width = options.lineWidth;
  const lines = [
    ...pair(labelled('Login', user.login), labelled('Name', user.name), width),
    ...pair(labelled('Directory', user.directory), labelled('Shell', user.shell), width),
    ...pair(labelled('Office', officeText(user)), options.verbose ? labelled('Home Phone', user.homePhone) : undefined, width),
    cut(status(user), width),
  ];
  if (user.project) {
    const first = user.project.replace(/\r\n/g, '\n').split('\n')[0] ?? '';
    lines.push(cut(`Project: ${safeText(first)}`, width));
  }
  if (user.plan) {
    lines.push('Plan:');
    lines.push(...textBlock(user.plan, { width, maxLines: options.maxPlanLines, maxBytes: options.maxPlanBytes }));
  } else {
    lines.push('No Plan.');
  }
  return lines;
}
