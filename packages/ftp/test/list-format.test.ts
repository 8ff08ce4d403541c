import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileStat } from '../src/fs.js';
import {
  formatLsLine,
  formatMlsxLine,
  formatTime,
  LsFormatter,
  MLST_FACTS,
  MlsxFormatter,
  permFact,
  type MlstFact,
} from '../src/list-format.js';
import { parsePermissions, type Permission } from '../src/permissions.js';

// The formats as they were written first, one template per line: the formatters that cache
// day texts must give exactly these bytes (clients parse them).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
function referenceLs(stat: FileStat, now: number): string {
  const t = stat.mtime;
  const recent = Math.abs(now - t.getTime()) < 182 * 24 * 3600 * 1000;
  const day = String(t.getUTCDate()).padStart(2, ' ');
  const when = recent ? `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}` : ` ${t.getUTCFullYear()}`;
  const links = stat.kind === 'dir' ? 2 : 1;
  const bits = [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1];
  let mode = stat.kind === 'dir' ? 'd' : stat.kind === 'other' ? 'l' : '-';
  for (let i = 0; i < 9; i++) mode += stat.mode & bits[i]! ? 'rwxrwxrwx'[i] : '-';
  return `${mode} ${String(links).padStart(3)} ftp      ftp      ${String(stat.size).padStart(12)} ${MONTHS[t.getUTCMonth()]} ${day} ${when} ${stat.name}`;
}
function referenceMlsx(
  stat: FileStat,
  facts: ReadonlySet<MlstFact>,
  perms: ReadonlySet<Permission>,
  name = stat.name,
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

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
const NOW = Date.UTC(2026, 11, 5, 7, 30, 0);
const statArb = fc.record({
  name: fc.string({ unit: 'grapheme', maxLength: 20 }),
  kind: fc.constantFrom<FileStat['kind']>('file', 'dir', 'other'),
  size: fc.oneof(fc.nat(), fc.constant(0), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  // Around now (the six-month edge), far back and ahead, before 1970, and odd milliseconds.
  mtime: fc
    .oneof(
      fc.integer({ min: NOW - YEAR_MS, max: NOW + YEAR_MS }),
      fc.integer({ min: NOW - 182 * 24 * 3600 * 1000 - 120_000, max: NOW - 182 * 24 * 3600 * 1000 + 120_000 }),
      fc.integer({ min: NOW + 182 * 24 * 3600 * 1000 - 120_000, max: NOW + 182 * 24 * 3600 * 1000 + 120_000 }),
      fc.integer({ min: -80 * YEAR_MS, max: 300 * YEAR_MS }),
      fc.constant(NaN),
    )
    .map((ms) => new Date(ms)),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  id: fc.string({ maxLength: 12 }),
});

// Entries that carry mtimeMs too (as DiskFs listings do): fractions, negatives, edges of Date.
const msArb = fc.oneof(
  fc.double({ min: NOW - YEAR_MS, max: NOW + YEAR_MS, noNaN: true }),
  fc.double({ min: -1000, max: 1000, noNaN: true }),
  fc.constantFrom(8.64e15, -8.64e15, 8.64e15 + 1, -8.64e15 - 0.5, -0.5, -0, 0.9999, NaN, Infinity, -Infinity),
  fc.double({ noNaN: false }),
);
const statWithMsArb = fc.tuple(statArb, msArb).map(([st, ms]): FileStat => ({ ...st, mtime: new Date(ms), mtimeMs: ms }));
const anyStatArb = fc.oneof(statArb, statWithMsArb);

describe('listing formats stay byte-identical', () => {
  it('LIST lines: one formatter for many entries gives the reference text', () => {
    fc.assert(
      fc.property(
        fc.array(anyStatArb, { maxLength: 30 }),
        fc.oneof(fc.constant(NOW), fc.integer({ min: NOW - YEAR_MS, max: NOW + YEAR_MS })),
        (stats, now) => {
          const ls = new LsFormatter(now);
          for (const st of stats) {
            expect(ls.line(st)).toBe(referenceLs(st, now));
            expect(formatLsLine(st, now)).toBe(referenceLs(st, now));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('MLSx entries: every fact set and permission set gives the reference text', () => {
    const permSets = ['elr', 'elradfmwMT', '', 'w', 'ad'].map((p) => parsePermissions(p));
    fc.assert(
      fc.property(
        fc.array(anyStatArb, { maxLength: 30 }),
        fc.subarray([...MLST_FACTS]),
        fc.constantFrom(...permSets),
        fc.constantFrom<'cdir' | 'pdir' | undefined>(undefined, 'cdir', 'pdir'),
        (stats, factList, perms, type) => {
          const facts = new Set(factList);
          const mlsx = new MlsxFormatter(facts, perms);
          for (const st of stats) {
            expect(mlsx.line(st)).toBe(referenceMlsx(st, facts, perms));
            expect(formatMlsxLine(st, facts, perms, '/x', type)).toBe(referenceMlsx(st, facts, perms, '/x', type));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('known lines', () => {
    const st: FileStat = {
      name: 'a b.txt',
      kind: 'file',
      size: 1234,
      mtime: new Date(Date.UTC(2026, 10, 3, 9, 5, 7)),
      mode: 0o644,
      id: '801g2a',
    };
    expect(formatLsLine(st, NOW)).toBe('-rw-r--r--   1 ftp      ftp              1234 Nov  3 09:05 a b.txt');
    expect(formatLsLine({ ...st, kind: 'dir', mode: 0o755, mtime: new Date(Date.UTC(1969, 0, 31, 23, 59)) }, NOW)).toBe(
      'drwxr-xr-x   2 ftp      ftp              1234 Jan 31  1969 a b.txt',
    );
    expect(formatMlsxLine(st, new Set(MLST_FACTS), parsePermissions('elr'))).toBe(
      'type=file;size=1234;modify=20261103090507;perm=r;unique=801g2a;unix.mode=0644; a b.txt',
    );
  });
});
