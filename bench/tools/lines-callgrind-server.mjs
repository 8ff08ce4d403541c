// Server for bench/tools/lines-callgrind.sh: `node lines-callgrind-server.mjs <core dist dir | baseline> <portfile>`
// serves one connection of the `lines` benchmark (same LineSession and raw splitter as
// workers/line-server.mjs), writes its port to <portfile>, and exits when the connection closes.
import * as net from 'node:net';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [which, portfile] = process.argv.slice(2);
const OK = '250 OK\r\n',
  BAD = '500 ?\r\n',
  MAX_LINE = 4096;
function answer(line) {
  const sp = line.indexOf(' ');
  const verb = sp === -1 ? line : line.slice(0, sp);
  return verb === 'NOOP' ? OK : BAD;
}
let server;
if (which === 'baseline') {
  server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.on('close', () => server.close());
    let tail;
    let discarding = false;
    socket.on('data', (chunk) => {
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
      if (out.length > 0 && !socket.write(out)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
  });
  server.listen(0, '127.0.0.1', () => writeFileSync(portfile, String(server.address().port)));
} else {
  const core = await import(pathToFileURL(`${which}/index.js`).href);
  class S extends core.LineSession {
    constructor(ch) {
      super(ch, { maxLineLength: MAX_LINE });
    }
    onLine(line) {
      this.push(answer(line));
    }
    handleClose() {
      listener.close();
    }
  }
  const listener = core.createListener({ name: 'bench', maxConnections: 0, idleTimeoutMs: 0 }, (ch) => new S(ch));
  const a = await listener.listen(0, '127.0.0.1');
  writeFileSync(portfile, String(a.port));
}
