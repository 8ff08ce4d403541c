/** A range of ports, both ends included (the shape of `@gorgon/ftp`'s `PortRange`). */
export interface PortSpan {
  min: number;
  max: number;
}

/**
 * Worker `index`'s share of `range` when `count` workers split it: consecutive, disjoint
 * sub-ranges as even as they can be (the first `size % count` get one port more). A data
 * connection to a passive port must reach the worker that owns the control connection, and a
 * port bound by one worker alone (`exclusive`) is reached only by that worker.
 * Throws when there are fewer ports than workers.
 */
export function splitPortRange(range: PortSpan, count: number, index: number): PortSpan {
  const size = range.max - range.min + 1;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`worker ${index} of ${count} does not exist`);
  }
  if (size < count) throw new RangeError(`${size} ${size === 1 ? 'port' : 'ports'} cannot be split between ${count} workers`);
  const base = Math.floor(size / count);
  const extra = size % count;
  const min = range.min + index * base + Math.min(index, extra);
  const max = min + base + (index < extra ? 1 : 0) - 1;
  return { min, max };
}
