// The worker side of proc.mjs: answers `{ id, op, args }` requests from the parent by calling
// `handlers[op](args)`, and exits as soon as the parent goes away.
import { setImmediate as tick } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * @param {Record<string, (args: any) => unknown>} handlers
 */
export function serveIpc(handlers) {
  const all = { ...commonHandlers, ...handlers };
  process.on('message', async (/** @type {any} */ msg) => {
    const { id, op, args } = msg ?? {};
    try {
      const fn = all[op];
      if (!fn) throw new Error(`unknown op ${op}`);
      const value = await fn(args);
      process.send?.({ id, ok: true, value });
    } catch (err) {
      process.send?.({ id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  // The parent died or finished: never linger.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

/** Ops every worker understands. */
const commonHandlers = {
  /** CPU time used by this process so far, in microseconds. */
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  },
  /** Memory after full garbage collections (run the worker with --expose-gc). */
  mem: async () => {
    if (typeof globalThis.gc !== 'function') throw new Error('run this worker with --expose-gc');
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await tick();
    }
    // The young generation's committed pages: empty after the full GCs above, but resident,
    // and sized by V8's own heuristics (they grow with the allocation rate, not with live data).
    let young = 0;
    for (const space of getHeapSpaceStatistics()) {
      if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') young += space.physical_space_size;
    }
    return { ...process.memoryUsage(), young };
  },
  exit: () => {
    setImmediate(() => process.exit(0));
    return true;
  },
};
