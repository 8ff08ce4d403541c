/** Counts of live handles by kind, as Node reports them. */
export type ResourceCounts = Record<string, number>;

/** Handle kinds that a finished test must not leave behind. */
const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'PipeServerWrap', 'TLSWrap', 'FileHandle', 'Timeout']);

function snapshot(): ResourceCounts {
  const counts: ResourceCounts = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Takes a snapshot of open sockets, servers, file handles and timers; the returned `check`
 * waits briefly for closes to settle and throws if any kind grew. Use it in beforeEach/afterEach.
 */
export function leakGuard(): { check(settleMs?: number): Promise<void> } {
  const before = snapshot();
  return {
    async check(settleMs = 500) {
      const deadline = Date.now() + settleMs;
      let grown: string[] = [];
      for (;;) {
        const now = snapshot();
        grown = Object.entries(now)
          .filter(([kind, count]) => count > (before[kind] ?? 0))
          .map(([kind, count]) => `${kind}: ${before[kind] ?? 0} -> ${count}`);
        if (grown.length === 0 || Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (grown.length > 0) throw new Error(`test left resources open: ${grown.join(', ')}`);
    },
  };
}
