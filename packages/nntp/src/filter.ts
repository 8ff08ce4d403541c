import { wildmat } from './wildmat.js';

/** What a rule does when it matches. */
export type RuleAction = 'kill' | 'keep' | 'score';

/** One rule of a rules file. */
export interface FilterRule {
  readonly action: RuleAction;
  /** For `score`: added to the article's score. */
  readonly score: number;
  /** Header name, lower-case. */
  readonly header: string;
  /** The groups the rule applies to (the `[wildmat]` section it is in); undefined: all. */
  readonly groups: string | undefined;
  /** The rule as written and where, for `--explain`. */
  readonly source: string;
  readonly line: number;
  readonly test: (value: string) => boolean;
}

/** A parsed rules file. */
export interface FilterRules {
  readonly threshold: number;
  readonly rules: readonly FilterRule[];
}

/** The decision on one article and why. */
export interface FilterVerdict {
  readonly keep: boolean;
  readonly score: number;
  /** The rule that decided alone (a kill or keep), if any. */
  readonly decidedBy: FilterRule | undefined;
  /** Every rule that matched, in file order. */
  readonly matched: readonly FilterRule[];
  /** One sentence: which rule decided, or the score against the threshold. */
  readonly reason: string;
}

/** A rules file that cannot be read: the line and what is wrong. */
export class FilterRulesError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`rules line ${line}: ${message}`);
    this.name = 'FilterRulesError';
  }
}

const RULE = /^(kill|keep|score)\s+(?:([+-]?\d+)\s+)?([!-9;-~]+):\s*(.+)$/i;

/**
 * Parses a rules file, in the spirit of slrn's score files:
 *
 * ```
 * threshold 0                         # keep when the score is at least this (default 0)
 * kill  Subject: /make money fast/i   # a regular expression …
 * keep  From: *@trusted.example       # … or a wildmat (whole value, case-insensitive)
 * score +50 From: *@friends.example
 * [comp.lang.*,!comp.lang.perl]       # rules below apply only to these groups
 * score -20 Subject: /^(re: ?){3}/i
 * ```
 *
 * The first kill or keep rule that matches decides; otherwise the scores of every matching
 * score rule are added and the article is kept when the sum reaches the threshold.
 */
export function parseRules(text: string): FilterRules {
  let threshold = 0;
  let groups: string | undefined;
  const rules: FilterRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const source = raw.replace(/(^|\s)#.*$/, '').trim();
    if (source === '') return;
    const section = /^\[(.+)\]$/.exec(source);
    if (section) {
      groups = section[1]!.trim() === '*' ? undefined : section[1]!.trim();
      return;
    }
    const t = /^threshold\s+([+-]?\d+)$/i.exec(source);
    if (t) {
      threshold = Number(t[1]);
      return;
    }
    const m = RULE.exec(source);
    if (!m) throw new FilterRulesError(line, `expected "kill|keep|score [N] Header: pattern", got ${JSON.stringify(source)}`);
    const action = m[1]!.toLowerCase() as RuleAction;
    if (action === 'score' && m[2] === undefined)
      throw new FilterRulesError(line, 'a score rule needs a number (score +10 Header: pattern)');
    rules.push({
      action,
      score: Number(m[2] ?? 0),
      header: m[3]!.toLowerCase(),
      groups,
      source,
      line,
      test: compilePattern(m[4]!.trim(), line),
    });
  });
  return { threshold, rules };
}

function compilePattern(pattern: string, line: number): (value: string) => boolean {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  if (re) {
    try {
      const regex = new RegExp(re[1]!, re[2]!.replace(/[gy]/g, ''));
      return (value) => regex.test(value);
    } catch (err) {
      throw new FilterRulesError(line, `bad regular expression: ${(err as Error).message}`);
    }
  }
  let match: (name: string) => boolean;
  try {
    match = wildmat(pattern.toLowerCase());
  } catch (err) {
    throw new FilterRulesError(line, `bad wildmat: ${(err as Error).message}`);
  }
  return (value) => match(value.toLowerCase());
}

/** Header fields of an article, unfolded, by lower-case name (repeated fields joined by ", "). */
export function articleHeaders(article: Buffer | string): Map<string, string> {
  const text = typeof article === 'string' ? article : article.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const head = end === -1 ? text : text.slice(0, end);
  const fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && last) {
      fields.set(last, `${fields.get(last)!} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.set(last, fields.has(last) ? `${fields.get(last)!}, ${value}` : value);
  }
  return fields;
}

/** Applies the rules to one article. @see parseRules */
export function judge(rules: FilterRules, article: Buffer | string | Map<string, string>): FilterVerdict {
  const headers = article instanceof Map ? article : articleHeaders(article);
  const groups = (headers.get('newsgroups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0);
  const matched: FilterRule[] = [];
  let score = 0;
  for (const rule of rules.rules) {
    if (rule.groups !== undefined) {
      const inGroup = wildmat(rule.groups);
      if (!groups.some((g) => inGroup(g))) continue;
    }
    const value = headers.get(rule.header);
    if (value === undefined || !rule.test(value)) continue;
    matched.push(rule);
    if (rule.action !== 'score') {
      const keep = rule.action === 'keep';
      return { keep, score, decidedBy: rule, matched, reason: `${keep ? 'kept' : 'killed'} by line ${rule.line}: ${rule.source}` };
    }
    score += rule.score;
  }
  const keep = score >= rules.threshold;
  const because =
    matched.length === 0 ? 'no rule matched' : matched.map((r) => `line ${r.line} (${r.score >= 0 ? '+' : ''}${r.score})`).join(', ');
  return {
    keep,
    score,
    decidedBy: undefined,
    matched,
    reason: `${keep ? 'kept' : 'killed'}: score ${score} ${keep ? '>=' : '<'} threshold ${rules.threshold} (${because})`,
  };
}
