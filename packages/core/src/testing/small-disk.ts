import { spawnSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs mounted for a test, to fill up: see {@link mountSmallDisk}. */
export interface SmallDisk {
  /** Where it is mounted (an empty directory in the temporary directory). */
  readonly path: string;
  /** Whether the mount worked; when not, {@link whyNot} says why, for the test's skip. */
  readonly mounted: boolean;
  readonly whyNot: string;
  /**
   * Writes `file` (on this disk) until the file system says ENOSPC, then gives `spare` bytes
   * of it back (0: not one more byte fits).
   */
  fill(file: string, spare?: number): Promise<void>;
  /** Unmounts it and removes the directory. */
  dispose(): Promise<void>;
}

/**
 * Mounts a tmpfs of `size` (mount(8) syntax: `512k`, `2m`) on a fresh temporary directory, so a
 * test can see what a full disk does to a server. Mounting needs root (or CAP_SYS_ADMIN): where
 * it is not allowed, `mounted` is false and `whyNot` is the reason to skip with.
 */
export async function mountSmallDisk(size: string): Promise<SmallDisk> {
  const path = await mkdtemp(join(tmpdir(), 'gorgon-small-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', path], { encoding: 'utf8' });
  const mounted = r.status === 0;
  return {
    path,
    mounted,
    whyNot: mounted ? '' : `cannot mount a tmpfs to fill (${(r.stderr || r.error?.message || 'mount failed').trim()})`,
    async fill(file, spare = 0) {
      const handle = await open(file, 'w');
      const block = Buffer.alloc(4096, 0x78);
      let size = 0;
      try {
        for (;;) size += (await handle.write(block)).bytesWritten;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        if (spare > 0) await handle.truncate(Math.max(0, size - spare));
        await handle.close();
      }
    },
    async dispose() {
      if (mounted) spawnSync('umount', [path]);
      await rm(path, { recursive: true, force: true });
    },
  };
}
