// NNTP servers for the `nntp` benchmark, one per worker process, on copies of the same spool:
//   gorgon    @gorgon/nntp's createNntpServer over DiskNewsStore (fsyncs every accepted article)
//   baseline  a raw-Node NNTP responder, no framework: net.createServer, a line splitter, a
//             promise chain per connection; GROUP/ARTICLE/OVER from the spool's files (overview
//             lines loaded at start, articles read per request, dot-stuffed by regex);
//             MODE STREAM/TAKETHIS writing each article to a file with one fsync.
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import { serveIpc } from '../lib/worker.mjs';

let connections = () => 0;

async function gorgonServer({ dir, fsync = true }) {
  const nntp = await import('../../packages/nntp/dist/index.js');
  const store = await nntp.DiskNewsStore.open(dir, { fsync });
  const server = nntp.createNntpServer({
    store,
    pathHost: 'bench',
    feeders: () => true,
    anonymous: { read: '*', post: '*' },
    limits: { maxConnections: 0, maxConnectionsPerIp: 0 },
  });
  connections = () => server.connections;
  return (await server.listen(0, '127.0.0.1')).port;
}

async function baselineServer({ dir }) {
  const overview = new Map();
  for (const g of await readdir(join(dir, 'overview'))) {
    const lines = (await readFile(join(dir, 'overview', g), 'latin1')).split('\n').filter(Boolean);
    overview.set(g, new Map(lines.map((l) => [Number(l.slice(0, l.indexOf('\t'))), l])));
  }
  await mkdir(join(dir, 'incoming'), { recursive: true });
  const sockets = new Set();
  connections = () => sockets.size;
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('200 raw NNTP ready\r\n');
    let group;
    let pending = '';
    let chain = Promise.resolve();
    let article; // lines of a TAKETHIS or POST article
    let takeId; // undefined: a POST
    const handle = async (line) => {
      if (article) {
        if (line !== '.') return void article.push(line.startsWith('.') ? line.slice(1) : line);
        const data = `${article.join('\r\n')}\r\n`;
        article = undefined;
        const fh = await open(join(dir, 'incoming', String(Math.random()).slice(2)), 'w');
        await fh.writeFile(data);
        await fh.sync();
        await fh.close();
        return void socket.write(takeId === undefined ? '240 article received\r\n' : `239 ${takeId}\r\n`);
      }
      const [verb = '', arg = '', arg2 = ''] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'GROUP': {
          const ov = overview.get(arg);
          if (!ov) return void socket.write('411 no such group\r\n');
          group = arg;
          return void socket.write(`211 ${ov.size} 1 ${ov.size} ${arg}\r\n`);
        }
        case 'ARTICLE': {
          try {
            const data = await readFile(join(dir, 'articles', group, String(Number(arg))), 'latin1');
            return void socket.write(Buffer.from(`220 ${arg} <x>\r\n${data.replace(/^\./gm, '..')}.\r\n`, 'latin1'));
          } catch {
            return void socket.write('423 no such article\r\n');
          }
        }
        case 'OVER': {
          const [lo, hi] = arg.split('-').map(Number);
          const ov = overview.get(group);
          let out = '224 overview follows\r\n';
          for (let n = lo; n <= hi; n++) {
            const l = ov.get(n);
            if (l) out += `${l}\r\n`;
          }
          return void socket.write(Buffer.from(`${out}.\r\n`, 'latin1'));
        }
        case 'MODE':
          return void socket.write(arg.toUpperCase() === 'READER' ? '200 reader\r\n' : '203 streaming ok\r\n');
        case 'POST':
          takeId = undefined;
          article = [];
          return void socket.write('340 send it\r\n');
        case 'TAKETHIS':
          takeId = arg;
          article = [];
          return undefined;
        case 'QUIT':
          socket.end('205 bye\r\n');
          return undefined;
        default:
          void arg2;
          return void socket.write('500 what?\r\n');
      }
    };
    socket.on('data', (d) => {
      pending += d.toString('latin1');
      let i;
      // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
      while ((i = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, i).replace(/\r$/, '');
        pending = pending.slice(i + 1);
        chain = chain.then(() => handle(line));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server.address().port;
}

serveIpc({
  connections: () => connections(),
  start: (args) => (args.kind === 'gorgon' ? gorgonServer(args) : baselineServer(args)),
});
