#!/usr/bin/env node
// `node bench/lib/prof-top.mjs <file.cpuprofile> [N] [ops]`: where the time went, as self time per
// function (the hot spots) and total time per function (what they are called under).
import { readFileSync } from 'node:fs';

const [file, n = '25', perArg] = process.argv.slice(2);
/** With a third argument (operations served while profiling), also µs per operation. */
const per = perArg ? Number(perArg) : 0;
if (!file) {
  console.error('usage: node bench/lib/prof-top.mjs <file.cpuprofile> [N] [operations served]');
  process.exit(1);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const hits = new Map();
for (const id of prof.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = prof.samples.length;
/** Mean sampling interval in µs. */
const interval = (prof.endTime - prof.startTime) / total;
const key = (node) => {
  const f = node.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(packages|bench|node:)/, '$1')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const inclusive = new Map();
for (const [id, count] of hits) {
  const k = key(byId.get(id));
  self.set(k, (self.get(k) ?? 0) + count);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const kk = key(byId.get(cur));
    if (seen.has(kk)) continue;
    seen.add(kk);
    inclusive.set(kk, (inclusive.get(kk) ?? 0) + count);
  }
}
const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
const busy = total - idle;
const show = (title, map) => {
  console.log(`\n${title} (% of ${busy} busy samples)`);
  for (const [k, v] of [...map]
    .filter(([k]) => !/^\((idle|root|program)\)/.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(n))) {
    console.log(`${((100 * v) / busy).toFixed(1).padStart(6)} %  ${k}`);
  }
};
console.log(`${file}: ${total} samples, ${((100 * idle) / total).toFixed(0)} % idle`);
// Self time by area: which layer spends the CPU.
const area = (node) => {
  const f = node.callFrame;
  const m = /\/packages\/([^/]+)\//.exec(f.url);
  if (m) return `@gorgon/${m[1]}`;
  if (f.url.includes('/bench/')) return 'bench (server code)';
  if (f.url.startsWith('node:')) return 'node (JS internals)';
  if (f.functionName === '(garbage collector)') return 'GC';
  if (/^\((idle|root|program)\)$/.test(f.functionName)) return f.functionName;
  return 'native (syscalls, V8 builtins)';
};
const areas = new Map();
for (const [id, count] of hits) {
  const a = area(byId.get(id));
  areas.set(a, (areas.get(a) ?? 0) + count);
}
console.log(`\nself time by area (% of busy samples)`);
for (const [a, v] of [...areas].filter(([a]) => !/^\((idle|root)\)/.test(a)).sort((x, y) => y[1] - x[1])) {
  const us = per ? `  ${((v * interval) / per).toFixed(2).padStart(8)} µs/op` : '';
  console.log(`${((100 * v) / busy).toFixed(1).padStart(6)} %${us}  ${a}`);
}
if (per) console.log(`${((busy * interval) / per).toFixed(2).padStart(17)} µs/op busy in all`);
show('self time', self);
show('total time', inclusive);
