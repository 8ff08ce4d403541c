import { describe, expect, it } from 'vitest';
import { parseDosListLine, parseList, parseMlsd, parseMlsdLine, parseMlsdTime, parseNlst, parseUnixListLine } from '../src/internal.js';

const NOW = new Date(Date.UTC(2024, 5, 15, 12, 0));

describe('MLSD (RFC 3659 §7)', () => {
  it('reads facts and names, names with spaces and semicolons included', () => {
    expect(parseMlsdLine('type=file;size=1234;modify=20240102030405;perm=r;UNIX.mode=0644; my file;v2.txt')).toEqual({
      name: 'my file;v2.txt',
      type: 'file',
      size: 1234,
      modifiedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      facts: { type: 'file', size: '1234', modify: '20240102030405', perm: 'r', 'unix.mode': '0644' },
    });
    expect(parseMlsdLine('Type=dir;Modify=19990101000000.5; pub')).toMatchObject({ name: 'pub', type: 'dir', modifiedAt: new Date(Date.UTC(1999, 0, 1, 0, 0, 0, 500)) });
    expect(parseMlsdLine('type=OS.unix=symlink;size=4; link')).toMatchObject({ type: 'link' });
    expect(parseMlsdLine('no-space-here')).toBeUndefined();
  });

  it('leaves out cdir and pdir, and tolerates bare LF', () => {
    const body = 'type=cdir;modify=20240101000000; .\r\ntype=pdir; ..\ntype=file;size=3; a\r\ntype=dir; sub\r\n';
    expect(parseMlsd(body).map((e) => [e.name, e.type])).toEqual([
      ['a', 'file'],
      ['sub', 'dir'],
    ]);
  });

  it('rejects malformed times', () => {
    expect(parseMlsdTime('20241301000000')).toBeUndefined();
    expect(parseMlsdTime('2024')).toBeUndefined();
    expect(parseMlsdTime('20240229235960')).toEqual(new Date(Date.UTC(2024, 1, 29, 23, 59, 60)));
  });
});

describe('LIST, Unix ls -l form', () => {
  it('reads vsftpd lines (numeric owner, year form)', () => {
    expect(parseUnixListLine('-rw-r--r--    1 0        0               6 Nov 25  2023 a.txt', NOW)).toEqual({
      name: 'a.txt',
      type: 'file',
      size: 6,
      modifiedAt: new Date(Date.UTC(2023, 10, 25)),
    });
  });

  it('reads owner and group names, times of the last year, and names with spaces', () => {
    expect(parseUnixListLine('-rw-r--r--   1 ftp      ftp        1234 Mar  4 12:30 notes for me.txt', NOW)).toMatchObject({
      name: 'notes for me.txt',
      size: 1234,
      modifiedAt: new Date(Date.UTC(2024, 2, 4, 12, 30)),
    });
    // A time-form date in the future is last year's (ls shows times for recent files only).
    expect(parseUnixListLine('-rw-r--r-- 1 ftp ftp 1 Dec 24 18:00 x', NOW)?.modifiedAt).toEqual(new Date(Date.UTC(2023, 11, 24, 18, 0)));
  });

  it('reads directories, symbolic links, ACL markers and lines without a group', () => {
    expect(parseUnixListLine('drwxr-xr-x+  2 user group 4096 Jan  1  2020 pub', NOW)).toMatchObject({ name: 'pub', type: 'dir' });
    expect(parseUnixListLine('lrwxrwxrwx 1 0 0 8 May 20  2025 sbin -> usr/sbin', NOW)).toMatchObject({ name: 'sbin', type: 'link', target: 'usr/sbin' });
    expect(parseUnixListLine('-rw-r--r-- 1 owner 42 Jan  1  2020 nogroup.bin', NOW)).toMatchObject({ name: 'nogroup.bin', size: 42 });
    // A device: not a file, so globs never fetch it.
    expect(parseUnixListLine('crw-rw-rw- 1 0 0 1, 3 Jan 1 2020 null', NOW)).toMatchObject({ name: 'null', type: 'other' });
  });

  it('skips total, blank, dot entries and lines of no known form', () => {
    const body = 'total 12\r\ndrwxr-xr-x 2 0 0 4096 Jan 1 2020 .\r\n-rw-r--r-- 1 0 0 5 Jan 1 2020 a\r\n\r\nsomething else\r\n';
    expect(parseList(body, NOW).map((e) => e.name)).toEqual(['a']);
  });
});

describe('LIST, DOS/IIS form', () => {
  it('reads files and <DIR> entries, 12- and 24-hour clocks, 2- and 4-digit years', () => {
    expect(parseDosListLine('03-04-24  12:30PM               1234 notes.txt')).toEqual({
      name: 'notes.txt',
      type: 'file',
      size: 1234,
      modifiedAt: new Date(Date.UTC(2024, 2, 4, 12, 30)),
    });
    expect(parseDosListLine('12-31-1999  11:59PM       <DIR>          old stuff')).toEqual({
      name: 'old stuff',
      type: 'dir',
      modifiedAt: new Date(Date.UTC(1999, 11, 31, 23, 59)),
    });
    expect(parseDosListLine('01-02-24  12:05AM 7 a')?.modifiedAt).toEqual(new Date(Date.UTC(2024, 0, 2, 0, 5)));
    expect(parseDosListLine('01-02-24  17:05 7 a')?.modifiedAt).toEqual(new Date(Date.UTC(2024, 0, 2, 17, 5)));
  });

  it('is picked by parseList when the Unix form does not fit', () => {
    expect(parseList('01-02-24  10:00AM       <DIR>          pub\r\n01-02-24  10:00AM                 9 a.txt\r\n', NOW)).toMatchObject([
      { name: 'pub', type: 'dir' },
      { name: 'a.txt', type: 'file', size: 9 },
    ]);
  });
});

describe('NLST', () => {
  it('gives names, keeps server path prefixes, drops dot entries', () => {
    expect(parseNlst('a.txt\r\npub/b.txt\r\n.\r\n..\r\n\r\n')).toEqual(['a.txt', 'pub/b.txt']);
  });
});
