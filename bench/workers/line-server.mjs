// Line-protocol servers for the `lines` and `idle` benchmarks, one per worker process:
//   gorgon    a LineSession subclass on createListener (what a protocol package does)
//   baseline  net.createServer + 'data' + Buffer.indexOf splitter, one batched write per read,
//             with the same line cap and backpressure a careful hand-written server would have
// Both answer `NOOP ...` with `250 OK` and anything else with `500 ?`.
import * as net from 'node:net';
import { pathToFileURL } from 'node:url';
import { serveIpc } from '../lib/worker.mjs';

// GORGON_BENCH_CORE=/path/to/a/core/dist A/B-tests a core change without touching the tree.
const core = await import(
  process.env.GORGON_BENCH_CORE
    ? pathToFileURL(`${process.env.GORGON_BENCH_CORE.replace(/\/$/, '')}/index.js`).href
    : '../../packages/core/dist/index.js'
);

const OK = '250 OK\r\n';
const BAD = '500 ?\r\n';
const MAX_LINE = 4096;

/** The reply to one line: a verb split off the front, as a protocol's command table does. */
function answer(line) {
  const sp = line.indexOf(' ');
  const verb = sp === -1 ? line : line.slice(0, sp);
  return verb === 'NOOP' ? OK : BAD;
}

class BenchSession extends core.LineSession {
  constructor(channel) {
    super(channel, { maxLineLength: MAX_LINE });
  }
  onLine(line) {
    this.push(answer(line));
  }
  onLineTooLong() {
    this.push('500 line too long\r\n');
  }
}

function gorgonServer() {
  // Limits lifted so the idle benchmark can hold 10,000 connections with no timeout.
  const listener = core.createListener({ name: 'bench', maxConnections: 0, idleTimeoutMs: 0 }, (ch) => new BenchSession(ch));
  return { listen: (port) => listener.listen(port, '127.0.0.1'), connections: () => listener.connections };
}

function baselineServer() {
  const sockets = new Set();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    /** @type {Buffer | undefined} */
    let tail;
    let discarding = false;
    socket.on('data', (chunk) => {
      const buf = tail ? Buffer.concat([tail, chunk]) : chunk;
      let start = 0;
      let out = '';
      let nl;
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
      if (out.length > 0 && !socket.write(out)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
  });
  return {
    listen: (port) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(server.address()));
      }),
    connections: () => sockets.size,
  };
}

/** @type {{ listen(port: number): Promise<net.AddressInfo>, connections(): number } | undefined} */
let server;

serveIpc({
  async start({ kind }) {
    server = kind === 'gorgon' ? gorgonServer() : baselineServer();
    const address = await server.listen(0);
    return address.port;
  },
  connections: () => server?.connections() ?? 0,
});
