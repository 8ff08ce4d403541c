import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOGIN, play, testServer } from './helpers.js';
import { leakGuard } from '@gorgon/core/testing';

// Every test must close what it opened: sockets, servers, file handles, timers.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

describe('file and directory commands (RFC 959 §4.1.3, RFC 3659)', () => {
  it('navigates with CWD/CDUP/XPWD and keeps ".." at the virtual root', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: CWD pub/docs
      S: 250 Directory changed to "/pub/docs".
      C: CDUP
      S: 250 Directory changed to "/pub".
      C: CWD ../../../../..
      S: 250 Directory changed to "/".
      C: CWD /../../pub
      S: 250 Directory changed to "/pub".
      C: CWD readme.txt
      S: 550 Not a directory.
      C: CWD nowhere
      S: 550 No such file or directory.
      C: XCWD /
      S: 250 Directory changed to "/".
      C: XPWD
      S: 257 "/" is the current directory.
      C: SMNT /mnt
      S: 502 SMNT not implemented.`,
    );
  });

  it('makes, renames and removes files and directories', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: MKD new "dir"
      S: 257 "/new ""dir""" created.
      C: MKD new "dir"
      S: 550 File exists.
      C: RNFR pub/readme.txt
      S: 350 Ready for destination name.
      C: RNTO new "dir"/moved.txt
      S: 250 Rename successful.
      C: RNTO again.txt
      S: 503 RNFR required first.
      C: RNFR pub/data.bin
      S: 350 Ready for destination name.
      C: NOOP
      S: 200 NOOP ok.
      C: RNTO x
      S: 503 RNFR required first.
      C: RNFR missing
      S: 550 No such file or directory.
      C: RMD new "dir"
      S: 550 Directory not empty.
      C: DELE new "dir"
      S: 550 Is a directory.
      C: DELE new "dir"/moved.txt
      S: 250 File removed.
      C: XRMD new "dir"
      S: 250 Directory removed.
      C: RMD /
      S: 550 Permission denied.
      C: XMKD d2
      S: 257 "/d2" created.`,
    );
  });

  it('answers SIZE, MDTM and MFMT (RFC 3659 §3–4)', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: SIZE pub/data.bin
      S: 550 SIZE not allowed in ASCII mode.
      C: TYPE I
      S: 200 Type set to I.
      C: SIZE pub/data.bin
      S: 213 1000
      C: SIZE pub
      S: 550 Not a regular file.
      C: MFMT 20010909014640 pub/data.bin
      S: 213 Modify=20010909014640; /pub/data.bin
      C: MDTM pub/data.bin
      S: 213 20010909014640
      C: MFMT 2001 pub/data.bin
      S: 501 Time must be YYYYMMDDHHMMSS (UTC).
      C: MDTM nothing
      S: 550 No such file or directory.`,
    );
  });

  it('sets TYPE, STRU, MODE and checks REST and ALLO ranges', async () => {
    await using server = testServer({ limits: { maxUploadBytes: 1000 } });
    await play(
      server,
      `${LOGIN}
      C: TYPE A N
      S: 200 Type set to A.
      C: TYPE L 8
      S: 200 Type set to I.
      C: TYPE E
      S: 504 Type E not implemented.
      C: TYPE Q
      S: 501 Syntax: TYPE <sp> A | I | L 8
      C: STRU F
      S: 200 Structure set to F.
      C: STRU R
      S: 504 Structure R not implemented.
      C: MODE S
      S: 200 Mode set to S.
      C: MODE B
      S: 504 Mode B not implemented.
      C: REST 100000000000000000000000
      S: 501 REST needs a decimal byte offset.
      C: REST -1
      S: 501 REST needs a decimal byte offset.
      C: REST 100
      S: 350 Restarting at 100. Send STORE or RETRIEVE to initiate transfer.
      C: ALLO 500
      S: 202 No storage allocation necessary.
      C: ALLO 5000
      S: 552 Upload size limit exceeded.
      C: PASV x
      S: 501 PASV takes no argument.`,
    );
  });

  it('lists with MLST and STAT over the control connection', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: MLST pub/data.bin
      S: 250-Listing /pub/data.bin
      S: /^ type=file;size=1000;modify=\\d{14};perm=adfrw;unique=[0-9a-f]+;unix.mode=0644; \\/pub\\/data.bin$/
      S: 250 End.
      C: OPTS MLST type;size;
      S: 200 MLST OPTS type;size;
      C: MLST
      S: 250-Listing /
      S:  type=cdir; /
      S: 250 End.
      C: STAT pub
      S: 213-Status of /pub:
      S: /^-rw-r--r--   1 ftp      ftp              1000 \\w{3} [ \\d]\\d \\d\\d:\\d\\d data.bin$/
      S: /^drwxr-xr-x   2 ftp      ftp                 0 .* docs$/
      S: /^-rw-r--r-- .* 8 .* readme.txt$/
      S: 213 End of status.
      C: STAT
      S: 211-Gorgon FTP server status:
      S: Connected to 127.0.0.1
      S: Logged in as alice
      S: TYPE: ASCII, STRUcture: File, MODE: Stream
      S: Control connection: plain; data protection: Clear
      S: Data connection: none
      S: 211 End of status.`,
    );
  });

  it('generates FEAT and HELP from the command table (RFC 2389)', async () => {
    await using server = testServer();
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: FEAT
      S: 211-Features:
      S:  EPRT
      S:  EPSV
      S:  HOST
      S:  MDTM
      S:  MFMT
      S:  MLST type*;size*;modify*;perm*;unique*;unix.mode*;
      S:  REST STREAM
      S:  SIZE
      S:  TVFS
      S:  UTF8
      S: 211 End
      C: OPTS UTF8 ON
      S: 200 Always in UTF8 mode.
      C: OPTS FOO
      S: 501 Option not understood.
      C: HELP CWD
      S: 214 Syntax: CWD <sp> pathname
      C: HELP AUTH
      S: 501 Unknown command "AUTH".
      C: AUTH TLS
      S: 502 Command not implemented.
      C: HELP
      S: 214-The following commands are recognized:
      S: /^ ABOR  ACCT  ALLO  APPE  CDUP  CWD   DELE  EPRT $/`,
    );
  });

  it('handles SITE HELP, CHMOD and UTIME', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: SITE HELP
      S: 214-SITE commands:
      S:  SITE HELP
      S:  SITE CHMOD <sp> mode <sp> pathname
      S:  SITE UTIME <sp> YYYYMMDDHHMMSS <sp> pathname
      S: 214 End of SITE help.
      C: SITE CHMOD 600 pub/readme.txt
      S: 200 SITE CHMOD command successful.
      C: SITE CHMOD 999 pub/readme.txt
      S: 501 Syntax: SITE CHMOD <sp> mode <sp> pathname
      C: SITE UTIME 20200102030405 pub/readme.txt
      S: 200 SITE UTIME command successful.
      C: SITE UTIME pub/data.bin 20200102030405 20210102030405 20200102030405 UTC
      S: 200 SITE UTIME command successful.
      C: TYPE I
      S: 200 Type set to I.
      C: MDTM pub/readme.txt
      S: 213 20200102030405
      C: MDTM pub/data.bin
      S: 213 20210102030405
      C: SITE EXEC rm -rf /
      S: 501 Unknown SITE command "EXEC".`,
    );
  });
});

