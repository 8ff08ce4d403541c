import * as net from 'node:net';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tls from 'node:tls';
import { errorText } from '@gorgon/core';
import { FtpClientError } from './client-errors.js';

/** How the data connection is protected (PROT P). @see RFC 4217 §9 */
export interface DataTlsOptions {
  /** The control connection's TLS session, offered for resumption (servers such as vsftpd require it). */
  session?: Buffer;
  /** The name the certificate must carry: the control connection's host name. */
  servername?: string;
  ca?: string | Buffer | Array<string | Buffer>;
  rejectUnauthorized?: boolean;
}

/** Where and how to open a passive data connection. */
export interface DataConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Destroy the connection after this long without a byte either way. 0 = never. */
  stallTimeoutMs: number;
  tls?: DataTlsOptions;
}

/**
 * One passive data connection (TCP with TCP_NODELAY, then TLS under PROT P). The client opens
 * the TCP connection before sending the transfer command, and starts TLS only once the server
 * has answered that command with 1yz, as curl and Python's ftplib do: servers such as
 * pyftpdlib drop a data connection whose handshake completes before a transfer is under way.
 * @see RFC 959 §3.2, RFC 4217 §7
 */
export class DataConnection {
  #socket: net.Socket | tls.TLSSocket;
  readonly #tls: DataTlsOptions | undefined;
  readonly #host: string;
  #error: Error | undefined;

  private constructor(socket: net.Socket, options: DataConnectionOptions) {
    this.#socket = socket;
    this.#tls = options.tls;
    this.#host = options.host;
    this.#watch(socket);
    if (options.stallTimeoutMs > 0) {
      // Set on the TCP socket: it sees every byte, before and after TLS starts.
      socket.setTimeout(options.stallTimeoutMs, () => {
        this.#socket.destroy(new FtpClientError('timeout', `the data connection stalled for ${options.stallTimeoutMs} ms`));
      });
    }
  }

  /** The stream carrying the data: the TCP socket, or the TLS socket over it once started. */
  get socket(): net.Socket | tls.TLSSocket {
    return this.#socket;
  }

  /** Connects to the passive address; resolves once TCP is up. */
  static async open(options: DataConnectionOptions): Promise<DataConnection> {
    const raw = await new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new FtpClientError(
            'data-connection',
            `no data connection to ${options.host}:${options.port} within ${options.connectTimeoutMs} ms`,
          ),
        );
      }, options.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new FtpClientError('data-connection', `cannot open the data connection to ${options.host}:${options.port}: ${errorText(err)}`, {
            cause: err,
          }),
        );
      });
    });
    return new DataConnection(raw, options);
  }

  /**
   * Starts TLS when the session protects data (PROT P), offering the control connection's TLS
   * session for resumption. The handshake is not awaited: reading or writing waits for it, and
   * a failure surfaces there.
   */
  startTls(): void {
    const options = this.#tls;
    if (!options || this.#socket instanceof tls.TLSSocket || this.#socket.destroyed) return;
    const name = options.servername;
    this.#socket = tls.connect({
      socket: this.#socket,
      session: options.session,
      ca: options.ca,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      ...(name !== undefined && net.isIP(name) === 0 ? { servername: name } : {}),
      // Verify against the control connection's name, not the address the PASV reply gave.
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name ?? this.#host, cert),
    });
    this.#watch(this.#socket);
  }

  #watch(socket: net.Socket): void {
    socket.on('error', (err) => {
      this.#error ??= err;
    });
  }

  /** Copies everything the server sends into `sink`; resolves with the byte count once `sink` has finished. */
  async pipeTo(sink: Writable, onData?: (bytes: number) => void): Promise<number> {
    let total = 0;
    const counter = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _encoding, callback) {
        total += chunk.length;
        onData?.(chunk.length);
        callback(null, chunk);
      },
    });
    let local: Error | undefined;
    sink.once('error', (err) => (local = err));
    await this.#guard(pipeline(this.socket, counter, sink), () => local);
    return total;
  }

  /** Reads everything the server sends (listings), at most `limit` bytes. */
  async readAll(limit: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let length = 0;
    await this.#guard(
      (async () => {
        for await (const chunk of this.socket as AsyncIterable<Buffer>) {
          length += chunk.length;
          if (length > limit) throw new FtpClientError('protocol', `the listing passed ${limit} bytes`);
          parts.push(chunk);
        }
      })(),
    );
    return Buffer.concat(parts, length);
  }

  /** Sends `source` to the server and ends the connection (with close_notify under TLS). */
  async writeFrom(source: Readable, onData?: (bytes: number) => void): Promise<number> {
    let total = 0;
    const counter = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer | string, _encoding, callback) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        total += buf.length;
        onData?.(buf.length);
        callback(null, buf);
      },
    });
    let local: Error | undefined;
    source.once('error', (err) => (local = err));
    await this.#guard(pipeline(source, counter, this.socket), () => local);
    return total;
  }

  /** Closes at once (an aborted transfer). */
  destroy(): void {
    this.#socket.destroy();
  }

  /** Maps a failed copy to a client error: the local file's fault, or the connection's. */
  async #guard(work: Promise<void>, localError: () => Error | undefined = () => undefined): Promise<void> {
    try {
      await work;
    } catch (err) {
      // The connection's own error first: pipeline passes it on to the file stream as well.
      const local = this.#error === undefined ? localError() : undefined;
      if (local) throw new FtpClientError('local-io', `local file: ${errorText(local)}`, { cause: local });
      if (this.#error instanceof FtpClientError) throw this.#error;
      if (err instanceof FtpClientError) throw err;
      const first = this.#error ?? err;
      throw new FtpClientError('data-connection', `the data connection failed: ${errorText(first)}`, { cause: first });
    }
  }
}
