// The final table of `pnpm bench`.
import { fmt } from './stats.mjs';

/** @param {{ op: '>=' | '<=', ratio: number }} target */
export const targetText = (target) => `${target.op} ${target.ratio}×`;

/**
 * @param {Array<Record<string, any>>} rows  results as run.mjs collects them
 * @returns {string}
 */
export function formatTable(rows) {
  const head = ['benchmark', 'figure', 'baseline', 'ratio', 'target', 'result'];
  const body = rows.map((r) =>
    r.status === 'ERROR' || r.status === 'SKIP'
      ? [r.id, '-', '-', '-', r.target ? targetText(r.target) : '-', `${r.status}: ${r.reason}`]
      : [r.id, `${fmt(r.figure)} ${r.unit}`, `${fmt(r.baseline)} ${r.unit}`, `${fmt(r.ratio, 2)}×`, targetText(r.target), r.status],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => (i >= 1 && i <= 3 ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
