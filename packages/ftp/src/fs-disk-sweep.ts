import { createHash } from 'node:crypto';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';

/** What a sweep of stale temporary upload files did. */
export interface UploadSweepResult {
  /** Temporary files removed. */
  removed: number;
  /** Their bytes. */
  bytes: number;
  /** Directories read. */
  dirs: number;
  /** False when the sweep stopped at `maxDirs` (or a directory could not be read). */
  complete: boolean;
}

/** Options of {@link sweepUploads}. */
export interface UploadSweepOptions {
  /** Temporary files start with this (bytes of `.gorgon-upload-`). */
  prefix: string;
  /**
   * Files of an earlier version's name (no writer in it), or written by a process of this host
   * with this process's pid (an earlier process that had it), are removed when last modified
   * before this time (ms since 1970).
   */
  before: number;
  /**
   * Files written by another host (the root is shared) are removed only when last modified
   * before this time: their writer cannot be asked whether it is alive.
   */
  foreignBefore: number;
  /** Files of a process of this host that is gone are removed when last modified before this time. */
  deadBefore: number;
  /** This host's tag (see {@link uploadTag}); default: from os.hostname(). */
  hostTag?: string;
  /** Whether a pid of this host is a running process (default: signal 0). */
  alive?: (pid: number) => boolean;
  /** Directories read at most; the rest waits for the next start. */
  maxDirs: number;
}

/**
 * The tag of a host in temporary file names: the first 8 hex digits of the SHA-256 of its name
 * (as the POP3 lock templates have it), so a sweep knows the files of its own host's processes.
 */
export function hostTag(name: string = hostname()): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}

const HOST_TAG = hostTag();

/**
 * The part of a temporary upload file's name after the prefix: the writer's host tag and pid,
 * then a random part (`HOSTTAG-PID-RANDOM`), so that several servers sharing one root (behind
 * a load balancer) can tell whose upload a file is.
 */
export function uploadTag(pid: number = process.pid, tag: string = HOST_TAG): string {
  return `${tag}-${pid}-`;
}

const TAGGED = /^([0-9a-f]{8})-(\d{1,10})-[0-9a-f]+$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a temporary upload file (its name after the prefix, and its mtime) is stale: written
 * by a process of this host that is gone (even recently, down to `deadBefore`: nothing writes
 * it any more), by
 * another host long ago (`foreignBefore`), or, for names without a writer and this pid's
 * leftovers, before `before`. A file of a live process of this host is never stale: another
 * server sharing the root may be receiving it, with blocks written minutes apart for a slow
 * client.
 */
export function isStaleUpload(rest: string, mtimeMs: number, options: UploadSweepOptions): boolean {
  const m = TAGGED.exec(rest);
  if (!m) return mtimeMs < options.before;
  const [, tag, pidText] = m as unknown as [string, string, string];
  if (tag !== (options.hostTag ?? HOST_TAG)) return mtimeMs < options.foreignBefore;
  const pid = Number(pidText);
  if (pid === process.pid) return mtimeMs < options.before;
  return mtimeMs < options.deadBefore && !(options.alive ?? processAlive)(pid);
}

/**
 * Removes the temporary files of uploads that never finished: an upload goes to a temporary
 * file in its target directory and is renamed into place on commit, so a process killed in the
 * middle (kill -9, a crash, power loss) leaves the temporary file behind, hidden from listings.
 * The tree is walked breadth-first with host paths as bytes (names that are not UTF-8 are
 * walked too), without following symlinks, reading at most `maxDirs` directories; only regular
 * files whose name has the prefix and that {@link isStaleUpload} judges stale are removed, so an
 * upload that is being written now, by this process or another sharing the root, is left alone.
 */
export async function sweepUploads(root: string, options: UploadSweepOptions): Promise<UploadSweepResult> {
  const prefix = Buffer.from(options.prefix);
  const result: UploadSweepResult = { removed: 0, bytes: 0, dirs: 0, complete: true };
  const queue: Buffer[] = [Buffer.from(root)];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (result.dirs >= options.maxDirs) {
      result.complete = false;
      break;
    }
    result.dirs++;
    let entries;
    try {
      entries = await readdir(next, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      result.complete = false; // removed meanwhile, or not readable: nothing to do there
      continue;
    }
    for (const entry of entries) {
      const path = Buffer.concat([next, SLASH, entry.name]);
      if (entry.isDirectory()) queue.push(path);
      else if (entry.isFile() && entry.name.subarray(0, prefix.length).equals(prefix)) {
        const st = await lstat(path).catch(() => undefined);
        if (!st?.isFile() || !isStaleUpload(entry.name.subarray(prefix.length).toString('latin1'), st.mtimeMs, options)) continue;
        try {
          await unlink(path);
          result.removed++;
          result.bytes += st.size;
        } catch {
          // gone already (another process swept it) or not ours to remove
        }
      }
    }
  }
  return result;
}

const SLASH = Buffer.from('/');
