// Samples a server's memory from its admin listener's /metrics (prom-client's process
// figures, docs/operations.md "Metrics") while it runs under load.

const WANTED = {
  rss: 'gorgon_process_resident_memory_bytes',
  heapUsed: 'gorgon_nodejs_heap_size_used_bytes',
  heapTotal: 'gorgon_nodejs_heap_size_total_bytes',
  external: 'gorgon_nodejs_external_memory_bytes',
};

export async function sampleMetrics(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const out = { t: Date.now() };
  for (const [key, metric] of Object.entries(WANTED)) {
    const m = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    if (m) out[key] = Number(m[1]);
  }
  // What is neither V8's heap nor Buffers: code, stacks, and what malloc holds (its arenas).
  if (out.rss && out.heapTotal && out.external !== undefined) out.native = out.rss - out.heapTotal - out.external;
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)];
};

/**
 * Start and end of a series: the medians of its first and last fifth (after `warmupMs`), the
 * growth between them, and the growth over the second half alone (a series that plateaus
 * grows in the first half only).
 */
export function summarize(samples, key, warmupMs) {
  const t0 = samples[0]?.t ?? 0;
  const xs = samples.filter((s) => s.t - t0 >= warmupMs && Number.isFinite(s[key]));
  const fifth = Math.max(1, Math.floor(xs.length / 5));
  const start = median(xs.slice(0, fifth).map((s) => s[key]));
  const end = median(xs.slice(-fifth).map((s) => s[key]));
  const mid = median(
    xs.slice(Math.floor(xs.length / 2) - Math.floor(fifth / 2), Math.floor(xs.length / 2) + Math.ceil(fifth / 2)).map((s) => s[key]),
  );
  return { start, mid, end, max: Math.max(...xs.map((s) => s[key])), growth: end / start, secondHalfGrowth: end / mid };
}
