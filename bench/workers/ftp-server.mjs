// Servers for the `ftp` benchmark, one per worker process:
//   gorgon     @gorgon/ftp's createFtpServer over a disk root (anonymous read-only + user bench);
//              `fsync: false` acknowledges uploads without flushing them (disk.fsync)
//   raw-retr   net.createServer that streams big.bin to every connection (fs stream, 1 MiB reads)
//   raw-stor   net.createServer that copies every connection into a file, fsyncs (unless
//              `fsync: false`), renames, says 226
//   raw-idle   net.createServer that greets every connection, reads its command lines and holds it
import * as fs from 'node:fs';
import { open, rename } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import { serveIpc } from '../lib/worker.mjs';

/** @type {any} */
let server;
/** @type {Set<net.Socket>} */
const sockets = new Set();
let uploads = 0;

function track(socket) {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
}

async function listen(s) {
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  return s.address().port;
}

async function gorgon(root, fsync) {
  const ftp = await import('../../packages/ftp/dist/index.js');
  const core = await import('../../packages/core/dist/index.js');
  // All load comes from 127.0.0.1: lift the connection cap, as an operator behind a balancer would.
  server = ftp.createFtpServer({
    root,
    anonymous: true,
    auth: new core.MemoryAuthenticator([{ name: 'bench', password: 'bench' }]),
    limits: { maxConnections: 0, maxConnectionsPerIp: 0 },
    disk: { fsync },
  });
  return (await server.listen(0, '127.0.0.1')).port;
}

function rawRetr(root) {
  const file = join(root, 'big.bin');
  server = net.createServer({ noDelay: true }, (socket) => {
    track(socket);
    fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(socket);
  });
  return listen(server);
}

function rawStor(root, fsync) {
  server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    track(socket);
    const temp = join(root, 'upload', `.raw-${++uploads}.tmp`);
    const out = fs.createWriteStream(temp, { highWaterMark: 1024 * 1024 });
    socket.pipe(out);
    out.on('finish', async () => {
      if (fsync) {
        const handle = await open(temp, 'r+');
        await handle.sync();
        await handle.close();
      }
      await rename(temp, join(root, 'upload', 'raw.bin'));
      socket.end('226 stored\r\n');
    });
  });
  return listen(server);
}

/** The few commands the idle baseline answers (it is there to be measured holding connections). */
function rawAnswer(session, line) {
  const sp = line.indexOf(' ');
  const verb = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
  const arg = sp === -1 ? '' : line.slice(sp + 1);
  if (verb === 'USER') {
    session.user = arg;
    return '331 password please\r\n';
  }
  if (verb === 'PASS') {
    session.state = 'ready';
    return '230 logged in\r\n';
  }
  if (verb === 'NOOP') return '200 ok\r\n';
  if (verb === 'QUIT') return '221 bye\r\n';
  return '502 unknown command\r\n';
}

/**
 * The least a server that hears FTP commands keeps per connection: the socket, a line splitter
 * reading it, and the session's state (login state, user, working directory, TYPE, REST, RNFR).
 */
function rawIdle() {
  server = net.createServer({ noDelay: true }, (socket) => {
    track(socket);
    const session = { state: 'user', user: '', cwd: '/', type: 'A', rest: 0, renameFrom: undefined };
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let nl;
      // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        socket.write(rawAnswer(session, line));
      }
      if (pending.length > 4096) socket.destroy();
    });
    socket.write('220 ready\r\n');
  });
  return listen(server);
}

serveIpc({
  start: ({ kind, root, fsync = true }) => {
    if (kind === 'gorgon') return gorgon(root, fsync);
    if (kind === 'raw-retr') return rawRetr(root);
    if (kind === 'raw-stor') return rawStor(root, fsync);
    if (kind === 'raw-idle') return rawIdle();
    throw new Error(`unknown server kind ${kind}`);
  },
  /** CPU time so far split into user and system (kernel) time, in microseconds. */
  cpuSplit: () => process.cpuUsage(),
  connections: () => (typeof server?.connections === 'number' ? server.connections : sockets.size),
});
