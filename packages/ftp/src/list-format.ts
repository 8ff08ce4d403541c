import type { FileStat } from './fs.js';
import { escapeLineEnds } from './path.js';
import type { Permission } from './permissions.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

const DAY_MS = 24 * 3600 * 1000;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Largest time a Date holds, in ms either side of 1970. */
const MAX_DATE_MS = 8.64e15;

/** `stat.mtime.getTime()`, from `mtimeMs` when the entry has it (no Date made). */
function wholeMs(stat: FileStat): number {
  const ms = stat.mtimeMs;
  // A Date truncates to whole milliseconds and holds ±8.64e15 ms at most (else it is invalid).
  if (ms !== undefined && Math.abs(ms) <= MAX_DATE_MS) return Math.trunc(ms) + 0; // + 0: no -0
  return stat.mtime.getTime();
}

/** `rwxr-xr-x` for each of the 512 permission values. */
const PERMS: readonly string[] = Array.from({ length: 512 }, (_, m) => {
  let out = '';
  for (let i = 0; i < 9; i++) out += m & (0o400 >> i) ? 'rwxrwxrwx'[i] : '-';
  return out;
});

/** `HH:MM` for each minute of a day, made at first use. */
let clock: string[] | undefined;
function hhmm(minute: number): string {
  clock ??= Array.from({ length: 1440 }, (_, i) => `${two(Math.floor(i / 60))}:${two(i % 60)}`);
  return clock[minute]!;
}

/**
 * Formats the `ls -l` lines of one listing. Dates come from numbers, with the text of each day
 * made once (a directory's files mostly share a few days): no Intl, no `toLocale*`, no Date
 * getters per line.
 */
export class LsFormatter {
  readonly #now: number;
  readonly #days = new Map<number, { monthDay: string; year: string }>();

  constructor(now = Date.now()) {
    this.#now = now;
  }

