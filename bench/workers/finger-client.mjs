// Load generator for the `finger` benchmark: `concurrency` lanes, each a loop of
// connect → "alice\r\n" → read until the server closes. Runs in its own process (the benchmark
// starts several) so that its CPU is not charged to the server and it is not the bottleneck.
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

const QUERY = Buffer.from('alice\r\n');

/** One finger request; resolves with the whole reply (latin1) or rejects. */
function request(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    /** @type {Buffer[]} */
    const parts = [];
    socket.on('connect', () => socket.write(QUERY));
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(parts.length === 1 ? parts[0].toString('latin1') : Buffer.concat(parts).toString('latin1'));
    });
  });
}

serveIpc({
  fetch: ({ port }) => request(port),
  /** Requests completed per second over `durationMs`, with `concurrency` lanes. */
  async run({ port, concurrency, durationMs, expect }) {
    let done = 0;
    let errors = 0;
    let wrong = 0;
    let stop = false;
    const t0 = performance.now();
    const lane = async () => {
      while (!stop) {
        try {
          const reply = await request(port);
          if (reply === expect) done++;
          else wrong++;
        } catch {
          errors++;
        }
      }
    };
    const timer = setTimeout(() => (stop = true), durationMs);
    const lanes = Array.from({ length: concurrency }, lane);
    // Count what completed in the window; requests in flight at the end still finish.
    await new Promise((r) => setTimeout(r, durationMs + 1));
    const completed = done;
    const elapsed = performance.now() - t0;
    await Promise.all(lanes);
    clearTimeout(timer);
    if (errors + wrong > completed / 100) throw new Error(`${errors} errors and ${wrong} wrong replies for ${completed} requests`);
    return { rate: completed / (elapsed / 1000), completed, errors, wrong };
  },
});
