import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { GroupStatus, OverviewEntry } from './store.js';

/**
 * The disk spool's file formats and its durable-write helpers, one place for both.
 *
 * ```
 * DIR/active             name high low status      (INN's format; status x = removed, high kept)
 * DIR/active.times       name created creator
 * DIR/newsgroups         name<TAB>description
 * DIR/history            <id><TAB>arrived<TAB>group:n,group:n   (one line per accepted article;
 *                        "-" for locations once expired; appended, fsynced)
 * DIR/articles/GROUP/N   the article, byte-exact (a hard link in each further group)
 * DIR/overview/GROUP     N<TAB>subject<TAB>from<TAB>date<TAB>id<TAB>refs<TAB>bytes<TAB>lines<TAB>xref
 * DIR/tmp/               articles being written (removed at open)
 * ```
 * @see INN's active(5), history(5) and overview formats
 */

/** Writes `data` to `path` through a temporary file, fsyncs it and the directory, renames it into place. */
export async function writeAtomic(dir: string, path: string, data: Buffer | string): Promise<void> {
  const tmp = join(dir, 'tmp', `${process.pid}.${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
}

/** Appends `data` and fsyncs before returning. */
export async function appendDurable(path: string, data: string): Promise<void> {
  const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
  try {
    await fh.write(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Fsyncs a directory (a rename or link in it is then durable). */
export async function syncDir(path: string): Promise<void> {
  const fh = await fs.open(path, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Reads a file's complete lines (a torn last line, without its LF, is ignored); missing file: []. */
export async function readLines(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(path, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n');
  lines.pop(); // after the last LF: empty, or a torn line
  return lines;
}

/** One active-file row. */
export interface ActiveRow {
  name: string;
  high: number;
  low: number;
  status: GroupStatus | 'x';
}

export function parseActive(line: string): ActiveRow | undefined {
  const [name, high, low, status] = line.split(' ');
  if (!name || !/^\d+$/.test(high ?? '') || !/^\d+$/.test(low ?? '') || !['y', 'n', 'm', 'x'].includes(status ?? '')) return undefined;
  return { name, high: Number(high), low: Number(low), status: status as ActiveRow['status'] };
}

export function overviewLine(o: OverviewEntry): string {
  return `${o.number}\t${o.subject}\t${o.from}\t${o.date}\t${o.messageId}\t${o.references}\t${o.bytes}\t${o.lines}\t${o.xref}\n`;
}

export function parseOverviewLine(line: string): OverviewEntry | undefined {
  const f = line.split('\t');
  if (f.length !== 9 || !/^\d+$/.test(f[0]!) || !/^\d+$/.test(f[6]!) || !/^\d+$/.test(f[7]!)) return undefined;
  return {
    number: Number(f[0]),
    subject: f[1]!,
    from: f[2]!,
    date: f[3]!,
    messageId: f[4]!,
    references: f[5]!,
    bytes: Number(f[6]),
    lines: Number(f[7]),
    xref: f[8]!,
  };
}

/** One history row: id, arrival, locations (empty once expired). */
export interface HistoryRow {
  id: string;
  arrived: number;
  locations: { group: string; number: number }[];
}

export function historyLine(r: HistoryRow): string {
  const locs = r.locations.length === 0 ? '-' : r.locations.map((l) => `${l.group}:${l.number}`).join(',');
  return `${r.id}\t${r.arrived}\t${locs}\n`;
}

export function parseHistoryLine(line: string): HistoryRow | undefined {
  const [id, arrived, locs] = line.split('\t');
  if (!id || !/^\d+$/.test(arrived ?? '') || locs === undefined) return undefined;
  const locations: HistoryRow['locations'] = [];
  if (locs !== '-') {
    for (const l of locs.split(',')) {
      const colon = l.lastIndexOf(':');
      const n = Number(l.slice(colon + 1));
      if (colon <= 0 || !Number.isSafeInteger(n)) return undefined;
      locations.push({ group: l.slice(0, colon), number: n });
    }
  }
  return { id, arrived: Number(arrived), locations };
}
