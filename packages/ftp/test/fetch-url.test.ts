import { describe, expect, it } from 'vitest';
import { FetchUrlError, globToRegExp, isGlob, parseFetchUrl } from '../src/internal.js';

describe('parseFetchUrl (RFC 1738 §3.2)', () => {
  it('reads host, port, login and a path relative to the login directory', () => {
    expect(parseFetchUrl('ftp://alice:p%40ss@files.example.org:2121/pub/a%20b.txt')).toEqual({
      display: 'ftp://alice:***@files.example.org:2121/pub/a%20b.txt',
      host: 'files.example.org',
      port: 2121,
      user: 'alice',
      password: 'p@ss',
      secure: false,
      path: 'pub/a b.txt',
      glob: false,
      serverKey: 'ftp://alice@files.example.org:2121',
    });
  });

  it('defaults to anonymous, port 21, or the given login; ftps:// is implicit TLS on 990', () => {
    expect(parseFetchUrl('ftp://h/x')).toMatchObject({ user: 'anonymous', password: 'anonymous@', port: 21, secure: false });
    expect(parseFetchUrl('ftp://h/x', { user: 'bob', password: 'pw' })).toMatchObject({ user: 'bob', password: 'pw' });
    expect(parseFetchUrl('ftp://h/x', { explicitTls: true })).toMatchObject({ secure: 'explicit', serverKey: 'ftp+tls://anonymous@h:21' });
    expect(parseFetchUrl('FTPS://h/x')).toMatchObject({ secure: 'implicit', port: 990 });
  });

  it('reads IPv6 hosts, %2F for an absolute path, a trailing / as every file, and drops ;type=', () => {
    expect(parseFetchUrl('ftp://[::1]:2121/a')).toMatchObject({ host: '::1', port: 2121, serverKey: 'ftp://anonymous@[::1]:2121' });
    expect(parseFetchUrl('ftp://h/%2Fetc/motd')).toMatchObject({ path: '/etc/motd' });
    expect(parseFetchUrl('ftp://h/pub/')).toMatchObject({ path: 'pub/*', glob: true });
    expect(parseFetchUrl('ftp://h/a.bin;type=i')).toMatchObject({ path: 'a.bin' });
  });

  it('keeps glob characters, ? included (it is not a query here)', () => {
    expect(parseFetchUrl('ftp://h/pub/file?.txt')).toMatchObject({ path: 'pub/file?.txt', glob: true });
    expect(parseFetchUrl('ftp://h/d*/[ab].txt')).toMatchObject({ path: 'd*/[ab].txt', glob: true });
  });

  it.each([
    ['not a url', /is not a URL/],
    ['http://h/x', /only ftp:\/\/ and ftps:\/\//],
    ['ftp://', /not a valid URL|names no host/],
    ['ftp://h', /names no file/],
    ['ftp://h/', /names no file/],
    ['ftp://h/%zz', /bad %-escape/],
    ['ftp://h/a%0d%0aDELE%20x', /control character/],
    ['ftp://bad_host!/x', /invalid host/],
  ])('refuses %s with one sentence', (url, message) => {
    const err = (() => {
      try {
        parseFetchUrl(url);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FetchUrlError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/\.$/);
  });

  it('never shows the password in messages', () => {
    expect(() => parseFetchUrl('http://u:hunter2@h/x')).toThrow(/u:\*\*\*@h/);
  });
});

describe('globs', () => {
  it('detects glob segments', () => {
    expect(['a', '*.txt', 'f?', '[ab]'].map(isGlob)).toEqual([false, true, true, true]);
  });

  it('matches like the shell: *, ?, classes, negation, hidden files left out', () => {
    const m = (p: string, names: string[]): string[] => names.filter((n) => globToRegExp(p).test(n));
    expect(m('*.txt', ['a.txt', 'b.TXT', '.hidden.txt', 'c.txt.gz', 'd.txt'])).toEqual(['a.txt', 'd.txt']);
    expect(m('.*', ['.a', 'b'])).toEqual(['.a']);
    expect(m('f?.bin', ['f1.bin', 'f12.bin', 'f.bin'])).toEqual(['f1.bin']);
    expect(m('[a-c]*', ['apple', 'cherry', 'date'])).toEqual(['apple', 'cherry']);
    expect(m('[!a]*', ['apple', 'banana'])).toEqual(['banana']);
    expect(m('a+b(1).txt', ['a+b(1).txt', 'aab1.txt'])).toEqual(['a+b(1).txt']);
    expect(m('x[', ['x[', 'x'])).toEqual(['x[']);
  });
});
