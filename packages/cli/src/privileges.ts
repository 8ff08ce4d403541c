import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from '@gorgon/core';
import { CliError } from './errors.js';

/** Who a daemon started as root becomes once its listeners are bound (`--user`/`--group`, config `runAs`). */
export interface RunAs {
  user: string;
  /** Default: the user's primary group, plus the groups the user belongs to. */
  group?: string | undefined;
}

/** A {@link RunAs} resolved to ids at start-up, before anything is bound. */
export interface Identity {
  user: string;
  uid: number;
  gid: number;
  /** Set when a group was named: then it is the only group kept. */
  group?: string | undefined;
}

/**
 * Resolves the names before any port is bound, so a typo stops the start with one sentence
 * instead of leaving a daemon running as root. Names go through the system's user database
 * (`id`, `getent`), so NSS users (LDAP, sssd) work as they do for vsftpd and Dovecot.
 */
export function resolveRunAs(runAs: RunAs): Identity {
  if (typeof process.getuid !== 'function' || typeof process.setuid !== 'function') {
    throw new CliError('--user (runAs) works only on POSIX systems.');
  }
  const uid = idOf(['-u', runAs.user]);
  if (uid === undefined) throw new CliError(`cannot run as user "${runAs.user}": no such user.`);
  const gid = runAs.group === undefined ? idOf(['-g', runAs.user]) : groupId(runAs.group);
  if (gid === undefined) throw new CliError(`cannot run as group "${runAs.group}": no such group.`);
  const current = process.getuid();
  if (current !== 0 && current !== uid) {
    throw new CliError(
      `cannot run as user "${runAs.user}": only a daemon started as root can change user (this one runs as uid ${current}).`,
    );
  }
  return { user: runAs.user, uid, gid, ...(runAs.group === undefined ? {} : { group: runAs.group }) };
}

/**
 * Gives up root for good: supplementary groups first, then the group, then the user (the
 * order that cannot fail halfway with root's groups kept). Called once every listener is
 * bound and every root-only file (certificates, users files) has been read.
 */
export function dropPrivileges(identity: Identity, log: Logger): void {
  if (process.getuid!() === identity.uid && process.getgid!() === identity.gid) return;
  if (identity.group !== undefined) process.setgroups!([identity.gid]);
  // initgroups(3) is in Node (POSIX) but missing from @types/node.
  else
    (process as unknown as { initgroups(user: string | number, group: number): void }).initgroups(
      /^\d+$/.test(identity.user) ? Number(identity.user) : identity.user,
      identity.gid,
    );
  process.setgid!(identity.gid);
  process.setuid!(identity.uid);
  if (process.getuid!() !== identity.uid || process.geteuid!() !== identity.uid) {
    throw new CliError(`could not switch to user "${identity.user}".`);
  }
  log.info(
    { event: 'privileges', user: identity.user, uid: identity.uid, gid: identity.gid },
    `running as ${identity.user} (uid ${identity.uid}, gid ${identity.gid}) from now on`,
  );
}

/** The warning for a daemon left running as root: any flaw would then act as root. */
export function warnIfRoot(log: Logger): void {
  if (process.getuid?.() !== 0) return;
  log.warn({ event: 'running-as-root' }, 'still running as root after binding: give --user NAME (config runAs.user) to drop root');
}

/** `id -u NAME` or `id -g NAME`; undefined when there is no such user. */
function idOf(args: string[]): number | undefined {
  try {
    const out = execFileSync('id', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
    return parseId(out);
  } catch {
    return undefined;
  }
}

/** A group name or number; `getent` first (NSS), /etc/group where there is no getent. */
function groupId(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  let line: string | undefined;
  try {
    line = execFileSync('getent', ['group', group], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[0] === group);
  }
  return parseId(line?.split(':')[2]);
}

function parseId(text: string | undefined): number | undefined {
  const trimmed = text?.trim();
  return trimmed && /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}
