import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isLeftoverAside } from './maildir-lock.js';

/**
 * The temporary file of a size cache or a listing index (`.gorgon-pop3.sizes.PID.RANDOM`,
 * `.gorgon-pop3.index.PID.RANDOM`), written beside its target and renamed over it (see
 * `saveSizeCache` and `writeIndex`, which name them).
 */
const TEMP_NAME = /^\.gorgon-pop3\.(?:sizes|index)\.(\d+)\.[0-9a-f]{8}$/;

/**
 * Removes what a Gorgon process killed at the wrong moment (kill -9, OOM, power loss) left at
 * the top of the Maildir `dir`: the temporary file of a size cache or listing index, and a
 * lock it had moved aside to break it. Nothing else rereads them, so without this each kill
 * could leave one more. Called by the holder of the maildrop's lock (the caches are written
 * only under it, so a temporary file of another process is a leftover), once per Maildir and
 * process: one small directory read at a user's first login after a restart. Resolves the
 * names removed; never rejects (what cannot be read or removed is tried again after the next
 * restart).
 */
export async function sweepMaildirLeftovers(dir: string, lockName: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const temp = TEMP_NAME.exec(name);
      const leftover = temp
        ? Number(temp[1]) !== process.pid
        : await isLeftoverAside(name, lockName, async () => (await lstat(path)).ctimeMs).catch(() => false);
      if (!leftover) return;
      try {
        await unlink(path);
        removed.push(name);
      } catch {
        // gone already (another sweep), or not removable: left for the next one
      }
    }),
  );
  return removed;
}
