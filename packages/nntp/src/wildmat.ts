/**
 * RFC 3977 §4 wildmats: a comma-separated list of patterns (`*`, `?`, `[...]` classes, `\`
 * escapes), each optionally negated with `!`; the LAST pattern that matches decides (a `!`
 * one rejects). No pattern matching: rejected.
 * @see RFC 3977 §4.1–§4.4
 */
export type Matcher = (name: string) => boolean;

const cache = new Map<string, Matcher>();

/** Compiles a wildmat into a matcher (cached; at most 256 kept). Throws on a malformed pattern. */
export function wildmat(pattern: string): Matcher {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const parts = splitPatterns(pattern).map((p) =>
    p.startsWith('!') ? { neg: true, re: toRegExp(p.slice(1)) } : { neg: false, re: toRegExp(p) },
  );
  const fn: Matcher = (name) => {
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i]!;
      if (p.re.test(name)) return !p.neg;
    }
    return false;
  };
  if (cache.size >= 256) cache.clear();
  cache.set(pattern, fn);
  return fn;
}

/** True when `pattern` is a well-formed wildmat. */
export function isWildmat(pattern: string): boolean {
  try {
    wildmat(pattern);
    return true;
  } catch {
    return false;
  }
}

function splitPatterns(pattern: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      cur += c + pattern[++i];
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    if (c === ',' && !inClass) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  for (const p of out) if (p === '' || p === '!') throw new SyntaxError('empty wildmat pattern');
  return out;
}

function toRegExp(p: string): RegExp {
  let re = '^';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\') {
      const n = p[++i];
      if (n === undefined) throw new SyntaxError('trailing backslash');
      re += escapeRegExp(n);
    } else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end === -1) throw new SyntaxError('unterminated class');
      let body = p.slice(i + 1, end);
      let neg = false;
      if (body.startsWith('^')) {
        neg = true;
        body = body.slice(1);
      }
      re += `[${neg ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`${re}$`, 's');
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
