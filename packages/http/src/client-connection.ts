import { LineSession, type Channel } from '@gorgon/core';
import { HttpClientError } from './client-errors.js';

/** The status line and header fields of a response. */
export interface HttpResponseHead {
  /** `1.1` or `1.0`. */
  version: string;
  status: number;
  statusText: string;
  /** Field names in lower case; repeated fields joined with `, ` (RFC 9110 §5.3). */
  headers: Record<string, string>;
}

/** Where a response body goes. A returned promise holds back further body bytes (backpressure). */
export type BodySink = (chunk: Buffer) => void | Promise<void>;

/** One request on the wire and the callbacks that receive its response. */
export interface PendingRequest {
  method: 'GET' | 'HEAD';
  /** The request bytes: request line and header fields, CRLF-terminated, blank line included. */
  head: string;
  /** Called with the head; returns where the body goes (nothing: it is discarded). */
  onHead(head: HttpResponseHead): BodySink | undefined;
  /** The whole response is in; `reusable`: the connection may carry another request. */
  onDone(bytes: number, reusable: boolean): void;
  onError(err: Error): void;
}

type State = 'idle' | 'status' | 'headers' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'close';

/** Body bytes read per framer unit, so a sink that is slow to accept them pauses the socket. */
const BODY_PIECE = 1024 * 1024;
const MAX_HEADER_FIELDS = 200;

/**
 * The client side of one HTTP/1.1 connection, on the core's framer: the status line and header
 * fields as lines, a `Content-Length` body as byte counts, a chunked body as size lines and
 * byte counts, and a body without either as everything until the server closes. One request
 * at a time; after a complete response the connection goes back to its pool when
 * `reusable` says the server keeps it open.
 * @see RFC 9112 §4 (status line), §5 (field syntax), §6.3 (message body length), §7.1 (chunked),
 * §9.3 (persistence)
 */
export class HttpConnection extends LineSession {
  /** `host:port` of the server, for messages. */
  readonly origin: string;
  #state: State = 'idle';
  #request: PendingRequest | undefined;
  #sink: BodySink | undefined;
  #response: HttpResponseHead | undefined;
  #fields: Array<[string, string]> = [];
  #remaining = 0;
  #bytes = 0;
  #reusable = false;
  #gone = false;
  /** Requests this connection has carried, so a reused one can be told apart. */
  requests = 0;

  constructor(channel: Channel, origin: string, options: { maxLineLength?: number; timeoutMs?: number } = {}) {
    // latin1: field values are octets (RFC 9110 §5.5); every byte is kept.
    super(channel, { maxLineLength: options.maxLineLength ?? 16 * 1024, encoding: 'latin1' });
    this.origin = origin;
    this.#timeoutMs = options.timeoutMs ?? 0;
  }

  readonly #timeoutMs: number;

  /** True while the connection can take a request. */
  get usable(): boolean {
    return !this.#gone && this.#state === 'idle' && !this.closing;
  }

  /** Whether any byte of the current response has arrived (a reused connection may be retried before). */
  get started(): boolean {
    return this.#state !== 'status' || this.#response !== undefined;
  }

  /** Sends a request; its callbacks are called once the response (or a failure) comes. */
  send(request: PendingRequest): void {
    if (!this.usable) throw new HttpClientError('closed', `the connection to ${this.origin} is closed`);
    this.#request = request;
    this.#state = 'status';
    this.#response = undefined;
    this.#bytes = 0;
    this.requests++;
    this.readLines();
    this.push(request.head);
  }

  protected override onLine(line: string): void | Promise<void> {
    switch (this.#state) {
      case 'status':
        return this.#statusLine(line);
      case 'headers':
        return this.#fieldLine(line);
      case 'chunk-size':
        return this.#chunkSize(line);
      case 'chunk-end':
        if (line !== '') return this.#fail(new HttpClientError('protocol', `${this.origin} sent a chunk without its line end`));
        this.#state = 'chunk-size';
        return undefined;
      case 'trailers':
        // Trailer fields are read and dropped: nothing here needs them (RFC 9112 §7.1.2).
        if (line === '') this.#finish();
        return undefined;
      case 'idle':
        // Bytes nobody asked for: the connection cannot be trusted for another request.
        this.#gone = true;
        this.close({ flush: false });
        return undefined;
      default:
        return undefined;
    }
  }

  #statusLine(line: string): void {
    // A blank line before the status line is tolerated (RFC 9112 §2.2).
    if (line === '' && this.#fields.length === 0) return;
    const m = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/.exec(line);
    if (!m) {
      this.#fail(new HttpClientError('protocol', `${this.origin} did not answer with an HTTP status line`));
      return;
    }
    this.#response = { version: `${m[1]}.${m[2]}`, status: Number(m[3]), statusText: m[4] ?? '', headers: {} };
    this.#fields = [];
    this.#state = 'headers';
  }

  #fieldLine(line: string): void | Promise<void> {
    if (line !== '') {
      const colon = line.indexOf(':');
      // obs-fold and a field name with whitespace are refused (RFC 9112 §5.1, §5.2).
      if (colon <= 0 || /^[ \t]/.test(line) || /[ \t]/.test(line.slice(0, colon))) {
        return this.#fail(new HttpClientError('protocol', `${this.origin} sent a malformed header field`));
      }
      if (this.#fields.length >= MAX_HEADER_FIELDS)
        return this.#fail(new HttpClientError('protocol', `${this.origin} sent more than ${MAX_HEADER_FIELDS} header fields`));
      this.#fields.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]);
      return undefined;
    }
    const response = this.#response!;
    for (const [name, value] of this.#fields) {
      response.headers[name] = name in response.headers ? `${response.headers[name]}, ${value}` : value;
    }
    this.#fields = [];
    // Interim responses (100 Continue, 103 Early Hints) are skipped: the final one follows (RFC 9110 §15.2).
    if (response.status >= 100 && response.status < 200) {
      this.#state = 'status';
      this.#response = undefined;
      return undefined;
    }
    return this.#startBody(response);
  }

