import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSizeCache, parseSizeCache, type KnownSize } from '../src/maildir-size-cache.js';
import { parseMaildirName } from '../src/maildir-names.js';

// The two parsers a restarted server runs over every message of a big maildrop at its first
// login (file names, size cache lines) are scanned by hand for speed; these check them against
// the regular expressions that define them, on arbitrary input.

const LINE = /^(\d{1,20}) (\d{1,15}) (\d{1,16}(?:\.\d{1,20})?) (\d{1,15}) ([^\s/:][^\n\r/:]*)$/;

/** The size cache parser as first written: split, one regex per line. */
function referenceCache(text: string): Map<string, KnownSize> | undefined {
  const lines = text.split('\n');
  if (lines[0] !== 'gorgon-pop3-sizes 1' || lines.pop() !== '') return undefined;
  const out = new Map<string, KnownSize>();
  for (let i = 1; i < lines.length; i++) {
    const m = LINE.exec(lines[i]!);
    if (!m) return undefined;
    out.set(m[5]!, { ino: Number(m[1]), raw: Number(m[2]), mtimeMs: Number(m[3]), wire: Number(m[4]) });
  }
  return out;
}

/** The name fields as first parsed: split, and a regex per field. */
function referenceName(name: string): { micros: number; seq: number; time: number; rawSize?: number; wireSize?: number } {
  const colon = name.indexOf(':');
  const base = colon === -1 ? name : name.slice(0, colon);
  const [unique = base, ...fields] = base.split(',');
  const second = unique.split('.')[1] ?? '';
  const out: { micros: number; seq: number; time: number; rawSize?: number; wireSize?: number } = {
    time: Number.parseInt(unique, 10) || 0,
    micros: Number(/M(\d{1,6})/.exec(second)?.[1] ?? 0),
    seq: Number(/Q(\d{1,15})/.exec(second)?.[1] ?? 0),
  };
  for (const field of fields) {
    const m = /^([SW])=(\d{1,15})$/.exec(field);
    if (m?.[1] === 'S') out.rawSize = Number(m[2]);
    if (m?.[1] === 'W') out.wireSize = Number(m[2]);
  }
  return out;
}

const pieces = [
  '1',
  '0',
  '12',
  '1234567',
  '.',
  ' ',
  ',',
  ':',
  'M',
  'Q',
  'P',
  'V',
  'I',
  'S=',
  'W=',
  '9999999999999999',
  'x',
  '\r',
  '\n',
  '/',
  'é',
  '2,S',
  '-',
];
const shaped = fc.array(fc.constantFrom(...pieces), { maxLength: 14 }).map((p) => p.join(''));
const anyText = fc.oneof(shaped, fc.string({ maxLength: 40 }));

describe('hand-scanned Maildir parsers', () => {
  it('size cache lines: the same map (or refusal) as the regular expression', () => {
    fc.assert(
      fc.property(fc.array(anyText, { maxLength: 6 }), (lines) => {
        const text = `gorgon-pop3-sizes 1\n${lines.map((l) => `${l}\n`).join('')}`;
        expect(parseSizeCache(text)).toEqual(referenceCache(text));
      }),
      { numRuns: 3000 },
    );
    const good = [['1700000000.V801I1M2.mx', { ino: 12, raw: 300, mtimeMs: 1700000000123.456, wire: 310 }]] as const;
    for (const text of [
      formatSizeCache(good),
      'gorgon-pop3-sizes 1\n',
      'gorgon-pop3-sizes 1\n\n',
      'gorgon-pop3-sizes 1',
      `${formatSizeCache(good)}x`,
    ]) {
      expect(parseSizeCache(text)).toEqual(referenceCache(text));
    }
    expect(parseSizeCache(formatSizeCache(good))?.get('1700000000.V801I1M2.mx')).toEqual(good[0][1]);
  });

  it('file names: the same time, microseconds, sequence and sizes as the regular expressions', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        const p = parseMaildirName(name);
        const r = referenceName(name);
        expect({ time: p.time, micros: p.micros, seq: p.seq, rawSize: p.rawSize, wireSize: p.wireSize }).toEqual({
          rawSize: undefined,
          wireSize: undefined,
          ...r,
        });
      }),
      { numRuns: 5000 },
    );
    expect(parseMaildirName('1700000000.M123456P77Q9R0a.host,S=10,W=12:2,S')).toMatchObject({
      micros: 123456,
      seq: 9,
      rawSize: 10,
      wireSize: 12,
      time: 1700000000,
    });
    expect(parseMaildirName('1700000000.V801I10000M1234567.mail.example.org:2,')).toMatchObject({ micros: 123456, seq: 0 });
  });
});
