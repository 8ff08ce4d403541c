#!/usr/bin/env node
// `node bench/lib/prof-top.mjs <file.cpuprofile> [N]`: where the time went, as self time per
// function (the hot spots) and total time per function (what they are called under).
import { readFileSync } from 'node:fs';

const [file, n = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/lib/prof-top.mjs <file.cpuprofile> [N]');
  process.exit(1);
}
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of prof.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const hits = new Map();
for (const id of prof.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = prof.samples.length;
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
  for (const [k, v] of [...map].filter(([k]) => !/^\((idle|root|program)\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
    console.log(`${((100 * v) / busy).toFixed(1).padStart(6)} %  ${k}`);
  }
};
console.log(`${file}: ${total} samples, ${((100 * idle) / total).toFixed(0)} % idle`);
show('self time', self);
show('total time', inclusive);
