import * as net from 'node:net';
import * as tls from 'node:tls';

/**
 * A minimal line-oriented connection for the probes that look at a server before the stock
 * clients run (capabilities, a sample message or article). It is deliberately dumb: the stock
 * clients are what the matrix tests, this only gathers what their results are checked against.
 */
export class Wire {
  #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #ended: Error | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#wake();
    });
    socket.on('error', (err) => {
      this.#ended ??= err;
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended ??= new Error('the server closed the connection');
      this.#wake();
    });
  }

  /** Connects (with TLS from the first byte when `secure`); certificates are not checked here. */
  static open(host: string, port: number, secure: boolean, timeoutMs: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = secure
        ? tls.connect({ host, port, rejectUnauthorized: false, ...(net.isIP(host) ? {} : { servername: host }) })
        : net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no connection to ${host}:${port} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no reply within ${timeoutMs / 1000} s`)));
        resolve(new Wire(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  send(line: string): void {
    this.#socket.write(`${line}\r\n`);
  }

  /** The next line, without its CRLF. */
  async line(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf('\n');
      if (end >= 0) {
        const line = this.#buffer.subarray(0, end).toString('latin1').replace(/\r$/, '');
        this.#buffer = this.#buffer.subarray(end + 1);
        return line;
      }
      if (this.#buffer.length > 1024 * 1024) throw new Error('a reply line longer than 1 MiB');
      if (this.#ended) throw this.#ended;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  /** A dot-terminated body (POP3, NNTP), unstuffed, each line ending in CRLF. */
  async body(maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      const line = await this.line();
      if (line === '.') return Buffer.concat(parts);
      const text = line.startsWith('.') ? line.slice(1) : line;
      size += text.length + 2;
      if (size > maxBytes) throw new Error(`a body larger than ${maxBytes} bytes`);
      parts.push(Buffer.from(`${text}\r\n`, 'latin1'));
    }
  }

  /** Everything until the server closes (finger). */
  async rest(): Promise<Buffer> {
    while (!this.#ended) await new Promise<void>((resolve) => (this.#waiter = resolve));
    return this.#buffer;
  }

  close(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
