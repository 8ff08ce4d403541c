// In-process A/B of the line-protocol hot path, without sockets or neighbours' noise:
// `node bench/tools/lines-inprocess.mjs [core dist dir | baseline]` prints the CPU ns per pipelined
// "NOOP 123" line (best and median of 12 rounds of 150 × 64 KiB reads) through a LineSession
// over a plain Duplex, or through the raw splitter of workers/line-server.mjs. Default: this tree's
// packages/core/dist. A core built elsewhere (`git archive` + tsc) gives the before figure.
import { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
const which = process.argv[2] ?? new URL('../../packages/core/dist', import.meta.url).pathname;
const OK = '250 OK\r\n',
  BAD = '500 ?\r\n',
  MAX_LINE = 4096;
function answer(line) {
  const sp = line.indexOf(' ');
  const verb = sp === -1 ? line : line.slice(0, sp);
  return verb === 'NOOP' ? OK : BAD;
}
const COMMAND = Buffer.from('NOOP 123\r\n');
const PER = 6553;
const chunk = Buffer.alloc(COMMAND.length * PER);
for (let i = 0; i < PER; i++) COMMAND.copy(chunk, i * 10);
let outBytes = 0;
const d = new Duplex({
  read() {},
  write(c, _e, cb) {
    outBytes += c.length;
    cb();
  },
  decodeStrings: false,
});
if (which === 'baseline') {
  let tail,
    discarding = false;
  d.on('data', (chunk) => {
    const buf = tail ? Buffer.concat([tail, chunk]) : chunk;
    let start = 0,
      out = '',
      nl;
    // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
    while ((nl = buf.indexOf(10, start)) !== -1) {
      if (discarding) discarding = false;
      else {
        let end = nl;
        if (end > start && buf[end - 1] === 13) end--;
        out += end - start > MAX_LINE ? '500 line too long\r\n' : answer(buf.toString('utf8', start, end));
      }
      start = nl + 1;
    }
    tail = start < buf.length ? buf.subarray(start) : undefined;
    if (tail && tail.length > MAX_LINE + 1) {
      if (!discarding) out += '500 line too long\r\n';
      discarding = true;
      tail = undefined;
    }
    if (out.length > 0 && !d.write(out)) {
      d.pause();
      d.once('drain', () => d.resume());
    }
  });
} else {
  const core = await import(pathToFileURL(`${which}/index.js`).href);
  class S extends core.LineSession {
    constructor(ch) {
      super(ch, { maxLineLength: MAX_LINE });
    }
    onLine(line) {
      this.push(answer(line));
    }
  }
  new S(new core.Channel(d, {}));
}
await new Promise((r) => setTimeout(r, 10));
const best = [];
for (let round = 0; round < 12; round++) {
  const reps = 150;
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) {
    d.push(chunk);
  }
  await new Promise((r) => setImmediate(r));
  const t = process.cpuUsage(t0);
  best.push(((t.user + t.system) * 1000) / (reps * PER));
}
if (outBytes !== 12 * 150 * PER * 8) console.error('bad output', outBytes);
best.sort((a, b) => a - b);
console.log(which, 'ns/line min', best[0].toFixed(1), 'median', best[6].toFixed(1));
