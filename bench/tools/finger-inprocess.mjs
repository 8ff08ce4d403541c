// In-process A/B of a finger connection's JavaScript, without the kernel's or neighbours' noise:
// `node bench/tools/finger-inprocess.mjs [finger dist dir | baseline]` prints the CPU ns per
// connection (best and median of 15 rounds of 20,000) of Gorgon's finger server with a JSON
// directory, fed through its listener by a minimal fake socket (the events and methods a
// net.Socket gives the core, each a plain call), or of the raw server of workers/finger-server.mjs
// on the same fake socket. The fake's own cost is in both figures; their difference is Gorgon's.
// Default: this tree's packages/finger/dist (a tree built elsewhere gives the before figure).
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rawFingerHandler } from '../lib/finger-raw.mjs';

const which = process.argv[2] ?? new URL('../../packages/finger/dist', import.meta.url).pathname;
const QUERY = Buffer.from('alice\r\n');
const ALICE = { login: 'alice', name: 'Alice Liddell', plan: 'Down the rabbit hole; back by tea time.\nAsk the White Rabbit for the key.' };
const OTHERS = Array.from({ length: 30 }, (_, i) => ({ login: `user${i}`, name: `User Number ${i}` }));

/** What a server-side net.Socket offers the core, as plain calls; `close` follows both ends. */
class FakeSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 40000;
  destroyed = false;
  writable = true;
  writableNeedDrain = false;
  writableLength = 0;
  readableFlowing = null;
  bytes = 0;
  ended = false;
  peerEnded = false;
  /** @type {(() => void) | undefined} */
  onEnd;
  setNoDelay() {
    return this;
  }
  resume() {
    this.readableFlowing = true;
    return this;
  }
  pause() {
    this.readableFlowing = false;
    return this;
  }
  write(data) {
    this.bytes += data.length;
    return true;
  }
  end(data) {
    if (data) this.write(data);
    if (this.ended) return this;
    this.ended = true;
    this.writable = false;
    this.onEnd?.();
    return this;
  }
  destroy() {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.emit('close', false);
    return this;
  }
  /** The peer's FIN: `end`, then (both sides ended) `close`, as autoDestroy does. */
  peerEnd() {
    this.peerEnded = true;
    this.emit('end');
    if (this.ended) this.destroy();
  }
}

/** @returns {Promise<(socket: FakeSocket) => void>} what the server does with an accepted socket */
async function gorgonServer(dist) {
  let captured;
  const real = net.createServer;
  net.createServer = (...args) => {
    captured = real(...args);
    return captured;
  };
  syncBuiltinESMExports(); // so that the core's `import * as net` sees the wrapper
  const finger = await import(pathToFileURL(`${dist}/index.js`).href);
  const scratch = mkdtempSync(join(tmpdir(), 'gorgon-finger-inprocess-'));
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  const path = join(scratch, 'users.json');
  writeFileSync(path, `${JSON.stringify({ users: [...OTHERS, ALICE] }, null, 2)}\n`);
  const server = finger.createFingerServer({ directory: new finger.JsonUserDirectory(path), maxConnections: 0, maxConnectionsPerIp: 0 });
  net.createServer = real;
  syncBuiltinESMExports();
  if (!captured) throw new Error('the finger server made no net.Server');
  const accepting = captured;
  // The server stays reachable through the listener's handler; `server` keeps it obviously so.
  return Object.assign((socket) => accepting.emit('connection', socket), { server });
}

/** One connection: accept, the query, the peer's FIN once the server ended; resolves at close. */
function connection(serve) {
  return new Promise((resolve) => {
    const socket = new FakeSocket();
    socket.once('close', () => resolve(socket.bytes));
    socket.onEnd = () => queueMicrotask(() => socket.peerEnd());
    serve(socket);
    // The core resumes a paused socket (pauseOnConnect) in a later tick, as Node's stream would.
    setImmediate(() => socket.emit('data', QUERY));
  });
}

const serve = which === 'baseline' ? rawFingerHandler(await expectedReply()) : await gorgonServer(which);

async function expectedReply() {
  const gorgon = await gorgonServer(new URL('../../packages/finger/dist', import.meta.url).pathname);
  let text = '';
  const socket = new FakeSocket();
  socket.write = (d) => {
    text += Buffer.from(d).toString('latin1');
    return true;
  };
  await new Promise((resolve) => {
    socket.once('close', resolve);
    socket.onEnd = () => queueMicrotask(() => socket.peerEnd());
    gorgon(socket);
    setImmediate(() => socket.emit('data', QUERY));
  });
  return text;
}

const LANES = 50;
const PER_ROUND = 20_000;
async function round() {
  let left = PER_ROUND;
  const lane = async () => {
    while (left-- > 0) if ((await connection(serve)) === 0) throw new Error('no reply');
  };
  const t0 = process.cpuUsage();
  await Promise.all(Array.from({ length: LANES }, lane));
  const t = process.cpuUsage(t0);
  return ((t.user + t.system) * 1000) / PER_ROUND;
}
for (let i = 0; i < 5; i++) await round(); // warm-up
const ns = [];
for (let i = 0; i < 15; i++) ns.push(await round());
ns.sort((a, b) => a - b);
console.log(`${which === 'baseline' ? 'baseline' : which}: ${ns[0].toFixed(0)} ns best, ${ns[7].toFixed(0)} ns median per connection`);
