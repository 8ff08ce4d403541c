import { CoreError } from '@gorgon/core';
import { describe, expect, it } from 'vitest';
import { certificateProblem, choosePassiveAddress, describeFetchError, FtpClientError, FtpError, isRetryable, isServerWide } from '../src/internal.js';

const at = { host: 'ftp.example.org', port: 21, user: 'alice', path: 'pub/a.txt' };
const reply = (code: number, text: string) => ({ code, lines: [text] });
const refused = (code: string) =>
  new FtpClientError('connect-failed', 'cannot connect', { cause: new CoreError('connect-failed', 'x', { cause: Object.assign(new Error(code), { code }) }) });

describe('describeFetchError: one sentence for people', () => {
  it.each([
    [new FtpError(reply(530, 'Login incorrect.'), 'login'), 'ftp.example.org:21 refused the login as alice: wrong user name or password? (530 Login incorrect.).'],
    [new FtpError(reply(421, 'Too many users.'), ''), 'ftp.example.org:21 does not accept sessions now (421 Too many users.).'],
    [new FtpError(reply(550, 'No such file.'), 'RETR pub/a.txt'), 'pub/a.txt on ftp.example.org:21: no such file or no permission (550 No such file.).'],
    [new FtpError(reply(451, 'Local error'), 'RETR pub/a.txt'), 'pub/a.txt: the server refused RETR (451 Local error).'],
    [refused('ECONNREFUSED'), 'cannot connect to ftp.example.org:21: connection refused.'],
    [refused('ENOTFOUND'), 'cannot find the host ftp.example.org.'],
    [refused('EHOSTUNREACH'), 'cannot reach ftp.example.org:21: no route to the host.'],
    [new FtpClientError('timeout', 'RETR pub/a.txt: no reply within 30000 ms'), 'ftp.example.org:21 did not answer in time (RETR pub/a.txt: no reply within 30000 ms).'],
    [new FtpClientError('tls-failed', 'TLS handshake failed: self-signed certificate'), 'TLS with ftp.example.org:21 failed: TLS handshake failed: self-signed certificate.'],
    [new FtpClientError('local-io', 'local file: ENOSPC: no space left on device'), 'pub/a.txt: local file: ENOSPC: no space left on device.'],
    [new Error('odd'), 'pub/a.txt: odd.'],
  ])('%s', (err, sentence) => {
    expect(describeFetchError(err, at)).toBe(sentence);
  });

  it('says the host once when the connection fails for another reason', () => {
    const odd = new FtpClientError('connect-failed', 'cannot connect to ftp.example.org:21: socket hang up', {
      cause: new CoreError('connect-failed', 'cannot connect to ftp.example.org:21: socket hang up', { cause: new Error('socket hang up') }),
    });
    expect(describeFetchError(odd, at)).toBe('cannot connect to ftp.example.org:21: socket hang up.');
  });

  it('names a refused certificate in words, not an OpenSSL code, and never retries it', () => {
    const selfSigned = new FtpClientError('connect-failed', 'cannot connect', {
      cause: new CoreError('connect-failed', 'x', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) }),
    });
    expect(describeFetchError(selfSigned, at)).toBe('the certificate of ftp.example.org:21 is not trusted: it is self-signed, so no authority this machine trusts vouches for it.');
    expect(isRetryable(selfSigned)).toBe(false);
    expect(isServerWide(selfSigned)).toBe(true);
    // The client's own check by address after AUTH TLS carries the code in its message.
    const expired = new FtpClientError('tls-failed', 'TLS handshake failed: CERT_HAS_EXPIRED');
    expect(certificateProblem(expired)).toBe('it has expired');
    expect(certificateProblem(refused('ECONNREFUSED'))).toBeUndefined();
  });

  it('brackets IPv6 hosts', () => {
    expect(describeFetchError(refused('ECONNREFUSED'), { host: '::1', port: 2121, user: 'anonymous' })).toBe('cannot connect to [::1]:2121: connection refused.');
  });
});

describe('retry and server-wide rules (RFC 959 §4.2: 4yz transient, 5yz permanent)', () => {
  it('retries 4yz and lost connections, not 5yz, DNS failures, TLS or local errors', () => {
    expect(isRetryable(new FtpError(reply(426, 'cut'), 'RETR a'))).toBe(true);
    expect(isRetryable(new FtpError(reply(550, 'no'), 'RETR a'))).toBe(false);
    expect(isRetryable(refused('ECONNREFUSED'))).toBe(true);
    expect(isRetryable(refused('ENOTFOUND'))).toBe(false);
    expect(isRetryable(new FtpClientError('closed', 'x'))).toBe(true);
    expect(isRetryable(new FtpClientError('tls-failed', 'x'))).toBe(false);
    expect(isRetryable(new FtpClientError('local-io', 'x'))).toBe(false);
  });

  it('a refused login or connection dooms the server, a missing file does not', () => {
    expect(isServerWide(new FtpError(reply(530, 'no'), 'login'))).toBe(true);
    expect(isServerWide(refused('ECONNREFUSED'))).toBe(true);
    expect(isServerWide(new FtpError(reply(550, 'no'), 'RETR a'))).toBe(false);
  });
});

describe('choosePassiveAddress (curl --ftp-skip-pasv-ip)', () => {
  it('uses the control peer by default, whatever the reply names', () => {
    expect(choosePassiveAddress({ host: '10.0.0.5', port: 50000 }, '203.0.113.7', false)).toEqual({ host: '203.0.113.7', port: 50000 });
  });

  it('when trusted, keeps a routable reply address and replaces an unroutable one', () => {
    expect(choosePassiveAddress({ host: '198.51.100.9', port: 50001 }, '203.0.113.7', true)).toEqual({ host: '198.51.100.9', port: 50001 });
    expect(choosePassiveAddress({ host: '10.0.0.5', port: 50002 }, '203.0.113.7', true)).toEqual({ host: '203.0.113.7', port: 50002 });
    expect(choosePassiveAddress({ host: '0.0.0.0', port: 50003 }, '192.168.1.2', true)).toEqual({ host: '192.168.1.2', port: 50003 });
    expect(choosePassiveAddress({ host: '192.168.1.9', port: 50004 }, '192.168.1.2', true)).toEqual({ host: '192.168.1.9', port: 50004 });
    expect(choosePassiveAddress({ host: '127.0.0.1', port: 50005 }, '::1', true)).toEqual({ host: '::1', port: 50005 });
  });
});
