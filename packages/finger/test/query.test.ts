import { describe, expect, it } from 'vitest';
import { parseFingerTarget } from '@gorgon/finger/client';
import { parseQuery } from '../src/query.js';
import { formatHost, forwardTarget, parseHost, type FingerQuery } from '../src/query.js';

function query(line: string): FingerQuery {
  const parsed = parseQuery(line, { maxLength: 512 });
  if (!parsed.ok) throw new Error(`unexpected refusal: ${parsed.detail}`);
  return parsed.query;
}

describe('parseQuery: RFC 1288 §2.3 {Q1} ::= [{W}|{W}{S}{U}]{C}', () => {
  it.each([
    ['', { kind: 'list', verbose: false }],
    ['/W', { kind: 'list', verbose: true }],
    ['/w', { kind: 'list', verbose: true }],
    ['  /W  ', { kind: 'list', verbose: true }],
    ['alice', { kind: 'user', verbose: false, names: ['alice'] }],
    ['/W alice', { kind: 'user', verbose: true, names: ['alice'] }],
    ['/w   alice', { kind: 'user', verbose: true, names: ['alice'] }],
    ['/Walice', { kind: 'user', verbose: true, names: ['alice'] }],
    ['\t/W\talice\t', { kind: 'user', verbose: true, names: ['alice'] }],
    ['alice bob', { kind: 'user', verbose: false, names: ['alice', 'bob'] }],
    ['Liddell', { kind: 'user', verbose: false, names: ['Liddell'] }],
    ['José', { kind: 'user', verbose: false, names: ['José'] }],
  ])('%j', (line, want) => {
    expect(query(line)).toEqual(want);
  });
});

describe('parseQuery: RFC 1288 §2.3 {Q2} ::= [{W}{S}][{U}]{H}{C}', () => {
  it.each([
    ['alice@host', { kind: 'forward', verbose: false, user: 'alice', hosts: [{ host: 'host' }] }],
    ['@host', { kind: 'forward', verbose: false, user: '', hosts: [{ host: 'host' }] }],
    ['/W @host', { kind: 'forward', verbose: true, user: '', hosts: [{ host: 'host' }] }],
    ['/W alice@a.example@b.example', { kind: 'forward', verbose: true, user: 'alice', hosts: [{ host: 'a.example' }, { host: 'b.example' }] }],
    ['alice@127.0.0.1:7979', { kind: 'forward', verbose: false, user: 'alice', hosts: [{ host: '127.0.0.1', port: 7979 }] }],
    ['alice@[::1]:79', { kind: 'forward', verbose: false, user: 'alice', hosts: [{ host: '::1', port: 79 }] }],
  ])('%j', (line, want) => {
    expect(query(line)).toEqual(want);
  });
});

describe('parseQuery refusals', () => {
  it.each([
    ['alice\x00', 'binary'],
    ['\x1b[2J', 'binary'],
    ['ali\rce', 'binary'],
    ['bad\ufffdutf8', 'binary'],
    ['del\x7f', 'binary'],
    ['alice@', 'syntax'],
    ['alice@@host', 'syntax'],
    ['alice@host:0', 'syntax'],
    ['alice@host:99999', 'syntax'],
    ['alice@[nope]', 'syntax'],
    ['alice@ho st', 'syntax'],
    ['alice bob@host', 'syntax'],
    ['a b c d e f g h i', 'too-many-names'],
    ['x'.repeat(513), 'too-long'],
  ])('%j is refused as %s', (line, problem) => {
    const parsed = parseQuery(line, { maxLength: 512, maxNames: 8 });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toBe(problem);
  });

  it('accepts exactly maxLength bytes', () => {
    expect(parseQuery('x'.repeat(512), { maxLength: 512 }).ok).toBe(true);
  });
});

describe('forwarding (RFC 1288 §2.4)', () => {
  it('sends everything but the last host to the last host', () => {
    const q = query('/W alice@b@c:79');
    if (q.kind !== 'forward') throw new Error('not a forward');
    expect(forwardTarget(q)).toEqual({ user: 'alice@b', next: { host: 'c', port: 79 } });
  });

  it('keeps IPv6 brackets when passing a hop on', () => {
    const q = query('alice@[::1]@c');
    if (q.kind !== 'forward') throw new Error('not a forward');
    expect(forwardTarget(q).user).toBe('alice@[::1]');
  });

  it('formatHost reads back through parseHost', () => {
    for (const text of ['h', 'h:1', '[::1]', '[::1]:79', '10.0.0.1:7979']) {
      const host = parseHost(text);
      if (typeof host === 'string') throw new Error(host);
      expect(formatHost(host)).toBe(text);
    }
    expect(parseHost('::1')).toEqual({ host: '::1' });
  });
});

describe('parseFingerTarget', () => {
  it.each([
    ['alice@host:7979', { user: 'alice', host: 'host', port: 7979 }],
    ['alice@host', { user: 'alice', host: 'host' }],
    ['@host', { user: '', host: 'host' }],
    ['alice@[::1]:7979', { user: 'alice', host: '::1', port: 7979 }],
    ['alice@[::1]', { user: 'alice', host: '::1' }],
    ['a@b@c', { user: 'a@b', host: 'c' }],
    ['a@b:7979@c:79', { user: 'a@b:7979', host: 'c', port: 79 }],
    ['alice', { user: 'alice', host: 'localhost' }],
  ])('%j', (target, want) => {
    expect(parseFingerTarget(target)).toEqual(want);
  });

  it.each([['alice@'], ['alice@host:x'], ['alice@[::1'], ['alice\r\n@host']])('refuses %j with a sentence', (target) => {
    expect(() => parseFingerTarget(target)).toThrow(/^(Bad finger target|A finger target)/);
  });
});