  #startBody(response: HttpResponseHead): void | Promise<void> {
    const request = this.#request!;
    const tokens = (response.headers.connection ?? '')
      .toLowerCase()
      .split(',')
      .map((t) => t.trim());
    this.#reusable = response.version === '1.1' ? !tokens.includes('close') : tokens.includes('keep-alive');
    try {
      this.#sink = request.onHead(response);
    } catch (err) {
      return this.#fail(err instanceof Error ? err : new Error(String(err)), true);
    }
    // RFC 9112 §6.3: HEAD, 204 and 304 have no body whatever the fields say.
    if (request.method === 'HEAD' || response.status === 204 || response.status === 304) return this.#finish();
    const te = response.headers['transfer-encoding'];
    const cl = response.headers['content-length'];
    if (te !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(te)) {
        // Some other coding last: the body ends when the connection does.
        this.#reusable = false;
        return this.#readToClose();
      }
      this.#state = 'chunk-size';
      return undefined;
    }
    if (cl !== undefined) {
      // "5, 5" (a repeated field of equal values) is one length; anything else is refused.
      const values = [...new Set(cl.split(',').map((v) => v.trim()))];
      if (values.length !== 1 || !/^\d{1,15}$/.test(values[0]!))
        return this.#fail(new HttpClientError('protocol', `${this.origin} sent an invalid Content-Length`));
      this.#remaining = Number(values[0]);
      if (this.#remaining === 0) return this.#finish();
      this.#state = 'length';
      this.readBytes(Math.min(this.#remaining, BODY_PIECE));
      return undefined;
    }
    this.#reusable = false;
    return this.#readToClose();
  }

  #readToClose(): void {
    this.#state = 'close';
    this.readUntilClose();
  }

  #chunkSize(line: string): void {
    const m = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
    if (!m) {
      this.#fail(new HttpClientError('protocol', `${this.origin} sent an invalid chunk size`));
      return;
    }
    const size = parseInt(m[1]!, 16);
    if (size === 0) {
      this.#state = 'trailers';
      return;
    }
    this.#remaining = size;
    this.#state = 'chunk-data';
    this.readBytes(Math.min(size, BODY_PIECE));
  }

  protected override onRawData(data: Buffer): void {
    this.#bytes += data.length;
    if (this.#state === 'length' || this.#state === 'chunk-data') this.#remaining -= data.length;
    const sink = this.#sink;
    if (!sink) return;
    const wrote = sink(data);
    // A sink that must wait (a file stream above its high-water mark) holds the next piece of
    // the body back (the unit ends, and the core pauses the socket while its handler is
    // pending): what waits is at most one piece, BODY_PIECE plus one read.
    if (wrote) {
      // Every promise is kept, so none rejects unheard.
      const before = this.#waiting;
      this.#waiting = before ? Promise.all([before, wrote]).then(() => undefined) : wrote;
    }
  }

  #waiting: Promise<void> | undefined;

  protected override onRawEnd(): void | Promise<void> {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    // Decide the next terminator now (before any await), as LineSession asks.
    if (this.#state === 'close') {
      this.readLines();
      return this.#after(waiting, () => this.#finish());
    }
    if (this.#remaining > 0) {
      this.readBytes(Math.min(this.#remaining, BODY_PIECE));
      return waiting?.catch((err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err)), true));
    }
    this.readLines();
    if (this.#state === 'chunk-data') {
      this.#state = 'chunk-end';
      return waiting?.catch((err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err)), true));
    }
    return this.#after(waiting, () => this.#finish());
  }

  #after(waiting: Promise<void> | undefined, then: () => void): void | Promise<void> {
    if (!waiting) return then();
    return waiting.then(then, (err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err)), true));
  }

  #finish(): void {
    const request = this.#request;
    this.#request = undefined;
    this.#sink = undefined;
    this.#state = 'idle';
    if (!this.#reusable) {
      this.#gone = true;
      this.close({ flush: false });
    }
    request?.onDone(this.#bytes, this.#reusable && !this.#gone);
  }

  /** Fails the request in flight and drops the connection (its framing is lost). */
  #fail(err: Error, _local = false): void {
    const request = this.#request;
    this.#request = undefined;
    this.#sink = undefined;
    this.#gone = true;
    this.close({ flush: false });
    request?.onError(err);
  }

  /** Gives up the request in flight (a timeout of the caller, an abort). */
  abort(err: Error): void {
    this.#fail(err);
  }

  protected override onLineTooLong(): void {
    this.#fail(new HttpClientError('protocol', `${this.origin} sent a header line over ${this.maxLineLength} bytes`));
  }

  protected override handleEnd(): void {
    this.#gone = true;
    if (this.#request) {
      const what = this.#response ? 'before the response was complete' : 'without answering';
      this.#fail(new HttpClientError('closed', `${this.origin} closed the connection ${what}`));
    }
    this.close({ flush: false });
  }

  protected override handleClose(): void {
    this.#gone = true;
    if (this.#request) this.#fail(new HttpClientError('closed', `the connection to ${this.origin} was lost`));
  }

  protected override handleTimeout(): void {
    this.#gone = true;
    if (this.#request) this.#fail(new HttpClientError('timeout', `${this.origin} sent nothing for ${this.#timeoutMs / 1000} s`));
    else this.close({ flush: false });
  }

  protected override handleError(err: unknown): void {
    this.#fail(err instanceof Error ? err : new Error(String(err)));
  }
}
