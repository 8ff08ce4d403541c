import * as net from 'node:net';

/**
 * A raw FTP control connection that sends and reads bytes, not text: for tests of names that
 * are not UTF-8 or that hold CR/LF. A reply is read the way RFC 959 §4.2 says a client reads
 * it: lines up to CRLF, and a multi-line reply ends at the first line that starts with its
 * code and a space.
 */
export class ByteClient {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<ByteClient> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new ByteClient(socket);
  }

  /** Sends `verb`, a space and the argument's bytes, then CRLF. */
  send(verb: string, arg?: Buffer | string): void {
    const parts: Buffer[] = [Buffer.from(verb, 'latin1')];
    if (arg !== undefined) parts.push(Buffer.from(' '), typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg);
    parts.push(Buffer.from('\r\n'));
    this.socket.write(Buffer.concat(parts));
  }

  /** The next reply's lines as bytes (CRLF removed); rejects after `timeoutMs`. */
  async reply(timeoutMs = 2000): Promise<Buffer[]> {
    const lines: Buffer[] = [];
    for (;;) {
      const line = await this.#line(timeoutMs);
      lines.push(line);
      const head = line.toString('latin1', 0, 4);
      const first = lines[0]!.toString('latin1', 0, 4);
      if (!/^\d{3}[ -]/.test(first)) throw new Error(`not a reply: ${JSON.stringify(first)}`);
      if (lines.length === 1 && head[3] === ' ') return lines;
      if (lines.length > 1 && head === `${first.slice(0, 3)} `) return lines;
    }
  }

  /** Sends a command and returns its reply's first line as latin1 text. */
  async cmd(verb: string, arg?: Buffer | string): Promise<string> {
    this.send(verb, arg);
    return (await this.reply())[0]!.toString('latin1');
  }

  async #line(timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.#buffer.indexOf('\r\n');
      if (at !== -1) {
        const line = this.#buffer.subarray(0, at);
        this.#buffer = this.#buffer.subarray(at + 2);
        return line;
      }
      if (this.#ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply line in ${timeoutMs} ms; have ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
