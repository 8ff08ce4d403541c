import { describe, expect, it } from 'vitest';
import { FilterRulesError, judge, parseRules } from '@gorgon/nntp';

const article = (headers: Record<string, string>): string =>
  `${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\nbody\r\n`;

const RULES = `
# slrn-like rules
threshold 0
kill Subject: /make money fast/i
keep From: *@trusted.example
score +50 From: *@friends.example
score -30 Subject: /^(re: ?){3}/i
[comp.lang.*,!comp.lang.perl]
score -100 Subject: *perl*
`;

describe('news filter rules', () => {
  const rules = parseRules(RULES);

  it('the first kill or keep that matches decides, and says which line', () => {
    const v = judge(rules, article({ From: 'x@trusted.example', Subject: 'MAKE MONEY FAST', Newsgroups: 'misc.test' }));
    expect(v.keep).toBe(false);
    expect(v.reason).toBe('killed by line 4: kill Subject: /make money fast/i');
    const k = judge(rules, article({ From: 'x@trusted.example', Subject: 're: re: re: hi', Newsgroups: 'misc.test' }));
    expect(k).toMatchObject({ keep: true, reason: 'kept by line 5: keep From: *@trusted.example' });
  });

  it('scores add up against the threshold; sections apply by group wildmat', () => {
    const v = judge(rules, article({ From: 'bob@friends.example', Subject: 'Re: Re: Re: hi', Newsgroups: 'misc.test' }));
    expect(v).toMatchObject({ keep: true, score: 20 });
    expect(v.reason).toBe('kept: score 20 >= threshold 0 (line 6 (+50), line 7 (-30))');
    const perl = judge(rules, article({ From: 'a@b', Subject: 'about Perl', Newsgroups: 'comp.lang.c' }));
    expect(perl).toMatchObject({ keep: false, score: -100 });
    const inPerl = judge(rules, article({ From: 'a@b', Subject: 'about Perl', Newsgroups: 'comp.lang.perl' }));
    expect(inPerl).toMatchObject({ keep: true, score: 0, reason: 'kept: score 0 >= threshold 0 (no rule matched)' });
  });

  it('folded headers are unfolded before matching', () => {
    const v = judge(rules, 'From: a@b\r\nSubject: make\r\n money fast\r\n\r\nbody\r\n');
    expect(v.keep).toBe(false);
  });

  it('a bad rule names its line', () => {
    expect(() => parseRules('threshold 1\nscore From: x\n')).toThrow(FilterRulesError);
    expect(() => parseRules('kill Subject: /(/\n')).toThrow(/rules line 1: bad regular expression/);
    expect(() => parseRules('drop Subject: x\n')).toThrow(/rules line 1: expected/);
  });
});
