// Servers for the `ftp` benchmark, one per worker process:
//   gorgon     @gorgon/ftp's createFtpServer over a disk root (anonymous read-only + user bench)
//   raw-retr   net.createServer that streams big.bin to every connection (fs stream, 1 MiB reads)
//   raw-stor   net.createServer that copies every connection into a file, fsyncs, renames, says 226
//   raw-idle   net.createServer that greets every connection and holds it
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

async function gorgon(root) {
  const ftp = await import('../../packages/ftp/dist/index.js');
  const core = await import('../../packages/core/dist/index.js');
  // All load comes from 127.0.0.1: lift the connection cap, as an operator behind a balancer would.
  server = ftp.createFtpServer({
    root,
    anonymous: true,
    auth: new core.MemoryAuthenticator([{ name: 'bench', password: 'bench' }]),
    limits: { maxConnections: 0, maxConnectionsPerIp: 0 },
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

function rawStor(root) {
  server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    track(socket);
    const temp = join(root, 'upload', `.raw-${++uploads}.tmp`);
    const out = fs.createWriteStream(temp, { highWaterMark: 1024 * 1024 });
    socket.pipe(out);
    out.on('finish', async () => {
      const handle = await open(temp, 'r+');
      await handle.sync();
      await handle.close();
      await rename(temp, join(root, 'upload', 'raw.bin'));
      socket.end('226 stored\r\n');
    });
  });
  return listen(server);
}

function rawIdle() {
  server = net.createServer({ noDelay: true }, (socket) => {
    track(socket);
    socket.write('220 ready\r\n');
  });
  return listen(server);
}

serveIpc({
  start: ({ kind, root }) => {
    if (kind === 'gorgon') return gorgon(root);
    if (kind === 'raw-retr') return rawRetr(root);
    if (kind === 'raw-stor') return rawStor(root);
    if (kind === 'raw-idle') return rawIdle();
    throw new Error(`unknown server kind ${kind}`);
  },
  connections: () => (typeof server?.connections === 'number' ? server.connections : sockets.size),
});
