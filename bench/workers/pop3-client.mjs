// Load generator of the `pop3` benchmark: RETR runs (lock-step or pipelined) and login
// sessions against any POP3 server on loopback. Multi-line replies are counted by their
// "\r\n.\r\n" ends, which dot-stuffing guarantees appear nowhere else.
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

const END = Buffer.from('\r\n.\r\n');

/** A connection that hands out lines and counts multi-line ends. */
function open(port) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  let buf = Buffer.alloc(0);
  let waiter;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  socket.on('data', (c) => {
    buf = buf.length ? Buffer.concat([buf, c]) : c;
    wake();
  });
  socket.on('close', wake);
  socket.on('error', () => {});
  const wait = () => new Promise((r) => (waiter = r));
  return {
    socket,
    async line() {
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl !== -1) {
          const line = buf.toString('latin1', 0, nl - 1);
          buf = buf.subarray(nl + 1);
          return line;
        }
        if (socket.destroyed) throw new Error('connection closed');
        await wait();
      }
    },
    /** Waits for `count` multi-line replies (status line + body + "."). */
    async bodies(count) {
      let seen = 0;
      let from = 0;
      while (seen < count) {
        const at = buf.indexOf(END, from);
        if (at !== -1) {
          seen++;
          from = at + 3; // the "\r\n" of the terminator may open the next search
          continue;
        }
        buf = buf.subarray(Math.max(0, buf.length - 4));
        from = 0;
        if (socket.destroyed) throw new Error(`connection closed after ${seen} of ${count}`);
        await wait();
      }
      buf = buf.subarray(from + 2);
    },
    closed: () => (socket.destroyed ? Promise.resolve() : new Promise((r) => socket.once('close', r))),
  };
}

async function login(c, user, pass) {
  await c.line();
  c.socket.write(`USER ${user}\r\nPASS ${pass}\r\n`);
  await c.line();
  const ok = await c.line();
  if (!ok.startsWith('+OK')) throw new Error(`login failed: ${ok}`);
}

serveIpc({
  /**
   * RETR 1..count in one session, `sessions` times over; pipelined sends each session's RETRs
   * at once. Returns messages/s over the RETR phases (logins and QUITs not timed).
   */
  async retr({ port, user, pass, count, pipelined, sessions = 1 }) {
    let nanos = 0n;
    for (let s = 0; s < sessions; s++) {
      const c = open(port);
      await login(c, user, pass);
      const start = process.hrtime.bigint();
      if (pipelined) {
        let cmds = '';
        for (let i = 1; i <= count; i++) cmds += `RETR ${i}\r\n`;
        c.socket.write(cmds);
        await c.bodies(count);
      } else {
        for (let i = 1; i <= count; i++) {
          c.socket.write(`RETR ${i}\r\n`);
          await c.bodies(1);
        }
      }
      nanos += process.hrtime.bigint() - start;
      c.socket.write('QUIT\r\n');
      await c.closed();
    }
    return { rate: (count * sessions) / (Number(nanos) / 1e9) };
  },
  /**
   * `times` sessions one after another: connect, USER, PASS, STAT, QUIT. Returns the time of
   * each from connect to the STAT reply, in milliseconds.
   */
  async loginStat({ port, user, pass, times = 1 }) {
    const ms = [];
    let last = '';
    for (let t = 0; t < times; t++) {
      const start = process.hrtime.bigint();
      const c = open(port);
      await login(c, user, pass);
      c.socket.write('STAT\r\n');
      const stat = await c.line();
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (!stat.startsWith('+OK')) throw new Error(`STAT: ${stat}`);
      last = stat;
      c.socket.write('QUIT\r\n');
      await c.line();
      await c.closed();
    }
    return { ms, stat: last };
  },
  /** `clients` loops of connect, USER, PASS, STAT, QUIT for `durationMs`. Returns sessions/s. */
  async sessions({ port, users, pass, durationMs }) {
    const end = Date.now() + durationMs;
    let done = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      users.map(async (user) => {
        while (Date.now() < end) {
          const c = open(port);
          await login(c, user, pass);
          c.socket.write('STAT\r\n');
          const stat = await c.line();
          if (!stat.startsWith('+OK')) throw new Error(`STAT: ${stat}`);
          c.socket.write('QUIT\r\n');
          await c.line();
          await c.closed();
          done++;
        }
      }),
    );
    return { rate: done / (Number(process.hrtime.bigint() - start) / 1e9), done };
  },
});
