/**
 * The Range field for bytes. @see RFC 9110 §14.1.2 (byte ranges), §14.2 (Range)
 */

/** An inclusive byte range [start, end]. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Resolves `Range: bytes=…` against a representation of `size` bytes. Returns `undefined` to
 * ignore the field (not bytes, bad syntax, more than `maxRanges`: the whole representation is
 * sent, as §14.2 allows), `'unsatisfiable'` for 416, or the ranges, in the order asked, with
 * overlapping or adjacent ones coalesced (§14.2 lets a server do so to refuse the
 * many-small-overlaps attack).
 */
export function parseRange(value: string, size: number, maxRanges: number): ByteRange[] | 'unsatisfiable' | undefined {
  const m = /^bytes[ \t]*=[ \t]*(.*)$/i.exec(value);
  if (!m) return undefined;
  const specs = m[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0 || specs.length > maxRanges) return undefined;
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return undefined;
    if (r[1] === '') {
      const suffix = Number(r[2]);
      if (suffix === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const start = Number(r[1]);
    const end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
    if (r[2] !== '' && Number(r[2]) < start) return undefined; // invalid: ignore the field
    if (start >= size) continue;
    ranges.push({ start, end });
  }
  if (ranges.length === 0) return 'unsatisfiable';
  return coalesce(ranges);
}

function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [{ ...sorted[0]! }];
  for (const r of sorted.slice(1)) {
    const last = out[out.length - 1]!;
    if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}
