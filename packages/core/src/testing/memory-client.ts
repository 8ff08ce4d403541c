import type { Duplex } from 'node:stream';
import { Channel, type ChannelOptions } from '../channel.js';
import { memoryStreamPair } from '../memory.js';

/**
 * A server channel over the in-memory pair, and a test client on the other end that reads
 * lines and bytes: protocol logic tested without sockets. Like a listener's sockets, the server
 * side is half-open (it can still reply after the client ended its side) and the client side
 * is not (it closes once the server has).
 */
export function memoryChannelPair(options: ChannelOptions = {}): { channel: Channel; client: MemoryClient } {
  const [serverSide, clientSide] = memoryStreamPair({ allowHalfOpen: [true, false] });
  const channel = new Channel(serverSide, { remoteAddress: '127.0.0.1', ...options });
  return { channel, client: new MemoryClient(clientSide) };
}

/** The client end of a memory pair or of any stream (a real socket too). */
export class MemoryClient {
  readonly stream: Duplex;
  /** Unread input as received: joined only when read, so big replies cost linear time. */
  #chunks: Buffer[] = [];
  #length = 0;
  /** Leading unread bytes already searched for a line end. */
  #scanned = 0;
  #ended = false;
  #waiters: Array<() => void> = [];

  constructor(stream: Duplex) {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      this.#wake();
    });
    stream.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    stream.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    stream.on('error', () => {});
  }

  /** True once the server closed. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes received and not yet read. */
  get buffered(): Buffer {
    return this.#join();
  }

  send(data: string | Buffer): void {
    this.stream.write(data);
  }

  /** Sends `line` with CRLF. */
  sendLine(line: string): void {
    this.stream.write(`${line}\r\n`);
  }

  end(): void {
    this.stream.end();
  }

  /** The next line without its line end; rejects if the stream ends first or after `timeoutMs`. */
  async line(timeoutMs = 2000): Promise<string> {
    const index = await this.#waitFor(() => this.#findLineEnd(), timeoutMs, 'a line');
    return this.#take(index + 1)
      .toString('utf8', 0, index)
      .replace(/\r$/, '');
  }

  /** The next `n` lines. */
  async lines(n: number, timeoutMs = 2000): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.line(timeoutMs));
    return out;
  }

  /** Exactly `n` bytes. */
  async bytes(n: number, timeoutMs = 2000): Promise<Buffer> {
    await this.#waitFor(() => (this.#length >= n ? n : -1), timeoutMs, `${n} bytes`);
    return this.#take(n);
  }

  /** Everything until the server closes. */
  async readToEnd(timeoutMs = 2000): Promise<Buffer> {
    await this.#waitFor(() => (this.#ended ? 0 : -1), timeoutMs, 'the end of the stream', true);
    return this.#take(this.#length);
  }

  /** Resolves once the server has closed. */
  async closed(timeoutMs = 2000): Promise<void> {
    await this.#waitFor(() => (this.#ended ? 0 : -1), timeoutMs, 'the server to close', true);
  }

  #join(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  #take(n: number): Buffer {
    const all = this.#join();
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    this.#scanned = 0;
    return all.subarray(0, n);
  }

  /** Offset of the next LF in the unread input, or -1; never searches a byte twice. */
  #findLineEnd(): number {
    let base = 0;
    for (const chunk of this.#chunks) {
      if (base + chunk.length > this.#scanned) {
        const at = chunk.indexOf(0x0a, Math.max(0, this.#scanned - base));
        if (at !== -1) return base + at;
      }
      base += chunk.length;
    }
    this.#scanned = this.#length;
    return -1;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The start of the unread input, for an error message. */
  #preview(): string {
    const text = this.#join().toString('utf8', 0, 200);
    return JSON.stringify(text) + (this.#length > 200 ? ` (+${this.#length - 200} bytes)` : '');
  }

  async #waitFor(found: () => number, timeoutMs: number, what: string, endOk = false): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = found();
      if (index !== -1) return index;
      if (this.#ended && !endOk) {
        throw new Error(`stream ended while waiting for ${what}; unread: ${this.#preview()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; unread: ${this.#preview()}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
