import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '@gorgon/core';
import { LOGIN, play, testServer } from './helpers.js';
import { cmd, controlClient } from './socket-client.js';
import { leakGuard } from '@gorgon/core/testing';

// Every test must close what it opened: sockets, servers, file handles, timers.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

describe('login and session basics (RFC 959 §4.1.1, §5.4)', () => {
  it('logs in, shows the directory, quits', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: PWD
      S: 257 "/" is the current directory.
      C: SYST
      S: 215 UNIX Type: L8
      C: NOOP
      S: 200 NOOP ok.
      C: ACCT x
      S: 202 ACCT not needed.
      C: QUIT
      S: 221 Goodbye.`,
      { expectClose: true },
    );
  });

  it('answers commands before login with 530 and PASS before USER with 503', async () => {
    await using server = testServer();
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: PWD
      S: 530 Please login with USER and PASS.
      C: RETR x
      S: 530 Please login with USER and PASS.
      C: PASS x
      S: 503 Login with USER first.
      C: USER
      S: 501 Syntax: USER <sp> username
      C: syst
      S: 215 UNIX Type: L8`,
    );
  });

  it('gives identical replies for unknown users and wrong passwords, then closes after 3 failures', async () => {
    await using server = testServer();
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: USER alice
      S: 331 Please specify the password.
      C: PASS wrong
      S: 530 Login incorrect.
      C: USER nobody
      S: 331 Please specify the password.
      C: PASS wonderland
      S: 530 Login incorrect.
      C: USER alice
      S: 331 Please specify the password.
      C: PASS again
      S: 530 Login incorrect.
      S: 421 Too many failed logins: closing control connection.`,
      { expectClose: true },
    );
  });

  it('refuses anonymous logins by default and serves them read-only when enabled', async () => {
    await using off = testServer();
    await play(
      off,
      `S: 220 Gorgon FTP server ready.
      C: USER anonymous
      S: 331 Please specify the password.
      C: PASS guest@example.com
      S: 530 Login incorrect.`,
    );
    await using on = testServer({ anonymous: true });
    await play(
      on,
      `S: 220 Gorgon FTP server ready.
      C: USER anonymous
      S: 331 Please specify the password.
      C: PASS guest@example.com
      S: 230 Anonymous access granted, restrictions apply.
      C: CWD pub
      S: 250 Directory changed to "/pub".
      C: MKD new
      S: 550 Permission denied.
      C: DELE readme.txt
      S: 550 Permission denied.
      C: STOR x
      S: 550 Permission denied.
      C: RNFR readme.txt
      S: 550 Permission denied.
      C: SITE CHMOD 777 readme.txt
      S: 550 Permission denied.`,
    );
  });

  it('applies per-user permissions from the user record', async () => {
    await using server = testServer();
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: USER reader
      S: 331 Please specify the password.
      C: PASS books
      S: 230 Login successful.
      C: MKD x
      S: 550 Permission denied.
      C: MFMT 20200101000000 pub/readme.txt
      S: 550 Permission denied.
      C: CWD pub
      S: 250 Directory changed to "/pub".`,
    );
  });

  it('refuses a second USER once logged in, and REIN starts over', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: USER reader
      S: 530 Can't change to another user.
      C: PASS wonderland
      S: 503 Already logged in.
      C: REIN
      S: 220 Ready for a new user.
      C: PWD
      S: 530 Please login with USER and PASS.
      C: USER reader
      S: 331 Please specify the password.
      C: PASS books
      S: 230 Login successful.`,
    );
  });

  it('answers unknown commands with 500 and closes after too many', async () => {
    await using server = testServer({ limits: { maxUnknownCommands: 3 } });
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: XYZZY
      S: 500 Unknown command "XYZZY".
      C: CLNT curl
      S: 500 Unknown command "CLNT".
      C: \u0001\u0002
      S: 500 Unknown command "\\x01\\x02".
      S: 421 Too many bad commands: closing control connection.`,
      { expectClose: true },
    );
  });

  it('logs every refused command with its reply code, and never logs a password', async () => {
    const logger = memoryLogger();
    await using server = testServer({ logger });
    const c = await controlClient((await server.listen(0)).port);
    expect(await c.line()).toBe('220 Gorgon FTP server ready.');
    expect(await cmd(c, 'BOGUS')).toBe('500 Unknown command "BOGUS".');
    expect(await cmd(c, 'RETR x')).toBe('530 Please login with USER and PASS.');
    expect(await cmd(c, 'USER alice')).toBe('331 Please specify the password.');
    expect(await cmd(c, 'PASS secret-password')).toBe('530 Login incorrect.');
    c.end();
    await c.closed();
    const refused = logger.records.filter((r) => r['event'] === 'refused').map((r) => r['code']);
    expect(refused).toEqual([500, 530]);
    expect(logger.records.some((r) => r['event'] === 'auth-failed')).toBe(true);
    expect(JSON.stringify(logger.records)).not.toContain('secret-password');
  });

  it('answers an over-long line once and never runs its tail', async () => {
    await using server = testServer({ limits: { maxLineLength: 64 } });
    const client = await play(server, `${LOGIN}`);
    client.send(`CWD ${'a'.repeat(200)}DELE pub/readme.txt\r\nPWD\r\n`);
    expect(await client.line()).toBe('500 Command line too long.');
    expect(await client.line()).toBe('257 "/" is the current directory.');
  });

  it('accepts HOST before USER only (RFC 7151)', async () => {
    await using server = testServer({ hosts: ['ftp.example.com'] });
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: HOST other.example.com
      S: 504 Unknown host.
      C: HOST ftp.example.com
      S: 220 Host ftp.example.com accepted.
      C: USER alice
      S: 331 Please specify the password.
      C: HOST ftp.example.com
      S: 503 HOST must come before USER.`,
    );
  });

  it('strips the Telnet IP/Synch bytes that precede an urgent ABOR', async () => {
    await using server = testServer();
    const client = await play(server, LOGIN);
    client.send(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r\n')]));
    expect(await client.line()).toBe('226 ABOR command successful.');
  });
});
