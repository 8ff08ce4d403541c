import { LineEscapingProducer, LineSession, SimpleProducer, errorText, type Channel } from '@gorgon/core';

/** Why a client operation failed: the connection, a limit, or the server's reply. */
export type NntpClientErrorCode = 'closed' | 'timeout' | 'protocol' | 'reply' | 'limit';

/**
 * An error of the NNTP client. `reply` is set when the server answered with a status the
 * operation did not expect (`code === 'reply'`): callers test `err.reply.code` (411, 430, 480, …).
 */
export class NntpClientError extends Error {
  readonly code: NntpClientErrorCode;
  readonly reply: ClientResponse | undefined;
  constructor(code: NntpClientErrorCode, message: string, reply?: ClientResponse) {
    super(message);
    this.name = 'NntpClientError';
    this.code = code;
    this.reply = reply;
  }
}

/**
 * One response as the client sees it: the status line's code and text and, for a multi-line
 * response, its data block, dot-unstuffed, every line ending in CRLF, the terminating `.` line
 * removed, byte-exact (lines are kept as latin1 and turned back into the bytes they were).
 * @see RFC 3977 §3.1.1, §3.2
 */
export interface ClientResponse {
  readonly code: number;
  readonly text: string;
  readonly data: Buffer | undefined;
}

/** Which status codes of a command are followed by a data block. */
export type MultilineRule = (code: number) => boolean;

/** No data block ever. */
export const singleLine: MultilineRule = () => false;

interface Pending {
  readonly multiline: MultilineRule;
  readonly resolve: (response: ClientResponse) => void;
  readonly reject: (err: Error) => void;
}

/** Limits of a client connection. */
export interface ClientConnectionLimits {
  /** Longest response line (status or data) in bytes. Default 1 MiB (INN allows long header lines). */
  maxLineLength: number;
  /** Largest data block kept for one response. Default 64 MiB; a larger one fails the connection. */
  maxResponseBytes: number;
}

const STATUS = /^([1-5]\d\d)(?: (.*))?$/s;

/**
 * The client side of an NNTP connection: a {@link LineSession} that frames status lines and
 * data blocks into {@link ClientResponse}s and hands them out in command order. Commands may be
 * pipelined: every `request` queues its line at once and its promise settles with its own
 * response, because NNTP answers in order (RFC 3977 §3.5). The greeting is the first response.
 * When the connection closes, every pending request fails with `closed`.
 * @see RFC 3977 §3.1 (responses), §3.5 (pipelining)
 */
export class ClientConnection extends LineSession {
  readonly #pending: Pending[] = [];
  readonly #limits: ClientConnectionLimits;
  #current: { pending: Pending; code: number; text: string; chunks: Buffer[]; bytes: number } | undefined;
  #failure: Error | undefined;

  constructor(channel: Channel, limits: Partial<ClientConnectionLimits> = {}) {
    const resolved = { maxLineLength: 1024 * 1024, maxResponseBytes: 64 * 1024 * 1024, ...limits };
    super(channel, { maxLineLength: resolved.maxLineLength, encoding: 'latin1', maxDiscardBytes: 0 });
    this.#limits = resolved;
  }

  /** The next response without sending anything (the greeting). */
  expect(multiline: MultilineRule = singleLine): Promise<ClientResponse> {
    return this.#enqueue(multiline);
  }

  /** Sends one command line and resolves with its response. Pipelining: call again before awaiting. */
  request(line: string, multiline: MultilineRule = singleLine): Promise<ClientResponse> {
    if (/[\r\n]/.test(line)) return Promise.reject(new NntpClientError('protocol', 'a command must not contain CR or LF'));
    if (this.#failure) return Promise.reject(this.#failure);
    this.push(`${line}\r\n`);
    return this.#enqueue(multiline);
  }

  /**
   * Sends a data block (an article): bare LF becomes CRLF, leading dots are doubled, `.`
   * ends it. Resolves with the response that follows it (240, 235, …). For TAKETHIS the
   * command line and the block go together: `request` is not used.
   * @see RFC 3977 §3.1.1
   */
  sendBlock(block: Buffer | string, prefix?: string): Promise<ClientResponse> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (prefix !== undefined) this.push(`${prefix}\r\n`);
    const buf = typeof block === 'string' ? Buffer.from(block, 'utf8') : block;
    this.pushWithProducer(new LineEscapingProducer(new SimpleProducer(buf), { dotStuff: true, terminate: true }));
    return this.#enqueue(singleLine);
  }

  /** Requests waiting for their response. */
  get outstanding(): number {
    return this.#pending.length + (this.#current ? 1 : 0);
  }

  /** True once the connection failed or closed. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  #enqueue(multiline: MultilineRule): Promise<ClientResponse> {
    return new Promise<ClientResponse>((resolve, reject) => {
      this.#pending.push({ multiline, resolve, reject });
    });
  }

  protected override onLine(line: string): void {
    const current = this.#current;
    if (current) {
      if (line === '.') {
        this.#current = undefined;
        current.pending.resolve({ code: current.code, text: current.text, data: Buffer.concat(current.chunks, current.bytes) });
        return;
      }
      const bytes = Buffer.from(line.charCodeAt(0) === 0x2e ? line.slice(1) : line, 'latin1');
      current.bytes += bytes.length + 2;
      if (current.bytes > this.#limits.maxResponseBytes) {
        this.#abort(new NntpClientError('limit', `a response passed ${this.#limits.maxResponseBytes} bytes`));
        return;
      }
      current.chunks.push(bytes, CRLF);
      return;
    }
    const match = STATUS.exec(line);
    const pending = this.#pending.shift();
    if (!match || !pending) {
      this.#abort(new NntpClientError('protocol', `unexpected line from the server: ${JSON.stringify(line.slice(0, 80))}`));
      pending?.reject(this.#failure!);
      return;
    }
    const code = Number(match[1]);
    const text = Buffer.from(match[2] ?? '', 'latin1').toString('utf8');
    if (pending.multiline(code)) this.#current = { pending, code, text, chunks: [], bytes: 0 };
    else pending.resolve({ code, text, data: undefined });
  }

  protected override onLineTooLong(): void {
    this.#abort(new NntpClientError('limit', `the server sent a line longer than ${this.#limits.maxLineLength} bytes`));
  }

  protected override handleError(err: unknown): void {
    this.channel.log.warn({ event: 'nntp-client-error' }, errorText(err));
    this.#abort(err instanceof Error ? err : new Error(String(err)));
  }

  protected override handleTimeout(): void {
    this.#abort(new NntpClientError('timeout', 'the connection timed out'));
  }

  protected override handleClose(): void {
    this.#fail(new NntpClientError('closed', 'the server closed the connection'));
  }

  #abort(err: Error): void {
    this.#fail(err);
    this.close({ flush: false });
  }

  #fail(err: Error): void {
    if (!this.#failure) this.#failure = err;
    const current = this.#current;
    this.#current = undefined;
    current?.pending.reject(this.#failure);
    for (const pending of this.#pending.splice(0)) pending.reject(this.#failure);
  }
}

const CRLF = Buffer.from('\r\n');
