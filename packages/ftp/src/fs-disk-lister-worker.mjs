// @ts-check
// The helper thread of DirectoryLister (fs-disk-lister.ts): one synchronous lstat per name.
// Plain JavaScript, kept as it is in src/ and emitted to dist/ by tsc (allowJs): the same file
// loads from the built package, from the sources under vitest and under `pnpm dev`, without a
// TypeScript loader in the thread. Results go back as one transferred Float64Array per slice:
// no object per entry to clone.
import { lstatSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

/** Numbers per entry and the kind of a symbolic link: LISTED_FIELDS and LISTED_SYMLINK. */
const { fields, symlink } = /** @type {{ fields: number, symlink: number }} */ (workerData);

// A name holding bytes that are not UTF-8 comes as lone surrogates U+DC80 + byte (names.ts):
// such a path goes to lstat as its exact bytes.
const ESCAPED = /[\uDC80-\uDCFF]/u;

/** @param {string} path */
function bytesOf(path) {
  const parts = [];
  let last = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const paired = i > 0 && (path.charCodeAt(i - 1) & 0xfc00) === 0xd800;
    if (c < 0xdc80 || c > 0xdcff || paired) continue;
    parts.push(Buffer.from(path.slice(last, i)), Buffer.of(c - 0xdc00));
    last = i + 1;
  }
  parts.push(Buffer.from(path.slice(last)));
  return Buffer.concat(parts);
}

const port = parentPort;
if (!port) throw new Error('fs-disk-lister-worker runs as a worker thread');

port.on('message', (/** @type {{ dir: string, joined: string }} */ { dir, joined }) => {
  const names = joined.split('\0');
  const out = new Float64Array(names.length * fields);
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const escaped = ESCAPED.test(joined) || ESCAPED.test(prefix);
  for (let i = 0, o = 0; i < names.length; i++, o += fields) {
    let st;
    try {
      const path = prefix + names[i];
      st = lstatSync(escaped && ESCAPED.test(path) ? bytesOf(path) : path, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st) {
      out[o] = -1; // vanished since readdir
      continue;
    }
    out[o] = st.isDirectory() ? 1 : st.isFile() ? 0 : st.isSymbolicLink() ? symlink : 2;
    out[o + 1] = st.size;
    out[o + 2] = st.mtimeMs;
    out[o + 3] = st.mode;
    out[o + 4] = st.dev;
    out[o + 5] = st.ino;
  }
  port.postMessage(out, [out.buffer]);
});
