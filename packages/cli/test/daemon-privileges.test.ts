import { execFileSync } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '@gorgon/core';
import { MemoryClient } from '@gorgon/core/testing';
import { finger } from '@gorgon/finger';
import { deliver } from '@gorgon/pop3';
import { SpawnedDaemon } from './spawn-cli.js';

// A daemon started as root drops root once its ports are bound (issue 8.11): --user/--group on
// every daemon, runAs in the config. The CI runs as root; elsewhere the root cases are skipped.

const root = process.getuid?.() === 0;
const nobody = {
  uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })),
  gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })),
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-runas-'));
  const password = await hashPassword('secret');
  await writeFile(join(dir, 'users.json'), JSON.stringify({ users: [{ name: 'ann', password }] }));
  await writeFile(join(dir, 'finger.json'), JSON.stringify({ users: [{ login: 'ann', name: 'Ann Onymous' }] }));
  await deliver(join(dir, 'mail'), 'ann', 'Subject: hi\r\n\r\nread as nobody\r\n');
  // The Maildirs belong to the user the daemon becomes, as they would on a real system.
  if (root) await chownTree(dir, nobody.uid, nobody.gid);
  // The users file stays root's own: it is read before root is dropped.
  await writeFile(join(dir, 'root-users.json'), JSON.stringify({ users: [{ name: 'ann', password }] }), { mode: 0o600 });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  if (!(await stat(path)).isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), uid, gid);
}

/** The real, effective, saved and filesystem ids from /proc/PID/status. */
async function ids(pid: number): Promise<{ uid: number[]; gid: number[]; groups: number[] }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number[] =>
    (status.match(new RegExp(`^${name}:(.*)$`, 'm'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') };
}

describe.skipIf(!root)('--user / runAs (built CLI, as root)', () => {
  it('pop3d --user nobody: binds, reads its root-only users file, then runs as nobody and still serves the Maildir', async () => {
    const daemon = new SpawnedDaemon(['pop3d', '--maildirs', 'mail', '--users', 'root-users.json', '--port', '0', '--user', 'nobody'], dir);
    try {
      const port = await daemon.started('pop3d');
      const dropped = await daemon.waitFor((r) => r.event === 'privileges');
      expect(dropped.msg).toBe(`running as nobody (uid ${nobody.uid}, gid ${nobody.gid}) from now on`);
      await daemon.waitFor((r) => r.event === 'ready');
      const now = await ids(daemon.child.pid!);
      expect(now.uid).toEqual([nobody.uid, nobody.uid, nobody.uid, nobody.uid]);
      expect(now.gid).toEqual([nobody.gid, nobody.gid, nobody.gid, nobody.gid]);
      expect(now.groups).not.toContain(0);
      expect(daemon.records.some((r) => r.event === 'running-as-root')).toBe(false);

      const client = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await client.line(5000)).toMatch(/^\+OK/);
      client.sendLine('USER ann');
      await client.line(5000);
      client.sendLine('PASS secret');
      expect(await client.line(10_000)).toMatch(/^\+OK maildrop has 1 message/);
      client.sendLine('RETR 1');
      expect(await client.line(5000)).toMatch(/^\+OK/);
      expect(await client.lines(4, 5000)).toEqual(['Subject: hi', '', 'read as nobody', '.']);
      client.sendLine('QUIT');
      expect(await client.line(5000)).toMatch(/^\+OK/);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  });

  it('serve with runAs in the config drops root too; --group picks the group', async () => {
    await writeFile(join(dir, 'gorgon.yaml'), 'runAs:\n  user: nobody\n  group: "0"\nfinger:\n  port: 0\n  users: finger.json\n');
    // The flag wins over the config's group.
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml', '--group', String(nobody.gid)], dir);
    try {
      const port = await daemon.started('fingerd');
      await daemon.waitFor((r) => r.event === 'ready');
      const now = await ids(daemon.child.pid!);
      expect(now.uid[1]).toBe(nobody.uid);
      expect(now.gid[1]).toBe(nobody.gid);
      expect(now.groups).toEqual([nobody.gid]);
      expect(await finger('ann', { host: '127.0.0.1', port })).toMatch(/Ann Onymous/);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  });

  it('warns when it is still root after binding and no user was given', async () => {
    const daemon = new SpawnedDaemon(['fingerd', '--users', 'finger.json', '--port', '0'], dir);
    try {
      const warning = await daemon.waitFor((r) => r.event === 'running-as-root');
      expect(warning.level).toBe(40);
      expect(warning.msg).toMatch(/--user NAME/);
    } finally {
      await daemon.stop();
    }
  });
});

describe('--user that cannot be used', () => {
  it.each([
    [['--user', 'no-such-user-gorgon'], 'gorgon: cannot run as user "no-such-user-gorgon": no such user.\n'],
    [['--user', 'nobody', '--group', 'no-such-group-gorgon'], 'gorgon: cannot run as group "no-such-group-gorgon": no such group.\n'],
  ])('%j: one sentence, exit 1, nothing bound', async (flags, message) => {
    const daemon = new SpawnedDaemon(['fingerd', '--users', 'finger.json', '--port', '0', ...flags], dir);
    expect(await daemon.exited()).toBe(1);
    expect(daemon.stderr).toBe(message);
  });

  it('--group without --user is a usage mistake', async () => {
    const daemon = new SpawnedDaemon(['fingerd', '--users', 'finger.json', '--port', '0', '--group', 'nogroup'], dir);
    expect(await daemon.exited()).toBe(2);
    expect(daemon.stderr).toMatch(/^gorgon: --group needs --user\.\n/);
  });
});
