/**
 * The matrix as text for a terminal, as Markdown for docs/interop.md, and as JSON: one table per
 * target (rows: clients with versions; columns: features), then the reasons behind each fail and
 * n/a, numbered.
 */
import { LACKS, type Report, type TargetReport } from './matrix.js';
import type { Cell } from './types.js';

interface Table {
  title: string;
  header: string[];
  rows: string[][];
  notes: string[];
}

function tableOf(t: TargetReport, symbols: Record<Cell['status'], string>): Table {
  const notes: string[] = [];
  const noteFor = (reason: string): number => {
    const i = notes.indexOf(reason);
    return i >= 0 ? i + 1 : notes.push(reason);
  };
  const rows = t.rows.map((row) => [
    row.label,
    row.version ?? (row.cells.every((c) => c.status === 'n/a') ? '—' : '?'),
    ...row.cells.map((c) => (c.reason === LACKS ? '—' : c.reason ? `${symbols[c.status]} [${noteFor(c.reason)}]` : symbols[c.status])),
  ]);
  const probe = t.probe.error ? ` (${t.probe.error})` : t.probe.sample ? ` (reference: ${t.probe.sample})` : '';
  return { title: `${t.url}${probe}`, header: ['client', 'version', ...t.features], rows, notes };
}

/** A plain-text table per target, columns padded, for a terminal. */
export function renderText(report: Report): string {
  const out: string[] = [];
  for (const target of report.targets) {
    const table = tableOf(target, { pass: 'pass', fail: 'FAIL', 'n/a': 'n/a' });
    const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    out.push(table.title, line(table.header), line(widths.map((w) => '-'.repeat(w))), ...table.rows.map(line));
    out.push(...table.notes.map((n, i) => `  [${i + 1}] ${n}`));
    out.push('');
  }
  const { pass, fail } = report.totals;
  out.push('— the client lacks the feature', `${pass} passed, ${fail} failed, ${report.totals['n/a']} n/a`);
  return `${out.join('\n')}\n`;
}

const cellText = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The tables in Markdown (for docs/interop.md). */
export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  for (const target of report.targets) {
    const table = tableOf(target, { pass: '✅ pass', fail: '❌ fail', 'n/a': 'n/a' });
    out.push(`### ${cellText(table.title)}`, '');
    out.push(`| ${table.header.join(' | ')} |`, `|${table.header.map(() => '---').join('|')}|`);
    for (const row of table.rows) out.push(`| ${row.map(cellText).join(' | ')} |`);
    if (table.notes.length > 0) out.push('', ...table.notes.map((n, i) => `${i + 1}. ${cellText(n)}`));
    out.push('');
  }
  const { pass, fail } = report.totals;
  out.push('— the client lacks the feature.', '', `**${pass} passed, ${fail} failed, ${report.totals['n/a']} n/a.**`, '');
  return out.join('\n');
}

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
