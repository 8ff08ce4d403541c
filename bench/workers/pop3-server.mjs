// POP3 servers for the `pop3` benchmark, one per worker process, all on the same Maildir root:
//   gorgon    @gorgon/pop3's createPop3Server over MaildirStore, MemoryAuthenticator
//   baseline  a raw-Node POP3 responder, no framework: net.createServer, a line splitter, a
//             promise chain per connection, readdir + readFile of the Maildir, dot-stuffing by
//             regex (bare LF made CRLF the same way), one write per reply; sizes only from ,W=. USER/PASS/STAT/LIST/UIDL/RETR/DELE/NOOP/RSET/QUIT.
//             Like any correct POP3 server (RFC 1939 §8) it locks the maildrop while a session
//             has it open: the simplest lock file, O_EXCL create at login, unlink at the end.
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import * as net from 'node:net';
import { join } from 'node:path';
import { serveIpc } from '../lib/worker.mjs';

let connections = () => 0;

async function gorgonServer({ root, users }) {
  const core = await import('../../packages/core/dist/index.js');
  const pop3 = await import('../../packages/pop3/dist/index.js');
  const server = pop3.createPop3Server({
    maildrops: new pop3.MaildirStore(root),
    auth: new core.MemoryAuthenticator(users.map(([name, password]) => ({ name, password }))),
    mechanisms: ['user'],
    // Load comes from one address and the idle run holds 10,000 sessions: no caps.
    limits: { maxConnections: 0, maxConnectionsPerIp: 0 },
  });
  connections = () => server.connections;
  return (await server.listen(0, '127.0.0.1')).port;
}

function baselineServer({ root, users }) {
  const passwords = new Map(users);
  const sockets = new Set();
  connections = () => sockets.size;
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    let lock;
    const unlock = async () => {
      const path = lock;
      lock = undefined;
      if (path) await unlink(path).catch(() => {});
    };
    socket.on('close', () => {
      sockets.delete(socket);
      void unlock();
    });
    socket.on('error', () => {});
    socket.write('+OK raw POP3 ready\r\n');
    let user;
    let box; // [{ path, size, uid }]
    const deleted = new Set();
    let pending = '';
    let chain = Promise.resolve();
    const handle = async (line) => {
      const sp = line.indexOf(' ');
      const verb = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
      const arg = sp === -1 ? '' : line.slice(sp + 1);
      const msg = () => {
        const n = Number(arg);
        return box && Number.isInteger(n) && n >= 1 && n <= box.length && !deleted.has(n - 1) ? n - 1 : -1;
      };
      if (!box) {
        if (verb === 'USER') {
          user = arg;
          socket.write('+OK\r\n');
          return;
        }
        if (verb === 'PASS') {
          if (passwords.get(user) !== arg) return void socket.write('-ERR [AUTH] no\r\n');
          const lockPath = join(root, user, 'raw-pop3.lock');
          try {
            await (await open(lockPath, 'wx')).close();
          } catch {
            return void socket.write('-ERR [IN-USE] locked\r\n');
          }
          lock = lockPath;
          const dir = join(root, user, 'cur');
          const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
          box = names.map((n) => ({ path: join(dir, n), size: Number(/,W=(\d+)/.exec(n)?.[1] ?? 0), uid: n.split(':')[0] }));
          return void socket.write(`+OK ${box.length} messages\r\n`);
        }
        if (verb === 'QUIT') return void socket.end('+OK bye\r\n');
        return void socket.write('-ERR\r\n');
      }
      switch (verb) {
        case 'STAT': {
          let n = 0;
          let o = 0;
          box.forEach((m, i) => {
            if (deleted.has(i)) return;
            n++;
            o += m.size;
          });
          return void socket.write(`+OK ${n} ${o}\r\n`);
        }
        case 'LIST':
        case 'UIDL': {
          let out = '+OK\r\n';
          box.forEach((m, i) => {
            if (!deleted.has(i)) out += `${i + 1} ${verb === 'LIST' ? m.size : m.uid}\r\n`;
          });
          return void socket.write(`${out}.\r\n`);
        }
        case 'RETR': {
          const i = msg();
          if (i < 0) return void socket.write('-ERR no such message\r\n');
          // Bare LF (Postfix/procmail Maildirs) becomes CRLF, then dot-stuffing, as RFC 1939 §3 asks.
          let text = (await readFile(box[i].path, 'latin1')).replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
          if (text.length > 0 && !text.endsWith('\r\n')) text += '\r\n';
          return void socket.write(Buffer.from(`+OK ${box[i].size} octets\r\n${text}.\r\n`, 'latin1'));
        }
        case 'DELE': {
          const i = msg();
          if (i < 0) return void socket.write('-ERR no such message\r\n');
          deleted.add(i);
          return void socket.write('+OK\r\n');
        }
        case 'RSET':
          deleted.clear();
          return void socket.write('+OK\r\n');
        case 'NOOP':
          return void socket.write('+OK\r\n');
        case 'QUIT':
          await unlock();
          return void socket.end('+OK bye\r\n');
        default:
          return void socket.write('-ERR\r\n');
      }
    };
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let nl;
      // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl > 0 && pending[nl - 1] === '\r' ? nl - 1 : nl);
        pending = pending.slice(nl + 1);
        chain = chain.then(() => handle(line)).catch(() => socket.destroy());
      }
      if (pending.length > 4096) socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

serveIpc({
  start: (args) => (args.kind === 'gorgon' ? gorgonServer(args) : baselineServer(args)),
  connections: () => connections(),
});
