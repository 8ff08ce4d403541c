import { readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Counts of live resources by kind. */
export type ResourceCounts = Record<string, number>;

/** Handle kinds, as Node reports them, that a finished test must not leave behind. */
const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'PipeServerWrap', 'TLSWrap', 'UDPWrap', 'ProcessWrap']);

/**
 * Open regular files, from /proc/self/fd where there is one (Linux): Node lists no open
 * FileHandle among its active resources, so this is the only way to see a leaked one.
 */
function openFiles(): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return undefined;
  }
  let files = 0;
  for (const fd of entries) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('/') && !target.startsWith('/dev/') && !target.startsWith('/proc/')) files++;
    } catch {
      // closed while we looked
    }
  }
  return files;
}

function snapshot(): ResourceCounts {
  const counts: ResourceCounts = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  const files = openFiles();
  if (files !== undefined) counts.FileHandle = files;
  return counts;
}

/**
 * Timers are recorded as they are made, while a guard is active: counting Node's active
 * `Timeout`s cannot tell a leaked timer from one of the test runner's own, which come and go.
 * The runner keeps its own references to the timer functions, so only timers made by the code
 * under test (through the global `setTimeout` / `setInterval`) are seen.
 */
const recording = new Set<Set<NodeJS.Timeout>>();
let originals: { setTimeout: typeof setTimeout; setInterval: typeof setInterval } | undefined;

function recorder<F extends (...args: never[]) => NodeJS.Timeout>(make: F): F {
  const wrapped = function (this: unknown, ...args: Parameters<F>): NodeJS.Timeout {
    const timer = Reflect.apply(make, this, args) as NodeJS.Timeout;
    for (const timers of recording) timers.add(timer);
    return timer;
  };
  // Keep util.promisify's custom implementation and any other property of the original.
  Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(make));
  return wrapped as unknown as F;
}

function startRecording(timers: Set<NodeJS.Timeout>): void {
  recording.add(timers);
  if (originals) return;
  originals = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
  globalThis.setTimeout = recorder(originals.setTimeout);
  globalThis.setInterval = recorder(originals.setInterval);
}

function stopRecording(timers: Set<NodeJS.Timeout>): void {
  recording.delete(timers);
  if (recording.size > 0 || !originals) return;
  globalThis.setTimeout = originals.setTimeout;
  globalThis.setInterval = originals.setInterval;
  originals = undefined;
}

/** Timers still pending that would keep the process alive (unref'd ones would not). */
function pendingTimers(timers: Set<NodeJS.Timeout>): number {
  let pending = 0;
  for (const timer of timers) {
    if (timer.hasRef() && (timer as NodeJS.Timeout & { _destroyed?: boolean })._destroyed !== true) pending++;
  }
  return pending;
}

/**
 * Takes a snapshot of open sockets, servers, pipes, child processes and files, and starts
 * recording the timers the code under test makes; the returned `check` waits up to `settleMs`
 * (default 2 s; it returns as soon as everything is closed) for closes to settle and throws if
 * any kind grew or a ref'd timer is still pending. Create it in beforeEach, check it in afterEach.
 */
export function leakGuard(): { check(settleMs?: number): Promise<void> } {
  const before = snapshot();
  const timers = new Set<NodeJS.Timeout>();
  startRecording(timers);
  return {
    async check(settleMs = 2000) {
      const deadline = Date.now() + settleMs;
      let grown: string[] = [];
      try {
        for (;;) {
          const now = snapshot();
          grown = Object.entries(now)
            .filter(([kind, count]) => count > (before[kind] ?? 0))
            .map(([kind, count]) => `${kind}: ${before[kind] ?? 0} -> ${count}`);
          const pending = pendingTimers(timers);
          if (pending > 0) grown.push(`Timeout: ${pending} pending`);
          if (grown.length === 0 || Date.now() >= deadline) break;
          await sleep(20);
        }
      } finally {
        stopRecording(timers);
      }
      if (grown.length > 0) throw new Error(`test left resources open: ${grown.join(', ')}`);
    },
  };
}
