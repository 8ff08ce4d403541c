// Client side of the `ftp` benchmark: a minimal FTP control client (multi-line replies, PASV/
// EPSV) driving RETR, STOR, sessions and listings against Gorgon, the raw baselines and the
// stock peers (vsftpd, pyftpdlib, pure-ftpd).
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { serveIpc } from '../lib/worker.mjs';

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

class Control {
  constructor(socket) {
    this.socket = socket;
    this.buf = '';
    this.lines = [];
    this.waiter = undefined;
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      this.buf += d;
      let i;
      // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
      while ((i = this.buf.indexOf('\n')) !== -1) {
        this.lines.push(this.buf.slice(0, i).replace(/\r$/, ''));
        this.buf = this.buf.slice(i + 1);
      }
      this.waiter?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }
  static async open(port) {
    const c = new Control(await connect(port));
    const greeting = await c.reply();
    if (!greeting.startsWith('220')) throw new Error(`greeting: ${greeting}`);
    return c;
  }
  async line() {
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('control connection closed');
      await new Promise((r) => (this.waiter = r));
      this.waiter = undefined;
    }
    return this.lines.shift();
  }
  /** The last line of the next reply (multi-line replies read to their end). */
  async reply() {
    const first = await this.line();
    if (first[3] !== '-') return first;
    const code = first.slice(0, 3);
    for (;;) {
      const l = await this.line();
      if (l.startsWith(`${code} `)) return l;
    }
  }
  async cmd(text, expect) {
    this.socket.write(`${text}\r\n`);
    const r = await this.reply();
    if (expect && !r.startsWith(expect)) throw new Error(`${text.split(' ')[0]}: ${r}`);
    return r;
  }
  async login(user, pass) {
    const r = await this.cmd(`USER ${user}`);
    if (r.startsWith('331')) await this.cmd(`PASS ${pass}`, '230');
    else if (!r.startsWith('230')) throw new Error(`USER: ${r}`);
    await this.cmd('TYPE I', '200');
  }
  async passive(extended) {
    if (extended) {
      const r = await this.cmd('EPSV', '229');
      return Number(/\|\|\|(\d+)\|/.exec(r)[1]);
    }
    const r = await this.cmd('PASV', '227');
    const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(r);
    return Number(m[5]) * 256 + Number(m[6]);
  }
  close() {
    this.socket.destroy();
  }
}

/** Reads a socket to its end, counting bytes. */
function drain(socket) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (d) => (bytes += d.length));
    socket.once('end', () => resolve(bytes));
    socket.once('error', reject);
  });
}

/** Writes `total` bytes of a random 1 MiB block with backpressure, then ends. */
async function pour(socket, total) {
  const block = randomBytes(1024 * 1024);
  let sent = 0;
  while (sent < total) {
    const n = Math.min(block.length, total - sent);
    sent += n;
    if (!socket.write(n === block.length ? block : block.subarray(0, n))) await new Promise((r) => socket.once('drain', r));
  }
  await new Promise((r) => socket.end(r));
}

serveIpc({
  /** RETR `path` (or read a raw stream); MB/s over the data bytes, RETR sent → 226 read. */
  async retr({ port, kind, user, pass, path, size }) {
    let bytes;
    const t0 = process.hrtime.bigint();
    if (kind === 'raw') {
      bytes = await drain(await connect(port));
    } else {
      const c = await Control.open(port);
      await c.login(user, pass);
      const data = await connect(await c.passive(true));
      const got = drain(data);
      const start = process.hrtime.bigint();
      await c.cmd(`RETR ${path}`, '1');
      bytes = await got;
      await c.reply();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      c.close();
      if (bytes !== size) throw new Error(`RETR gave ${bytes} bytes, expected ${size}`);
      return { mbps: bytes / 1e6 / (ms / 1000), ms };
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (bytes !== size) throw new Error(`raw stream gave ${bytes} bytes, expected ${size}`);
    return { mbps: bytes / 1e6 / (ms / 1000), ms };
  },

  /** STOR `size` bytes; MB/s from the first byte to the server's 226 (after fsync + rename). */
  async stor({ port, kind, user, pass, size, path = 'upload/bench.bin' }) {
    if (kind === 'raw') {
      const s = await connect(port);
      const ack = new Promise((resolve) => {
        let text = '';
        s.on('data', (d) => (text += d));
        s.once('end', () => resolve(text));
      });
      const start = process.hrtime.bigint();
      await pour(s, size);
      const r = await ack;
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (!r.startsWith('226')) throw new Error(`raw STOR: ${r}`);
      return { mbps: size / 1e6 / (ms / 1000), ms };
    }
    const c = await Control.open(port);
    await c.login(user, pass);
    const data = await connect(await c.passive(true));
    const start = process.hrtime.bigint();
    await c.cmd(`STOR ${path}`, '1');
    await pour(data, size);
    const r = await c.reply();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    c.close();
    if (!r.startsWith('226')) throw new Error(`STOR: ${r}`);
    return { mbps: size / 1e6 / (ms / 1000), ms };
  },

  /** `clients` loops of connect, USER, PASS, TYPE I, PASV, RETR `path`, QUIT for `durationMs`. */
  async sessions({ port, user, pass, path, size, clients, durationMs }) {
    const end = Date.now() + durationMs;
    let completed = 0;
    const one = async () => {
      const c = await Control.open(port);
      await c.login(user, pass);
      const data = await connect(await c.passive(false));
      const got = drain(data);
      await c.cmd(`RETR ${path}`, '1');
      const bytes = await got;
      await c.reply();
      if (bytes !== size) throw new Error(`RETR gave ${bytes} bytes`);
      await c.cmd('QUIT', '221');
      c.close();
    };
    const start = Date.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < end) {
          await one();
          completed++;
        }
      }),
    );
    return { rate: completed / ((Date.now() - start) / 1000), completed };
  },

  /** One LIST or MLSD of `path`; ms from the command to the 226, and the line count. */
  async list({ port, user, pass, path, verb }) {
    const c = await Control.open(port);
    await c.login(user, pass);
    const data = await connect(await c.passive(true));
    let text = '';
    data.setEncoding('latin1');
    data.on('data', (d) => (text += d));
    const ended = new Promise((r) => data.once('end', r));
    const start = process.hrtime.bigint();
    await c.cmd(`${verb} ${path}`, '1');
    await ended;
    await c.reply();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    c.close();
    // pure-ftpd's MLSD also lists the directory itself and its parent (type=cdir, type=pdir).
    return { ms, lines: text.split('\n').filter((l) => l.trim() !== '' && !/type=[cp]dir;/i.test(l)).length };
  },
});
