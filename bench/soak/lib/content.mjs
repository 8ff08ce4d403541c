// Deterministic content: what each upload, append, message and article holds is derived from
// its name, a version and the run's seed, so the checker can tell every byte's origin.
import { createHash } from 'node:crypto';

/** mulberry32: a small, fast PRNG; the same seed gives the same sequence. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(...parts) {
  return createHash('sha256').update(parts.join('\0')).digest().readUInt32LE(0);
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789 ';

/** Text lines of about `bytes` octets, none starting with '#' (APPE chunk headers start with it). */
export function textOf(bytes, ...parts) {
  const random = prng(seedOf(...parts));
  const out = [];
  let size = 0;
  while (size < bytes) {
    const n = 20 + Math.floor(random() * 60);
    let line = '';
    for (let i = 0; i < n; i++) line += ALPHABET[Math.floor(random() * ALPHABET.length)];
    // Some lines start with a dot: dot-stuffing must round-trip.
    if (random() < 0.05) line = `.${line}`;
    out.push(line);
    size += line.length + 1;
  }
  return `${out.join('\n')}\n`;
}

/** The bytes of version `v` of the STOR file `name`: binary, 1 KiB to `maxBytes`. */
export function storContent(seed, name, v, maxBytes) {
  const random = prng(seedOf('stor', seed, name, v));
  const size = 1024 + Math.floor(random() * (maxBytes - 1024));
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE(Math.floor(random() * 4294967296), Math.min(i, size - 4));
  // The version in the first bytes, for the report.
  buf.write(`${name}#${v};`, 0, 'latin1');
  return buf;
}

/** The `k`-th APPE chunk of `name`: a header line `#k name` then text. */
export function appendChunk(seed, name, k, maxBytes) {
  const random = prng(seedOf('appe', seed, name, k));
  return Buffer.from(`#${k} ${name}\n${textOf(256 + Math.floor(random() * maxBytes), 'appe-body', seed, name, k)}`, 'latin1');
}
