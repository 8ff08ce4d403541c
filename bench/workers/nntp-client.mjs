// The load generator of the `nntp` benchmark: ARTICLE lock-step and pipelined, OVER of a
// range, TAKETHIS streaming, each on a fresh connection over loopback.
import * as net from 'node:net';
import { GROUP, benchArticle, dotStuffed, smallArticle } from '../lib/nntp-articles.mjs';
import { serveIpc } from '../lib/worker.mjs';

/** A connection that resolves `until(predicate on the received text)`. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    let text = '';
    let waiter;
    socket.on('data', (d) => {
      if (c.onChunk) return c.onChunk(d);
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
      /** When set, received bytes go here instead of into the text (see {@link countEnds}). */
      onChunk: undefined,
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

const END = Buffer.from('\r\n.\r\n');

/**
 * Resolves once `count` multi-line replies have ended ("\r\n.\r\n", also across two reads),
 * scanning the bytes as they come instead of growing a string: the load generator must cost
 * less than the servers it measures (a string grown by 64 KiB reads and searched after each
 * one is flattened again and again). `keep` keeps the bytes, for the caller to check.
 */
function countEnds(c, count, keep = false) {
  return new Promise((resolve) => {
    let done = 0;
    let prev = Buffer.alloc(0); // the last unmatched bytes received (at most 4)
    const kept = [];
    c.onChunk = (d) => {
      if (keep) kept.push(d);
      let pos = 0;
      if (prev.length > 0) {
        const joint = Buffer.concat([prev, d.subarray(0, END.length - 1)]);
        const k = joint.indexOf(END);
        if (k !== -1) {
          done++;
          pos = k + END.length - prev.length;
        }
      }
      let i;
      // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop
      while ((i = d.indexOf(END, pos)) !== -1) {
        done++;
        pos = i + END.length;
      }
      const tail = END.length - 1;
      prev = pos > 0 ? d.subarray(Math.max(pos, d.length - tail)) : Buffer.concat([prev, d.subarray(-tail)]).subarray(-tail);
      if (done >= count) {
        c.onChunk = undefined;
        resolve(keep ? Buffer.concat(kept) : undefined);
      }
    };
  });
}

/** MODE READER first (INN hands a reader to nnrpd on it; Gorgon answers it too). */
async function reader(c, modeReader) {
  if (!modeReader) return;
  c.take();
  c.socket.write('MODE READER\r\n');
  await c.until((t) => t.includes('\r\n'));
  const r = c.take();
  if (!/^20[01] /.test(r)) throw new Error(`MODE READER: ${r.trim()}`);
}

/** Resolves with the bytes received once `count` lines have ended (one-line replies), counted per read. */
function countLines(c, count) {
  return new Promise((resolve) => {
    let done = 0;
    const kept = [];
    c.onChunk = (d) => {
      kept.push(d);
      for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) done++;
      if (done >= count) {
        c.onChunk = undefined;
        resolve(Buffer.concat(kept).toString('latin1'));
      }
    };
  });
}

async function article({ port, group, count, pipelined, modeReader }) {
  const c = await connect(port);
  await reader(c, modeReader);
  c.take();
  c.socket.write(`GROUP ${group}\r\n`);
  await c.until((t) => t.includes('\r\n'));
  c.take();
  const start = performance.now();
  if (pipelined) {
    let req = '';
    for (let n = 1; n <= count; n++) req += `ARTICLE ${n}\r\n`;
    const ended = countEnds(c, count);
    c.socket.write(req);
    await ended;
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

async function over({ port, group, count, modeReader }) {
  const c = await connect(port);
  await reader(c, modeReader);
  c.take();
  c.socket.write(`GROUP ${group}\r\n`);
  await c.until((t) => t.includes('\r\n'));
  c.take();
  const ended = countEnds(c, 1, true);
  const start = performance.now();
  c.socket.write(`OVER 1-${count}\r\n`);
  const reply = await ended;
  const ms = performance.now() - start;
  const lines = reply.toString('latin1').split('\r\n').length - 3;
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
  const answered = countLines(c, count);
  const start = performance.now();
  c.socket.write(req);
  const replies = await answered;
  const ms = performance.now() - start;
  const accepted = (replies.match(/^239 /gm) ?? []).length;
  c.socket.destroy();
  if (accepted !== count) throw new Error(`TAKETHIS: ${accepted} of ${count} accepted`);
  return { rate: (count * 1000) / ms };
}

/**
 * POST acceptance: `count` articles over `connections` connections at once, each lock-step
 * (POST, 340, the article, 240), as newsreaders post. Rate over all of them.
 */
async function post({ port, count, connections, group, modeReader }) {
  const date = new Date().toUTCString();
  const conns = await Promise.all(Array.from({ length: connections }, () => connect(port)));
  for (const c of conns) await reader(c, modeReader);
  let next = 0;
  let accepted = 0;
  const start = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      for (let i = next++; i < count; i = next++) {
        c.take();
        c.socket.write('POST\r\n');
        await c.until((t) => t.includes('\r\n'));
        const go = c.take();
        if (!go.startsWith('340')) throw new Error(`POST: ${go.trim()}`);
        c.socket.write(dotStuffed(smallArticle({ group, i, date })));
        await c.until((t) => t.includes('\r\n'));
        if (c.take().startsWith('240')) accepted++;
      }
    }),
  );
  const ms = performance.now() - start;
  for (const c of conns) c.socket.destroy();
  if (accepted !== count) throw new Error(`POST: ${accepted} of ${count} accepted`);
  return { rate: (count * 1000) / ms };
}

/** Loads the benchmark's articles 1..count into a server by streaming (INN's spool). */
async function feed({ port, count }) {
  const c = await connect(port);
  c.take();
  c.socket.write('MODE STREAM\r\n');
  await c.until((t) => t.includes('\r\n'));
  const mode = c.take();
  if (!mode.startsWith('203')) throw new Error(`MODE STREAM: ${mode.trim()}`);
  let answered = 0;
  let accepted = 0;
  for (let from = 1; from <= count; from += 500) {
    let req = '';
    const to = Math.min(count, from + 499);
    for (let i = from; i <= to; i++) req += `TAKETHIS <${i}@bench.example.org>\r\n${dotStuffed(benchArticle(i).data)}`;
    const replied = countLines(c, to - from + 1);
    c.socket.write(req);
    const r = await replied;
    answered += to - from + 1;
    accepted += (r.match(/^239 /gm) ?? []).length;
  }
  c.socket.destroy();
  if (accepted !== count) throw new Error(`feed: ${accepted} of ${answered} accepted`);
  return { accepted, group: GROUP };
}

/** Idle readers for INN: `count` connections, each after MODE READER (one nnrpd each), held open. */
const held = new Set();
async function openReaders({ port, count }) {
  for (let i = 0; i < count; i++) {
    const c = await connect(port);
    await reader(c, true);
    held.add(c.socket);
  }
  return held.size;
}
async function closeReaders() {
  for (const s of held) s.destroy();
  held.clear();
  return 0;
}

serveIpc({ article, over, takethis, post, feed, openReaders, closeReaders });
