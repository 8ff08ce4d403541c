// The load generator of the `nntp` benchmark: ARTICLE lock-step and pipelined, OVER of a
// range, TAKETHIS streaming, each on a fresh connection over loopback.
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

/** A connection that resolves `until(predicate on the received text)`. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let text = '';
    let waiter;
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (waiter?.test(text)) {
        const w = waiter;
        waiter = undefined;
        w.resolve();
      }
    });
    socket.once('error', reject);
    const c = {
      socket,
      take: () => {
        const t = text;
        text = '';
        return t;
      },
      until: (test) =>
        new Promise((res) => {
          if (test(text)) res();
          else waiter = { test, resolve: res };
        }),
    };
    c.until((t) => t.includes('\r\n')).then(() => resolve(c));
  });
}

/** Counts complete responses in `t`: single lines for codes in `single`, else to "\r\n.\r\n". */
const endsMultiline = (t) => t.endsWith('\r\n.\r\n');

async function article({ port, group, count, pipelined }) {
  const c = await connect(port);
  c.take();
  c.socket.write(`GROUP ${group}\r\n`);
  await c.until((t) => t.includes('\r\n'));
  c.take();
  const start = performance.now();
  if (pipelined) {
    let req = '';
    for (let n = 1; n <= count; n++) req += `ARTICLE ${n}\r\n`;
    c.socket.write(req);
    let done = 0;
    let pos = 0;
    await c.until((t) => {
      let i;
      // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
      while ((i = t.indexOf('\r\n.\r\n', pos)) !== -1) {
        done++;
        pos = i + 5;
      }
      return done >= count;
    });
  } else {
    for (let n = 1; n <= count; n++) {
      c.socket.write(`ARTICLE ${n}\r\n`);
      await c.until(endsMultiline);
      c.take();
    }
  }
  const ms = performance.now() - start;
  c.socket.destroy();
  return { rate: (count * 1000) / ms };
}

async function over({ port, group, count }) {
  const c = await connect(port);
  c.socket.write(`GROUP ${group}\r\n`);
  await c.until((t) => t.split('\r\n').length > 2);
  c.take();
  const start = performance.now();
  c.socket.write(`OVER 1-${count}\r\n`);
  await c.until(endsMultiline);
  const ms = performance.now() - start;
  const lines = c.take().split('\r\n').length - 3;
  c.socket.destroy();
  if (lines !== count) throw new Error(`OVER returned ${lines} lines, not ${count}`);
  return { ms };
}

async function takethis({ port, count, prefix, group }) {
  const c = await connect(port);
  c.socket.write('MODE STREAM\r\n');
  await c.until((t) => t.split('\r\n').length > 2);
  c.take();
  const date = new Date().toUTCString();
  let req = '';
  for (let i = 0; i < count; i++) {
    const id = `<${prefix}.${i}@bench>`;
    req += `TAKETHIS ${id}\r\nPath: feeder\r\nFrom: bench@example.org\r\nNewsgroups: ${group}\r\nSubject: streamed ${i}\r\nMessage-ID: ${id}\r\nDate: ${date}\r\n\r\nbody of ${i}\r\n${'line of text '.repeat(5)}\r\n.\r\n`;
  }
  const start = performance.now();
  c.socket.write(req);
  await c.until((t) => (t.match(/\r\n/g)?.length ?? 0) >= count);
  const ms = performance.now() - start;
  const accepted = (c.take().match(/^239 /gm) ?? []).length;
  c.socket.destroy();
  if (accepted !== count) throw new Error(`TAKETHIS: ${accepted} of ${count} accepted`);
  return { rate: (count * 1000) / ms };
}

serveIpc({ article, over, takethis });
