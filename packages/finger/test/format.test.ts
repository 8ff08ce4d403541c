import { describe, expect, it } from 'vitest';
import type { FingerUser } from '@gorgon/finger';
import { defaultFingerLimits } from '../src/defaults.js';
import { cut, formatEntry, formatList, formatTime, longIdle, safeText, shortIdle, textBlock, toWire, wrap } from '../src/format.js';

const limits = defaultFingerLimits;
const PRINTABLE = /^[\x20-\x7e]*$/;

describe('safeText: printable ASCII only (RFC 1288 §2.2, §3.3)', () => {
  it.each([
    ['\x1b[2J', '^[[2J'],
    ['bell\x07', 'bell^G'],
    ['del\x7f', 'del^?'],
    ['nul\x00', 'nul^@'],
    ['cr\r', 'cr^M'],
    ['José Müller', 'Jose Muller'],
    ['Straße', 'Stra\\u00dfe'],
    ['\u009b31m', '\\u009b31m'],
    ['😀', '\\u{1f600}'],
    ['a\tb', 'a       b'],
    ['plain', 'plain'],
  ])('%j -> %j', (input, want) => {
    expect(safeText(input)).toBe(want);
    expect(safeText(input)).toMatch(PRINTABLE);
  });
});

describe('line width', () => {
  it('cut adds an ellipsis', () => {
    expect(cut('abcdefgh', 6)).toBe('abc...');
    expect(cut('abc', 6)).toBe('abc');
  });

  it('wrap breaks at spaces and splits long words', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('x'.repeat(20), 8)).toEqual(['xxxxxxxx', 'xxxxxxxx', 'xxxx']);
  });

  it('textBlock escapes, wraps and cuts by lines and bytes', () => {
    expect(textBlock('one\r\ntwo\n\n', { width: 80, maxLines: 10, maxBytes: 100 })).toEqual(['one', 'two']);
    expect(textBlock('a\nb\nc\nd', { width: 80, maxLines: 2, maxBytes: 100 })).toEqual(['a', 'b', '[cut]']);
    expect(textBlock('abcdef', { width: 80, maxLines: 5, maxBytes: 3 })).toEqual(['abc', '[cut]']);
    expect(textBlock('é'.repeat(3), { width: 80, maxLines: 5, maxBytes: 3 })).toEqual(['e', '[cut]']);
    const long = textBlock(`${'word '.repeat(40)}\x1b[31m`, { width: 30, maxLines: 100, maxBytes: 10_000 });
    for (const line of long) {
      expect(line.length).toBeLessThanOrEqual(30);
      expect(line).toMatch(PRINTABLE);
    }
  });

  it('toWire ends every line with CRLF', () => {
    expect(toWire(['a', '', 'b'])).toBe('a\r\n\r\nb\r\n');
  });
});

describe('times', () => {
  it('formats ISO 8601 in UTC and escapes what is no date', () => {
    expect(formatTime('2024-03-01T13:00:00+01:00')).toBe('2024-03-01 12:00 UTC');
    expect(formatTime('2024-03-01T12:00:00Z', false)).toBe('2024-03-01 12:00');
    expect(formatTime('yesterday\x1b')).toBe('yesterday^[');
  });

  it('idle times', () => {
    expect([shortIdle(undefined), shortIdle(59), shortIdle(180), shortIdle(3720), shortIdle(3 * 86400)]).toEqual(['', '', '3m', '1:02', '3d']);
    expect([longIdle(1), longIdle(45), longIdle(60), longIdle(3720), longIdle(7200), longIdle(90000)]).toEqual([
      '1 second',
      '45 seconds',
      '1 minute',
      '1 hour 2 minutes',
      '2 hours',
      '1 day 1 hour',
    ]);
  });
});

const alice: FingerUser = {
  login: 'alice',
  name: 'Alice Liddell',
  office: 'Wonderland',
  officePhone: 'x1865',
  homePhone: '555-0100',
  directory: '/home/alice',
  shell: '/bin/zsh',
  plan: 'Follow the white rabbit.\nDrink me.',
  project: 'Looking-glass survey\nsecond line not shown',
  lastLogin: '2024-03-01T12:00:00Z',
  loggedIn: true,
  tty: 'pts/1',
  idleSeconds: 180,
};

describe('formatEntry (RFC 1288 §2.5.2, §2.5.4)', () => {
  it('gives the long entry, home phone only for /W', () => {
    const plain = formatEntry(alice, { ...limits, verbose: false });
    expect(plain).toEqual([
      `${'Login: alice'.padEnd(40)}Name: Alice Liddell`,
      `${'Directory: /home/alice'.padEnd(40)}Shell: /bin/zsh`,
      'Office: Wonderland, x1865',
      'On since 2024-03-01 12:00 UTC on pts/1, idle 3 minutes',
      'Project: Looking-glass survey',
      'Plan:',
      'Follow the white rabbit.',
      'Drink me.',
    ]);
    const verbose = formatEntry(alice, { ...limits, verbose: true });
    expect(verbose[2]).toBe(`${'Office: Wonderland, x1865'.padEnd(40)}Home Phone: 555-0100`);
  });

  it('shows last login, never logged in, and no plan', () => {
    expect(formatEntry({ login: 'bob', lastLogin: '2023-12-24T08:30:00Z', tty: 'tty1' }, { ...limits, verbose: false })).toEqual([
      'Login: bob',
      'Last login 2023-12-24 08:30 UTC on tty1',
      'No Plan.',
    ]);
    expect(formatEntry({ login: 'eve' }, { ...limits, verbose: false })).toEqual(['Login: eve', 'Never logged in.', 'No Plan.']);
  });

  it('puts a long left field on its own line and keeps every line within the width', () => {
    const user: FingerUser = { login: 'x', name: 'N'.repeat(300), directory: `/home/${'d'.repeat(50)}`, shell: '/bin/sh' };
    const lines = formatEntry(user, { ...limits, verbose: false });
    expect(lines).toContain('Shell: /bin/sh');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(limits.lineWidth);
  });
});

describe('formatList (RFC 1288 §2.5.1)', () => {
  it('has a header and one row per user', () => {
    const lines = formatList([alice, { login: 'bob', name: 'Bob' }], { ...limits });
    expect(lines[0]).toMatch(/^Login\s+Name\s+Tty\s+Idle\s+Login Time\s+Office$/);
    expect(lines[1]).toMatch(/^alice\s+Alice Liddell\s+pts\/1\s+3m 2024-03-01 12:00 Wonderland, x1865$/);
    expect(lines[2]).toMatch(/^bob\s+Bob\s+-$/);
  });

  it('says so when there is no one, and summarises past maxListEntries', () => {
    expect(formatList([], limits)).toEqual(['No one here.']);
    const many = Array.from({ length: 5 }, (_, i) => ({ login: `u${i}` }));
    const lines = formatList(many, { ...limits, maxListEntries: 3 });
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('... and 2 more.');
  });
});
