import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskFs } from '@gorgon/ftp';
import { LOGIN, plantedRoot, play, testServer } from './helpers.js';
import { leakGuard } from '@gorgon/core/testing';

// Every test must close what it opened: sockets, servers, file handles, timers.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A root with symlinks planted to a directory and a file outside it, and pub/ok.txt. */
async function plantedRootWithFile(): Promise<{ root: string; outside: string }> {
  const planted = await plantedRoot(dirs, 'gorgon-ftp-confine-');
  await writeFile(join(planted.root, 'pub', 'ok.txt'), 'ok');
  return planted;
}

describe('virtual root on disk: symlinks out of the root are refused by every command (RFC 2577 §5)', () => {
  it('refuses each path-taking command through planted symlinks', async () => {
    const { root, outside } = await plantedRootWithFile();
    await using server = testServer({ store: new DiskFs(root) });
    await play(
      server,
      `${LOGIN}
      C: TYPE I
      S: 200 Type set to I.
      C: CWD pub/escape
      S: 550 Permission denied.
      C: SIZE pub/secret-link
      S: 550 Permission denied.
      C: MDTM pub/escape/secret.txt
      S: 550 Permission denied.
      C: MLST pub/escape
      S: 550 Permission denied.
      C: STAT pub/escape
      S: 550 Permission denied.
      C: MKD pub/escape/new
      S: 550 Permission denied.
      C: DELE pub/escape/secret.txt
      S: 550 Permission denied.
      C: RMD pub/escape
      S: 550 Not a directory.
      C: RNFR pub/escape/secret.txt
      S: 550 Permission denied.
      C: RNFR pub/ok.txt
      S: 350 Ready for destination name.
      C: RNTO pub/escape/moved.txt
      S: 550 Permission denied.
      C: MFMT 20000101000000 pub/secret-link
      S: 550 Permission denied.
      C: SITE CHMOD 777 pub/escape/secret.txt
      S: 550 Permission denied.
      C: EPSV
      S: /^229 /
      C: RETR pub/secret-link
      S: 550 Permission denied.
      C: STOR pub/escape/dropped.txt
      S: 550 Permission denied.
      C: APPE pub/secret-link
      S: 550 Permission denied.
      C: LIST pub/escape
      S: 550 Permission denied.
      C: MLSD pub/escape
      S: 550 Permission denied.
      C: NLST pub/escape
      S: 550 Permission denied.
      C: STAT pub
      S: 213-Status of /pub:
      S: /^lrw.* escape$/
      S: /^-rw.* ok.txt$/
      S: /^lrw.* secret-link$/
      S: 213 End of status.`,
    );
    expect((await readdir(outside)).sort()).toEqual(['secret.txt']);
  });
});

describe('special files inside the root', () => {
  it('refuses to read or append to a FIFO without blocking', async () => {
    const { root } = await plantedRootWithFile();
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(root, 'pub', 'pipe')]);
    const fs = new DiskFs(root);
    await expect(fs.openRead('/pub/pipe')).rejects.toMatchObject({ code: 'is-dir' });
    await expect(fs.openWrite('/pub/pipe', { mode: 'append' })).rejects.toMatchObject({ code: 'denied' });
  });
});
