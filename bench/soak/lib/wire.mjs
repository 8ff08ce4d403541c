// A small line-oriented client over a raw socket: what the soak's stock-client-like sessions
// are written with. Every wait has a deadline, and a connection that ends, resets or errors
// rejects whatever waits on it (the server may be SIGKILLed at any moment).
import { connect } from 'node:net';

/** Rejected when the connection went away (reset, closed, refused) or a reply took too long. */
export class Gone extends Error {}

export class LineConn {
  /** @param {import('node:net').Socket} socket */
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.lines = [];
    this.waiter = undefined;
    this.ended = undefined;
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      for (let i = this.buf.indexOf(10); i !== -1; i = this.buf.indexOf(10)) {
        this.lines.push(this.buf.subarray(0, i > 0 && this.buf[i - 1] === 13 ? i - 1 : i).toString('latin1'));
        this.buf = this.buf.subarray(i + 1);
      }
      this.#wake();
    });
    const end = (why) => {
      this.ended ??= why;
      this.#wake();
    };
    socket.on('error', (err) => end(err.code ?? 'error'));
    socket.on('end', () => end('end'));
    socket.on('close', () => end('close'));
  }

  static open(port, timeoutMs = 3000) {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Gone('connect timeout'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new LineConn(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Gone(err.code ?? 'connect error'));
      });
    });
  }

  #wake() {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next line (without its line end). */
  async line(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.lines.length > 0) return this.lines.shift();
      if (this.ended) throw new Gone(`connection ${this.ended}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Gone('reply timeout');
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Lines up to a lone "." (dot-unstuffed), for POP3 and NNTP multi-line replies. */
  async dotBlock(timeoutMs = 10_000) {
    const out = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      if (l === '.') return out;
      out.push(l.startsWith('.') ? l.slice(1) : l);
    }
  }

  send(text) {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  /** Sends `line` and returns the reply line. */
  async cmd(line, timeoutMs) {
    this.send(`${line}\r\n`);
    return this.line(timeoutMs);
  }

  /** A connection reset (SO_LINGER 0: RST, no FIN), as a crashing or impatient client does. */
  reset() {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  close() {
    this.socket.destroy();
  }
}

/** Dot-stuffs text with LF or CRLF line ends for the wire and terminates it. */
export function dotStuffed(text) {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  return `${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}\r\n.\r\n`;
}
