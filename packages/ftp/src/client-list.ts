/**
 * Parsing of directory listings: MLSD facts (RFC 3659 §7), `LIST` in the Unix `ls -l` form most
 * servers send, and the DOS form of IIS and other Windows servers. Listings are data from the
 * server, so a line that matches no form is skipped, never fatal.
 */

/** What a listed name is. */
export type FtpEntryType = 'file' | 'dir' | 'link' | 'other';

/** One entry of a directory listing. */
export interface FtpEntry {
  name: string;
  type: FtpEntryType;
  /** Size in bytes, when the listing gives it. */
  size?: number;
  /** Last modification time, when the listing gives it (MLSD: UTC; LIST: as the server shows it). */
  modifiedAt?: Date;
  /** A symbolic link's target (LIST `name -> target`). */
  target?: string;
  /** MLSD facts by lower-case name (`perm`, `unique`, `unix.mode`, …). */
  facts?: Record<string, string>;
}

/**
 * Parses an MLSD/MLST time value `YYYYMMDDHHMMSS[.sss]` (always UTC). @see RFC 3659 §2.3
 * @returns undefined for a malformed value.
 */
export function parseMlsdTime(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
}

/**
 * One MLSD line: `fact=value;fact=value; name`. The current and parent directory entries
 * (`type=cdir`, `type=pdir`) are returned like others; callers usually skip them.
 * @see RFC 3659 §7.2
 */
export function parseMlsdLine(line: string): FtpEntry | undefined {
  const space = line.indexOf(' ');
  if (space === -1) return undefined;
  const name = line.slice(space + 1);
  if (name === '') return undefined;
  const facts: Record<string, string> = {};
  for (const fact of line.slice(0, space).split(';')) {
    const eq = fact.indexOf('=');
    if (eq <= 0) continue;
    facts[fact.slice(0, eq).toLowerCase()] = fact.slice(eq + 1);
  }
  const kind = (facts.type ?? '').toLowerCase();
  const type: FtpEntryType =
    kind === 'file'
      ? 'file'
      : kind === 'dir' || kind === 'cdir' || kind === 'pdir'
        ? 'dir'
        : kind.endsWith('=symlink') || kind === 'os.unix=slink' || kind.startsWith('os.unix=symlink')
          ? 'link'
          : 'other';
  const entry: FtpEntry = { name, type, facts };
  const size = facts.size ?? facts.sizd;
  if (size !== undefined && /^\d+$/.test(size)) entry.size = Number(size);
  const modified = facts.modify === undefined ? undefined : parseMlsdTime(facts.modify);
  if (modified) entry.modifiedAt = modified;
  return entry;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// mode, then (lazily) link count/owner/group, then size, month, day, time-or-year, one space, name.
const UNIX_LINE = /^([-bcdlpsDw])[-rwxsStTlL?]{9}[.+@]?\s+(?:.*?\s)?(\d+)\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}:\d{2}|\d{4})\s(.*)$/;
const DOS_LINE = /^(\d{1,2})-(\d{1,2})-(\d{2}|\d{4})\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?\s+(<DIR>|\d+)\s+(.+)$/;

/**
 * One `LIST` line in the Unix `ls -l` form, e.g.
 * `-rw-r--r--   1 ftp ftp  1234 Mar  4 12:30 notes.txt` or `lrwxrwxrwx 1 0 0 7 Jan 1 2020 a -> b`.
 * A time without a year means the last twelve months, counted back from `now`.
 */
export function parseUnixListLine(line: string, now: Date = new Date()): FtpEntry | undefined {
  const m = UNIX_LINE.exec(line);
  if (!m) return undefined;
  const [, mode, size, monthName, day, timeOrYear, rest] = m as unknown as [string, string, string, string, string, string, string];
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month === -1 || rest === '') return undefined;
  const type: FtpEntryType = mode === '-' ? 'file' : mode === 'd' ? 'dir' : mode === 'l' ? 'link' : 'other';
  let name = rest;
  let target: string | undefined;
  if (type === 'link') {
    const arrow = rest.indexOf(' -> ');
    if (arrow !== -1) {
      name = rest.slice(0, arrow);
      target = rest.slice(arrow + 4);
    }
  }
  const entry: FtpEntry = { name, type, size: Number(size) };
  if (target !== undefined) entry.target = target;
  let year: number;
  let hours = 0;
  let minutes = 0;
  if (timeOrYear.includes(':')) {
    [hours, minutes] = timeOrYear.split(':').map(Number) as [number, number];
    year = now.getUTCFullYear();
    // ls shows the time only for recent files; a date "in the future" is last year's.
    if (Date.UTC(year, month, Number(day), hours, minutes) > now.getTime() + 24 * 3600 * 1000) year--;
  } else {
    year = Number(timeOrYear);
  }
  entry.modifiedAt = new Date(Date.UTC(year, month, Number(day), hours, minutes));
  return entry;
}

/** One `LIST` line in the DOS/IIS form, e.g. `03-04-24  12:30PM       1234 notes.txt` or `<DIR>`. */
export function parseDosListLine(line: string): FtpEntry | undefined {
  const m = DOS_LINE.exec(line);
  if (!m) return undefined;
  const [, mm, dd, yy, hh, mi, ampm, sizeOrDir, name] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  let year = Number(yy);
  if (yy.length === 2) year += year < 70 ? 2000 : 1900;
  let hours = Number(hh) % (ampm ? 12 : 24);
  if (ampm && ampm.toUpperCase() === 'PM') hours += 12;
  const entry: FtpEntry = sizeOrDir.toUpperCase() === '<DIR>' ? { name, type: 'dir' } : { name, type: 'file', size: Number(sizeOrDir) };
  entry.modifiedAt = new Date(Date.UTC(year, Number(mm) - 1, Number(dd), hours, Number(mi)));
  return entry;
}

/**
 * Parses a whole `LIST` reply body, trying the Unix form then the DOS form on each line; the
 * `total N` line, blank lines and unknown forms are skipped, as are `.` and `..`.
 */
export function parseList(text: string, now: Date = new Date()): FtpEntry[] {
  const entries: FtpEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || /^total\s+\d+/i.test(line)) continue;
    const entry = parseUnixListLine(line, now) ?? parseDosListLine(line);
    if (entry && entry.name !== '.' && entry.name !== '..') entries.push(entry);
  }
  return entries;
}

/** Parses a whole MLSD reply body; `cdir`/`pdir` entries are left out. @see RFC 3659 §7 */
export function parseMlsd(text: string): FtpEntry[] {
  const entries: FtpEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const entry = parseMlsdLine(line);
    if (!entry) continue;
    const kind = entry.facts?.type?.toLowerCase();
    if (kind === 'cdir' || kind === 'pdir' || entry.name === '.' || entry.name === '..') continue;
    entries.push(entry);
  }
  return entries;
}

/** Parses an NLST reply body: one name per line; servers may prefix the directory, kept as sent. */
export function parseNlst(text: string): string[] {
  return text
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l !== '' && l !== '.' && l !== '..');
}
