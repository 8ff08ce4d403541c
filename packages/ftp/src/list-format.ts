import type { FileStat } from './fs.js';
import type { Permission } from './permissions.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function modeString(stat: FileStat): string {
  const type = stat.kind === 'dir' ? 'd' : stat.kind === 'other' ? 'l' : '-';
  const m = stat.mode;
  const bits = [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1];
  const chars = 'rwxrwxrwx';
  let out = type;
  for (let i = 0; i < 9; i++) out += m & bits[i]! ? chars[i] : '-';
  return out;
}

/**
 * One `ls -l` line as clients (curl, lftp, wget, basic-ftp, ftplib) parse it: times in UTC,
 * `HH:MM` within six months, the year otherwise.
 * @see RFC 959 §4.1.3 (LIST: the format is not specified; this is the de facto one)
 */
export function formatLsLine(stat: FileStat, now = Date.now()): string {
  const t = stat.mtime;
  const recent = Math.abs(now - t.getTime()) < SIX_MONTHS_MS;
  const day = String(t.getUTCDate()).padStart(2, ' ');
  const when = recent ? `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}` : ` ${t.getUTCFullYear()}`;
  const links = stat.kind === 'dir' ? 2 : 1;
  return `${modeString(stat)} ${String(links).padStart(3)} ftp      ftp      ${String(stat.size).padStart(12)} ${MONTHS[t.getUTCMonth()]} ${day} ${when} ${stat.name}`;
}

/** `YYYYMMDDHHMMSS` in UTC (MDTM, MLSx `modify`). @see RFC 3659 §2.3 */
export function formatTime(date: Date): string {
  return (
    `${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}` +
    `${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`
  );
}

/** Parses `YYYYMMDDHHMMSS[.sss]` (UTC), or returns undefined. @see RFC 3659 §2.3 */
export function parseTime(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** MLSx facts this server knows, in the order it sends them. @see RFC 3659 §7.5 */
export const MLST_FACTS = ['type', 'size', 'modify', 'perm', 'unique', 'unix.mode'] as const;
export type MlstFact = (typeof MLST_FACTS)[number];

/** The `perm` fact: what this user may do with the entry. @see RFC 3659 §7.5.5 */
export function permFact(stat: FileStat, perms: ReadonlySet<Permission>): string {
  let out = '';
  if (stat.kind === 'dir') {
    if (perms.has('store')) out += 'c';
    if (perms.has('delete')) out += 'd';
    if (perms.has('cwd')) out += 'e';
    if (perms.has('rename')) out += 'f';
    if (perms.has('list')) out += 'l';
    if (perms.has('mkdir')) out += 'm';
    if (perms.has('delete')) out += 'p';
  } else {
    if (perms.has('append')) out += 'a';
    if (perms.has('delete')) out += 'd';
    if (perms.has('rename')) out += 'f';
    if (perms.has('retrieve')) out += 'r';
    if (perms.has('store')) out += 'w';
  }
  return out;
}

/**
 * One MLSx entry: `fact=value;…; name` (no leading space: MLST adds it).
 * @see RFC 3659 §7.2
 */
export function formatMlsxLine(
  stat: FileStat,
  facts: ReadonlySet<MlstFact>,
  perms: ReadonlySet<Permission>,
  name: string = stat.name,
  type?: 'cdir' | 'pdir',
): string {
  let out = '';
  if (facts.has('type')) out += `type=${type ?? (stat.kind === 'dir' ? 'dir' : stat.kind === 'file' ? 'file' : 'OS.unix=symlink')};`;
  if (facts.has('size') && stat.kind !== 'dir') out += `size=${stat.size};`;
  if (facts.has('modify')) out += `modify=${formatTime(stat.mtime)};`;
  if (facts.has('perm')) out += `perm=${permFact(stat, perms)};`;
  if (facts.has('unique')) out += `unique=${stat.id};`;
  if (facts.has('unix.mode')) out += `unix.mode=0${(stat.mode & 0o7777).toString(8)};`;
  return `${out} ${name}`;
}

/**
 * Joins many lines into CRLF-terminated text in pieces of about `pieceBytes`, so a 10,000-entry
 * listing is a few writes rather than one per entry or one huge string.
 */
export function* joinLines(lines: Iterable<string>, pieceBytes = 64 * 1024): Generator<string> {
  let piece = '';
  for (const line of lines) {
    piece += `${line}\r\n`;
    if (piece.length >= pieceBytes) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}