describe('attacks on paths and data connections (RFC 2577)', () => {
  const pathCommands = [
    'CWD',
    'RETR',
    'STOR',
    'APPE',
    'DELE',
    'RMD',
    'MKD',
    'RNFR',
    'SIZE',
    'MDTM',
    'MLST',
    'LIST',
    'NLST',
    'MLSD',
    'STAT',
  ];

  it.each(pathCommands)('%s refuses NUL in paths and cannot climb out of the root', async (verb) => {
    await using server = testServer();
    const client = await play(
      server,
      `${LOGIN}
      C: TYPE I
      S: 200 Type set to I.`,
    );
    client.send(`${verb} ../../../etc/passwd\0x\r\n`);
    expect(await client.line()).toMatch(/^(553|425) /);
    client.sendLine(`${verb} ../../../../etc/passwd`);
    // "/etc/passwd" inside the virtual root does not exist: 550 (or 425 for commands needing a data connection first).
    expect(await client.line()).toMatch(/^(550|425) /);
  });

  it('refuses PORT and EPRT to another host or a privileged port (FTP bounce)', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: PORT 10,0,0,1,8,0
      S: 504 Refused: data connections go only to your own address and ports >= 1024.
      C: PORT 127,0,0,1,0,25
      S: 504 Refused: data connections go only to your own address and ports >= 1024.
      C: PORT 127,0,0,1,300,1
      S: 501 Syntax: PORT <sp> h1,h2,h3,h4,p1,p2
      C: PORT
      S: 501 Syntax: PORT <sp> h1,h2,h3,h4,p1,p2
      C: EPRT |1|192.168.1.1|2000|
      S: 504 Refused: data connections go only to your own address and ports >= 1024.
      C: EPRT |2|::1|2000|
      S: 522 Network protocol not supported, use (1).
      C: EPRT |3|x|1|
      S: 522 Network protocol not supported, use (1).
      C: EPRT garbage
      S: 501 Syntax: EPRT <sp> |proto|address|port|
      C: PORT 127,0,0,1,8,0
      S: 200 PORT command successful. Consider using PASV.
      C: EPSV 2
      S: 522 Network protocol not supported, use (1).
      C: EPSV ALL
      S: 200 EPSV ALL ok.
      C: PASV
      S: 503 PASV not allowed after EPSV ALL.
      C: PORT 127,0,0,1,8,0
      S: 503 PORT not allowed after EPSV ALL.`,
    );
  });

  it('needs a data connection setup before transfers', async () => {
    await using server = testServer();
    await play(
      server,
      `${LOGIN}
      C: RETR pub/readme.txt
      S: 425 Use PORT, PASV, EPRT or EPSV first.
      C: LIST
      S: 425 Use PORT, PASV, EPRT or EPSV first.
      C: STOU
      S: 425 Use PORT, PASV, EPRT or EPSV first.`,
    );
  });
});
