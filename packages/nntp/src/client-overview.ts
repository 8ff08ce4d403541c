/**
 * One OVER line, parsed: the article number and the seven fields of the default overview
 * format, then the extra fields as given (`Xref: …` and others from LIST OVERVIEW.FMT).
 * @see RFC 3977 §8.3.2, §8.4
 */
export interface OverviewRecord {
  readonly number: number;
  readonly subject: string;
  readonly from: string;
  readonly date: string;
  readonly messageId: string;
  readonly references: string;
  readonly bytes: number;
  readonly lines: number;
  readonly extra: readonly string[];
}

/** Parses one OVER/XOVER line (tab-separated). Missing fields are empty strings / 0. */
export function parseOverview(line: string): OverviewRecord {
  const [number = '0', subject = '', from = '', date = '', messageId = '', references = '', bytes = '0', lines = '0', ...extra] =
    line.split('\t');
  return {
    number: Number(number),
    subject,
    from,
    date,
    messageId,
    references,
    bytes: Number(bytes) || 0,
    lines: Number(lines) || 0,
    extra,
  };
}
