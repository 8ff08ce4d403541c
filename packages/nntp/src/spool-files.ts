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
 * DIR/journal            the group-commit journal: per accepted article a line
 *                        `J<TAB>bytes<TAB>` + its history line, then the article's bytes and LF;
 *                        fdatasynced once per batch, dropped at each checkpoint
 * DIR/journal.old        the previous journal while it is being checkpointed
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

/** Links `target` at `path` through a temporary name, replacing whatever `path` was. */
export async function writeReplacing(dir: string, path: string, target: string): Promise<void> {
  const tmp = join(dir, 'tmp', `${process.pid}.${randomBytes(6).toString('hex')}`);
  await fs.link(target, tmp);
  await fs.rename(tmp, path);
}

/** Fsyncs each file or directory (16 at a time); a path gone meanwhile (expired) is skipped. */
export async function syncPaths(paths: Iterable<string>): Promise<void> {
  const todo = [...paths];
  const worker = async (): Promise<void> => {
    for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
      let fh: Awaited<ReturnType<typeof fs.open>>;
      try {
        fh = await fs.open(p, constants.O_RDONLY);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** One journal record: a header line with the history row, then the article's bytes and LF. */
export function journalRecord(row: HistoryRow, data: Buffer): Buffer[] {
  return [Buffer.from(`J\t${data.length}\t${historyLine(row)}`, 'latin1'), data, Buffer.from('\n')];
}

/**
 * The complete records of a journal, in order; a torn last record (the crash came during
 * its batch, which was never acknowledged) and anything after it are ignored.
 * Undefined when there is no journal.
 */
export async function readJournal(path: string): Promise<{ row: HistoryRow; data: Buffer }[] | undefined> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const out: { row: HistoryRow; data: Buffer }[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const eol = buf.indexOf(10, pos);
    if (eol === -1) break;
    const head = buf.toString('latin1', pos, eol);
    const m = /^J\t(\d+)\t(.*)$/.exec(head);
    const row = m ? parseHistoryLine(m[2]!) : undefined;
    const end = eol + 1 + Number(m?.[1] ?? 0);
    if (!m || !row || end >= buf.length || buf[end] !== 10) break;
    out.push({ row, data: buf.subarray(eol + 1, end) });
    pos = end + 1;
  }
  return out;
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