  /**
   * One `ls -l` line as clients (curl, lftp, wget, basic-ftp, ftplib) parse it: times in UTC,
   * `HH:MM` within six months, the year otherwise; a CR in the name as CR NUL, an LF as "?".
   * @see RFC 959 §4.1.3 (LIST: the format is not specified; this is the de facto one)
   */
  line(stat: FileStat): string {
    const ms = wholeMs(stat); // whole milliseconds: exact in the arithmetic below
    if (!Number.isFinite(ms)) return slowLsLine(stat, this.#now);
    const dayNumber = Math.floor(ms / DAY_MS);
    let day = this.#days.get(dayNumber);
    if (!day) {
      const t = new Date(dayNumber * DAY_MS);
      day = { monthDay: `${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2, ' ')}`, year: ` ${t.getUTCFullYear()}` };
      this.#days.set(dayNumber, day);
    }
    const when = Math.abs(this.#now - ms) < SIX_MONTHS_MS ? hhmm(Math.floor((ms - dayNumber * DAY_MS) / 60_000)) : day.year;
    const head = stat.kind === 'dir' ? 'd' : stat.kind === 'other' ? 'l' : '-';
    const links = stat.kind === 'dir' ? '   2 ftp      ftp      ' : '   1 ftp      ftp      ';
    return `${head + PERMS[stat.mode & 0o777]! + links + String(stat.size).padStart(12)} ${day.monthDay} ${when} ${escapeLineEnds(stat.name)}`;
  }
}

/** The line of an entry whose time is not a number (kept as it always was: "NaN"). */
function slowLsLine(stat: FileStat, now: number): string {
  const t = stat.mtime;
  const recent = Math.abs(now - t.getTime()) < SIX_MONTHS_MS;
  const day = String(t.getUTCDate()).padStart(2, ' ');
  const when = recent ? `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}` : ` ${t.getUTCFullYear()}`;
  const type = stat.kind === 'dir' ? 'd' : stat.kind === 'other' ? 'l' : '-';
  const links = stat.kind === 'dir' ? 2 : 1;
  return `${type}${PERMS[stat.mode & 0o777]} ${String(links).padStart(3)} ftp      ftp      ${String(stat.size).padStart(12)} ${MONTHS[t.getUTCMonth()]} ${day} ${when} ${escapeLineEnds(stat.name)}`;
}

/**
 * One `ls -l` line (see {@link LsFormatter.line}; a listing uses one formatter for all lines).
 * @see RFC 959 §4.1.3 (LIST: the format is not specified; this is the de facto one)
 */
export function formatLsLine(stat: FileStat, now = Date.now()): string {
  return new LsFormatter(now).line(stat);
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
export function permFact(stat: Pick<FileStat, 'kind'>, perms: ReadonlySet<Permission>): string {
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
 * Formats the MLSx entries of one listing: the facts asked for, the `perm` fact of a file and of
 * a directory, and the date text of each day worked out once, not per entry.
 */
export class MlsxFormatter {
  readonly #type: boolean;
  readonly #size: boolean;
  readonly #modify: boolean;
  readonly #unique: boolean;
  readonly #mode: boolean;
  readonly #permDir: string | undefined;
  readonly #permFile: string | undefined;
  readonly #days = new Map<number, string>();
  readonly #modes = new Map<number, string>();

  constructor(facts: ReadonlySet<MlstFact>, perms: ReadonlySet<Permission>) {
    this.#type = facts.has('type');
    this.#size = facts.has('size');
    this.#modify = facts.has('modify');
    this.#unique = facts.has('unique');
    this.#mode = facts.has('unix.mode');
    const perm = facts.has('perm');
    this.#permDir = perm ? `perm=${permFact({ kind: 'dir' }, perms)};` : undefined;
    this.#permFile = perm ? `perm=${permFact({ kind: 'file' }, perms)};` : undefined;
  }

  /**
   * One MLSx entry: `fact=value;…; name` (no leading space: MLST adds it). A CR in the name
   * is sent as CR NUL, an LF as "?" (see escapeLineEnds): no name ends an entry early.
   * @see RFC 3659 §7.2, RFC 2640 §3.1
   */
  line(stat: FileStat, name: string = stat.name, type?: 'cdir' | 'pdir'): string {
    let out = '';
    const dir = stat.kind === 'dir';
    if (this.#type) out += type ? `type=${type};` : dir ? 'type=dir;' : stat.kind === 'file' ? 'type=file;' : 'type=OS.unix=symlink;';
    if (this.#size && !dir) out += `size=${stat.size};`;
    if (this.#modify) out += `modify=${this.#time(stat)};`;
    const perm = dir ? this.#permDir : this.#permFile;
    if (perm !== undefined) out += perm;
    if (this.#unique) out += `unique=${stat.id};`;
    if (this.#mode) {
      const bits = stat.mode & 0o7777;
      let mode = this.#modes.get(bits);
      if (mode === undefined) {
        mode = `unix.mode=0${bits.toString(8)};`;
        this.#modes.set(bits, mode);
      }
      out += mode;
    }
    return `${out} ${escapeLineEnds(name)}`;
  }

  /** formatTime, with the date part of each day made once. */
  #time(stat: FileStat): string {
    const ms = wholeMs(stat);
    if (!Number.isFinite(ms)) return formatTime(stat.mtime);
    const dayNumber = Math.floor(ms / DAY_MS);
    let day = this.#days.get(dayNumber);
    if (day === undefined) {
      const t = new Date(dayNumber * DAY_MS);
      day = `${t.getUTCFullYear()}${two(t.getUTCMonth() + 1)}${two(t.getUTCDate())}`;
      this.#days.set(dayNumber, day);
    }
    const second = Math.floor((ms - dayNumber * DAY_MS) / 1000);
    return day + TWO[Math.floor(second / 3600)]! + TWO[Math.floor(second / 60) % 60]! + TWO[second % 60]!;
  }
}

/** `00` to `99`. */
const TWO: readonly string[] = Array.from({ length: 100 }, (_, i) => two(i));

/**
 * One MLSx entry: `fact=value;…; name` (no leading space: MLST adds it). A listing uses one
 * {@link MlsxFormatter} for all its entries.
 * @see RFC 3659 §7.2
 */
export function formatMlsxLine(
  stat: FileStat,
  facts: ReadonlySet<MlstFact>,
  perms: ReadonlySet<Permission>,
  name: string = stat.name,
  type?: 'cdir' | 'pdir',
): string {
  return new MlsxFormatter(facts, perms).line(stat, name, type);
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

/**
 * {@link joinLines} over entries that come in batches (a listing sent while it is read): each
 * batch is formatted at once, and only whole pieces are awaited, not every line.
 */
export async function* joinBatches<T>(
  batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>,
  line: (item: T) => string,
  pieceBytes = 64 * 1024,
): AsyncGenerator<string> {
  let piece = '';
  for await (const batch of batches) {
    for (const item of batch) {
      piece += `${line(item)}\r\n`;
      if (piece.length >= pieceBytes) {
        yield piece;
        piece = '';
      }
    }
  }
  if (piece.length > 0) yield piece;
}
