// HTTP servers for the `http` benchmark, one per worker process, serving the same root:
//   gorgon    @gorgon/http's createHttpServer over a DiskStore with the open-file cache (what
//             `gorgon httpd --root DIR --cache-bytes 67108864` serves: files up to 256 KiB, valid 1 s)
//   raw       net.createServer: reads requests up to each CRLFCRLF (pipelining-safe), answers a
//             GET of the 4 KiB file from bytes read once at start, streams the 1 GiB file with
//             fs.createReadStream (1 MiB reads) piped to the socket: no per-request file work
//   nodehttp  node:http's createServer reading the file per request (fs.readFile, 4 KiB) or
//             streaming it (1 GiB)
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { join } from 'node:path';
import { serveIpc } from '../lib/worker.mjs';

const dist = new URL('../../packages/http/dist/index.js', import.meta.url);

/** What `connections` counts. */
let count = () => 0;

serveIpc({
  connections: () => count(),
  async start({ kind, root }) {
    if (kind === 'gorgon') {
      const { createHttpServer, DiskStore } = await import(dist.href);
      // No header deadline or idle timeout: the idle row holds silent connections for a while.
      const server = createHttpServer({
        store: new DiskStore(root),
        cache: { maxBytes: 64 << 20, maxFileBytes: 256 << 10, validMs: 1000 },
        limits: { maxConnections: 0, headerTimeoutMs: 0, idleTimeoutMs: 3_600_000 },
      });
      count = () => server.connections;
      return (await server.listen(0)).port;
    }
    if (kind === 'nodehttp') {
      const server = http.createServer((req, res) => {
        const path = join(root, decodeURIComponent(req.url ?? '/'));
        const size = statSync(path).size;
        if (size > 1 << 20) {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
          createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
          return;
        }
        void readFile(path).then((b) => {
          res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': b.length });
          res.end(b);
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return /** @type {net.AddressInfo} */ (server.address()).port;
    }
    const small = readFileSync(join(root, '4k.bin'));
    const smallReply = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${small.length}\r\n\r\n`),
      small,
    ]);
    const smallClose = Buffer.concat([
      Buffer.from(
        `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${small.length}\r\nConnection: close\r\n\r\n`,
      ),
      small,
    ]);
    const sockets = new Set();
    count = () => sockets.size;
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.setNoDelay(true);
      let pending = '';
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1');
        let end;
        // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
        while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
          const head = pending.slice(0, end);
          pending = pending.slice(end + 4);
          const target = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
          if (target === '/1g.bin') {
            const path = join(root, '1g.bin');
            socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${statSync(path).size}\r\nConnection: close\r\n\r\n`);
            createReadStream(path, { highWaterMark: 1 << 20 }).pipe(socket);
            return;
          }
          if (/\r\nconnection: *close/i.test(head)) {
            socket.end(smallClose);
            return;
          }
          socket.write(smallReply);
        }
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    return /** @type {net.AddressInfo} */ (server.address()).port;
  },
});
