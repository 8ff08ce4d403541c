// In-process A/B of the HTTP keep-alive hot path, without sockets or neighbours' noise:
// `node bench/tools/http-inprocess.mjs [http dist dir]` prints the CPU µs per request (best and
// median of 12 rounds of 50,000) of a 4 KiB GET answered from the open-file cache, each request
// pushed as its own read (as wrk sends them, one at a time) into a session over a plain Duplex
// whose writes cost nothing. What it measures is the JS side only: parsing, dispatch, the cache
// lookup, the core's framer and output FIFO; the socket read and write are not in it.
// Default: this tree's packages/http/dist (run `pnpm build` first).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';

const dist = process.argv[2] ?? new URL('../../packages/http/dist', import.meta.url).pathname;
const { createHttpServer, DiskStore } = await import(pathToFileURL(join(dist, 'index.js')).href);
const root = mkdtempSync(join(tmpdir(), 'gorgon-http-inprocess-'));
writeFileSync(join(root, '4k.bin'), Buffer.alloc(4096, 7));
const server = createHttpServer({
  store: new DiskStore(root),
  cache: { maxBytes: 1 << 26, maxFileBytes: 1 << 20, validMs: 1000 },
  limits: { maxConnections: 0, headerTimeoutMs: 0 },
});
const request = Buffer.from('GET /4k.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
const N = 50_000;
const perRequest = [];
let answered = 0;
for (let round = 0; round < 12; round++) {
  const d = new Duplex({
    read() {},
    write(_c, _e, cb) {
      answered++;
      cb();
    },
  });
  server.accept(d);
  await new Promise((r) => setImmediate(r));
  answered = 0;
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    d.push(request);
    if ((i & 255) === 0) await null;
  }
  while (answered < N) await new Promise((r) => setImmediate(r));
  const c = process.cpuUsage(t0);
  perRequest.push((c.user + c.system) / N);
  d.destroy();
}
perRequest.sort((a, b) => a - b);
console.log(`best ${perRequest[0].toFixed(2)} µs, median ${perRequest[6].toFixed(2)} µs per request (${dist})`);
await server.close();
rmSync(root, { recursive: true, force: true });
process.exit(0);
