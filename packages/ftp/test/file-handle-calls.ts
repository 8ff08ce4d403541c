import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

/**
 * Temporary directories for a test file, and calls of Node's FileHandle methods counted on its
 * prototype (the calls still run): how the DiskFs tests see which writes and syncs an upload
 * made. Call `cleanup()` in afterEach; it also ends the counting (vi.restoreAllMocks).
 */
export function fileHandleProbe(prefix: string) {
  const dirs: string[] = [];
  let proto: Record<string, (...args: unknown[]) => unknown> | undefined;
  return {
    /** A fresh temporary directory, removed by `cleanup()`. */
    async dir(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    /** Counts calls of the named FileHandle methods from now on. */
    async count(...methods: string[]): Promise<{ readonly calls: number }> {
      if (!proto) {
        const handle = await open(join(await this.dir(), 'probe'), 'w');
        proto = Object.getPrototypeOf(handle) as Record<string, (...args: unknown[]) => unknown>;
        await handle.close();
      }
      const spies = methods.map((m) => vi.spyOn(proto!, m));
      return {
        get calls() {
          return spies.reduce((n, s) => n + s.mock.calls.length, 0);
        },
      };
    },
    async cleanup(): Promise<void> {
      vi.restoreAllMocks();
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}
