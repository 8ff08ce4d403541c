// Small statistics and formatting helpers.

/** @param {number[]} values */
export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const upper = /** @type {number} */ (s[mid]);
  if (s.length % 2) return upper;
  const lower = /** @type {number} */ (s[mid - 1]);
  return (lower + upper) / 2;
}

/** Spread of a sample as (max − min) / median, to show how noisy a figure was. */
export function spread(values) {
  const m = median(values);
  return values.length < 2 || !m ? 0 : (Math.max(...values) - Math.min(...values)) / m;
}

/** A figure with a sensible number of digits and thousands separators. */
export function fmt(value, digits) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value ?? '-');
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
