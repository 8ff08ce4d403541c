import { lstat, readdir, unlink } from 'node:fs/promises';

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
  /** Only files last modified before this time (ms since 1970) are removed. */
  before: number;
  /** Directories read at most; the rest waits for the next start. */
  maxDirs: number;
}

/**
 * Removes the temporary files of uploads that never finished: an upload goes to a temporary
 * file in its target directory and is renamed into place on commit, so a process killed in the
 * middle (kill -9, a crash, power loss) leaves the temporary file behind, hidden from listings.
 * The tree is walked breadth-first with host paths as bytes (names that are not UTF-8 are
 * walked too), without following symlinks, reading at most `maxDirs` directories; only regular
 * files whose name has the prefix and whose last change is older than `before` are removed, so
 * an upload that is being written now (its file changed since) is left alone.
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
        if (!st?.isFile() || st.mtimeMs >= options.before) continue;
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
