import { AsyncChat, errorText, finishCommand, replyClassOf, startCommand, type Channel, type CommandTiming } from '@gorgon/core';
import { formatCombined } from './access-log.js';
import { FileBodyProducer, type BodySegment } from './body-producer.js';
import type { HttpContext } from './context.js';
import { FILE_CHUNK_BYTES } from './defaults.js';
import { knownMethods } from './methods.js';
import { listMembers, parseFieldLine, parseRequestLine, parseTarget, type RequestLine, type Target } from './request.js';
import type { CachedFile } from './hot-cache.js';
import { formatHead, httpDate } from './response.js';
import { reasonOf, statuses } from './statuses.js';
import type { StoreFile } from './store.js';

/** A request whose header section is complete. @see RFC 9112 §2.1 */
export interface HttpRequest {
  readonly method: string;
  /** The request line as received (for the access log). */
  readonly line: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  readonly target: Target;
  /** Fields by lower-case name; repeated fields joined with ", " (RFC 9110 §5.3). */
  readonly fields: Map<string, string>;
  /** The connection stays open after the response. @see RFC 9112 §9.3 */
  keepAlive: boolean;
}

/** The interim response that asks for the body. @see RFC 9110 §15.2.1 */
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/** How many parsed request targets a server remembers (each at most 256 characters). */
const TARGET_MEMO = 4096;

/** An absent list field's members; never written to. */
const NO_MEMBERS: readonly string[] = [];

/** Shared by sessions between requests; never written to. */
const EMPTY_FIELDS: Map<string, string> = new Map();

const LINE = 0;
const HEADERS = 1;
const BODY = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const TRAILER = 5;

/** What is known of the request being read (one object per request, none while idle). */
class ParseState {
  phase = LINE;
  acc = '';
  accBytes = 0;
  headerBytes = 0;
  line: RequestLine | undefined;
  lineText = '';
  fields: Map<string, string> = EMPTY_FIELDS;
  fieldCount = 0;
  contentLengths = 0;
  drained = 0;
}

/**
 * What a method row (the server's `commands` option) may use of the session: the request, the
 * `Allow` value and the two ways to answer. The session's server context stays internal.
 * @see RFC 9110 §9
 */
export interface HttpMethodSession {
  /** The request being answered. */
  readonly request: HttpRequest | undefined;
  /** The `Allow` field value: the methods the server's table offers. */
  readonly allow: string;
  /** The client's address (the PROXY header's source, when trusted). */
  readonly remoteAddress: string;
  /**
   * Sends a whole response: `fields` are whole field lines (`"Name: value\r\n"`); Date, Server,
   * Content-Length and Connection are added. HEAD, 204 and 304 carry no content. `close` ends
   * the connection after it.
   */
  respond(status: number, fields: string, body: Buffer | string | undefined, close?: boolean, headLength?: number): void;
  /** An error response with a short text body (405 carries Allow). */
  error(status: number, close?: boolean): void;
}

/**
 * One HTTP/1.x connection over the core's AsyncChat: lines cut by the framer ('\n', the CR
 * checked and stripped), a body drained by byte count or by chunks, requests dispatched one at a
 * time so pipelined responses leave in order, and the core's backpressure holding later
 * requests while a response is still being written. Every malformed or hostile shape is refused
 * with its status and the connection closed. @see RFC 9112 §2, §3, §5, §6, §9
 */
export class HttpSession extends AsyncChat implements HttpMethodSession {
  readonly ctx: HttpContext;
  /** The request being answered. */
  request: HttpRequest | undefined;
  /** The parse state of the request being read: made at its first byte, let go once answered. */
  #p: ParseState | undefined;
  /** When the current request's first byte came (or the connection opened); 0 between requests. */
  #startedAt: number;
  #dead = false;
  /** The request being timed for `commandDone` (only while someone watches). */
  #timing: CommandTiming | undefined;

  get allow(): string {
    return this.ctx.allow;
  }

  get remoteAddress(): string {
    return this.channel.remoteAddress;
  }

  get #s(): ParseState {
    this.#p ??= new ParseState();
    return this.#p;
  }

  constructor(channel: Channel, ctx: HttpContext) {
    super(channel);
    this.ctx = ctx;
    this.setTerminator('\n');
    this.#startedAt = Date.now();
    ctx.awaitingHeaders.add(this);
  }

  protected override collectIncomingData(data: Buffer): void {
    this.collectIncomingRange(data, 0, data.length);
  }

  protected override collectIncomingRange(buf: Buffer, start: number, end: number): void {
    if (this.#dead) return;
    const st = this.#s;
    const phase = st.phase;
    if (phase === BODY || phase === CHUNK_DATA) return; // drained, not kept
    if (this.#startedAt === 0) {
      this.#startedAt = Date.now();
      this.ctx.awaitingHeaders.add(this);
    }
    st.accBytes += end - start;
    const acc = st.accBytes;
    const { limits } = this.ctx;
    if (phase === LINE && acc > limits.maxLineLength + 1) {
      this.refuse(statuses.uriTooLong);
      return;
    }
    if (phase === HEADERS && st.headerBytes + acc > limits.maxHeaderBytes) {
      this.refuse(statuses.headersTooLarge);
      return;
    }
    if (phase >= CHUNK_SIZE && acc > 4096) {
      this.refuse(statuses.badRequest);
      return;
    }
    const text = buf.toString('latin1', start, end);
    st.acc = st.acc === '' ? text : st.acc + text;
  }

  protected override foundTerminator(): void | Promise<void> {
    if (this.#dead) return;
    const st = this.#s;
    const phase = st.phase;
    if (phase === BODY) return this.#bodyDone();
    if (phase === CHUNK_DATA) {
      this.setTerminator('\n');
      st.phase = CHUNK_SIZE;
      return;
    }
    let line = st.acc;
    const bytes = st.accBytes + 1;
    st.acc = '';
    st.accBytes = 0;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    // A CR anywhere else is a bare CR: a smuggling shape. @see RFC 9112 §2.2
    if (line.includes('\r')) return this.refuse(statuses.badRequest);
    if (phase === HEADERS) return this.#fieldLine(line, bytes);
    if (phase === LINE) return this.#requestLine(line);
    if (phase === CHUNK_SIZE) return this.#chunkSize(line);
    if (phase === TRAILER && line === '') return this.#bodyDone();
  }

  #requestLine(line: string): void {
    if (line === '') return; // RFC 9112 §2.2: empty lines before a request are ignored
    if (line.length > this.ctx.limits.maxLineLength) {
      this.refuse(statuses.uriTooLong);
      return;
    }
    const parsed = parseRequestLine(line);
    if (parsed === 400) {
      this.refuse(statuses.badRequest);
      return;
    }
    if (parsed === 505) {
      this.refuse(statuses.versionNotSupported);
      return;
    }
    const st = this.#s;
    st.line = parsed;
    st.lineText = line;
    st.phase = HEADERS;
    st.headerBytes = 0;
    st.fieldCount = 0;
    st.contentLengths = 0;
    st.fields = new Map();
  }

  #fieldLine(line: string, bytes: number): void | Promise<void> {
    if (line === '') return this.#headersDone();
    const st = this.#s;
    st.headerBytes += bytes;
    if (++st.fieldCount > this.ctx.limits.maxHeaders) return this.refuse(statuses.headersTooLarge);
    // obs-fold (a line starting with SP/HTAB) is refused, not unfolded. @see RFC 9112 §5.2
    const parsed = parseFieldLine(line);
    if (parsed === 400) return this.refuse(statuses.badRequest);
    const [name, value] = parsed;
    if (name === 'content-length') st.contentLengths++;
    const had = st.fields.get(name);
    st.fields.set(name, had === undefined ? value : `${had}, ${value}`);
  }

  #headersDone(): void | Promise<void> {
    const st = this.#s;
    const line = st.line!;
    const f = st.fields;
    this.#startedAt = 0;
    this.ctx.awaitingHeaders.delete(this);
    const te = f.get('transfer-encoding');
    const cl = f.get('content-length');
    // Smuggling shapes: both framings, several Content-Lengths, a bad one. @see RFC 9112 §6.1, §6.3
    if (te !== undefined && (cl !== undefined || line.minor === 0)) return this.refuse(statuses.badRequest);
    if (cl !== undefined && (st.contentLengths > 1 || !/^\d{1,15}$/.test(cl))) return this.refuse(statuses.badRequest);
    // Host: exactly one on HTTP/1.1. @see RFC 9112 §3.2
    const host = f.get('host');
    if (line.minor === 1 && (host === undefined || host.includes(','))) return this.refuse(statuses.badRequest);
    // Parsed targets are remembered (a few thousand): a hot path is decoded and checked once.
    const targets = this.ctx.targets;
    let target: Target | 400 | 403 | undefined = targets.get(line.target);
    if (target === undefined) {
      target = parseTarget(line.target);
      if (target === 400) return this.refuse(statuses.badRequest);
      if (target !== 403 && line.target.length <= 256) {
        if (targets.size >= TARGET_MEMO) targets.clear();
        targets.set(line.target, target);
      }
    }
    const conn = f.get('connection');
    const connection = conn === undefined ? NO_MEMBERS : listMembers(conn).map((t) => t.toLowerCase());
    const keepAlive = line.minor === 1 ? !connection.includes('close') : connection.includes('keep-alive');
    const request: HttpRequest = {
      method: line.method,
      line: st.lineText,
      minor: line.minor,
      target: target === 403 ? { path: '/', rawPath: '/', query: '' } : target,
      fields: f,
      keepAlive,
    };
    this.request = request;
    if (target === 403) {
      st.phase = LINE;
      return this.refuse(statuses.forbidden, te !== undefined || (cl !== undefined && cl !== '0'));
    }
    const length = cl === undefined ? 0 : Number(cl);
    // Expect: ignored on HTTP/1.0; anything but 100-continue is 417. @see RFC 9110 §10.1.1
    const expect = line.minor === 1 ? f.get('expect') : undefined;
    if (expect !== undefined && expect !== '') {
      const hasBody = te !== undefined || length > 0;
      if (!listMembers(expect).every((m) => m.toLowerCase() === '100-continue')) {
        st.phase = LINE;
        return this.refuse(statuses.expectationFailed, hasBody); // a body the client may send next: close
      }
      if (hasBody) {
        // A request refused anyway gets its final status without 100, and its body is never read.
        const final = this.#refusedBeforeBody(request, te, length);
        if (final !== 0) return this.refuse(final);
        this.push(CONTINUE);
      }
    }
    if (te !== undefined) {
      // Only chunked is known; it must be the final coding. @see RFC 9112 §6.1, §7
      if (listMembers(te.toLowerCase()).join(',') !== 'chunked') return this.refuse(statuses.notImplemented);
      st.phase = CHUNK_SIZE;
      st.drained = 0;
      return;
    }
    if (length > 0) {
      if (length > this.ctx.limits.maxDrainBytes) return this.refuse(statuses.contentTooLarge);
      st.phase = BODY;
      this.setTerminator(length);
      return;
    }
    return this.#dispatch();
  }

  /** The status a request would be refused with whatever its body, or 0 (checked before a 100 is sent). */
  #refusedBeforeBody(req: HttpRequest, te: string | undefined, length: number): number {
    if (te !== undefined && listMembers(te.toLowerCase()).join(',') !== 'chunked') return statuses.notImplemented;
    if (length > this.ctx.limits.maxDrainBytes) return statuses.contentTooLarge;
    const spec = req.method === req.method.toUpperCase() ? this.ctx.table.getUpper(req.method) : undefined;
    if (!spec) return knownMethods.has(req.method) ? statuses.methodNotAllowed : statuses.notImplemented;
    if (req.target.asterisk && req.method !== 'OPTIONS') return statuses.badRequest;
    return 0;
  }

  #chunkSize(line: string): void | Promise<void> {
    const m = /^([0-9A-Fa-f]{1,8})[ \t]*(;.*)?$/.exec(line);
    if (!m) return this.refuse(statuses.badRequest);
    const size = Number.parseInt(m[1]!, 16);
    if (size === 0) {
      this.#s.phase = TRAILER;
      return;
    }
    this.#s.drained += size;
    if (this.#s.drained > this.ctx.limits.maxDrainBytes) return this.refuse(statuses.contentTooLarge);
    this.#s.phase = CHUNK_DATA;
    this.setTerminator(size + 2); // the data and its CRLF
  }

  #bodyDone(): void | Promise<void> {
    this.setTerminator('\n');
    return this.#dispatch();
  }

  /** Runs the method's row (405 with Allow for a known method not served, 501 for others). @see RFC 9110 §9.1 */
  #dispatch(): void | Promise<void> {
    if (this.#p !== undefined) this.#p.phase = LINE;
    const req = this.request!;
    this.ctx.stats.requests++;
    this.channel.counters.commands++; // a request is HTTP's command
    const spec = req.method === req.method.toUpperCase() ? this.ctx.table.getUpper(req.method) : undefined;
    if (this.ctx.events.wants.commandDone) this.#timing = startCommand(this.ctx.events, spec ? req.method : 'UNKNOWN');
    if (!spec) return this.error(knownMethods.has(req.method) ? statuses.methodNotAllowed : statuses.notImplemented);
    if (req.target.asterisk && req.method !== 'OPTIONS') return this.error(statuses.badRequest);
    const events = this.ctx.events;
    if (events.wants.command) events.emit('command', { id: this.channel.id, verb: req.method, state: 'request' });
    return spec.run(this, req.target.rawPath) as void | Promise<void>;
  }

  /** An error response with a short text body; 405 carries Allow. */
  error(status: number, close = false): void {
    const allow = status === statuses.methodNotAllowed ? `Allow: ${this.ctx.allow}\r\n` : '';
    this.respond(status, `${allow}Content-Type: text/plain\r\n`, `${status} ${reasonOf(status)}\n`, close);
  }

  /**
   * Refuses the request in progress with `status`. By default the connection then closes (the
   * framing of what follows cannot be trusted); input is dropped from here on.
   */
  refuse(status: number, close = true): void {
    if (close) {
      this.#dead = true;
      this.ctx.awaitingHeaders.delete(this);
      this.#startedAt = 0;
    }
    if (!this.request) {
      this.request = {
        method: 'GET',
        line: this.#s.lineText || this.#s.acc.slice(0, 200),
        minor: this.#s.line?.minor ?? 1,
        target: { path: '/', rawPath: '/', query: '' },
        fields: new Map(),
        keepAlive: false,
      };
    }
    this.ctx.stats.errors4xx5xx++;
    this.error(status, close);
  }

  /**
   * Sends a whole response held in memory. HEAD, 204 and 304 carry no content; HEAD keeps the
   * Content-Length GET would have. @see RFC 9110 §9.3.2, RFC 9112 §6.3
   */
  respond(status: number, fields: string, body: Buffer | string | undefined, close = false, headLength?: number): void {
    const req = this.request!;
    const keepAlive = req.keepAlive && !close;
    const noContent = status === 204 || status === 304;
    const length = noContent
      ? undefined
      : (headLength ?? (body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    const head = formatHead(status, fields, length, keepAlive, req.minor);
    const send = body !== undefined && !noContent && req.method !== 'HEAD';
    if (!send) this.push(head);
    else if (typeof body === 'string') this.push(head + body);
    else this.push(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    this.#finish(status, send ? length! : 0, keepAlive);
  }

  /** Sends a response whose content comes from an open file, in reads of 1 MiB. */
  respondFile(
    status: number,
    fields: string,
    length: number,
    file: StoreFile,
    segments: (head: Buffer) => BodySegment[],
    trailer: Buffer | undefined,
  ): void {
    const req = this.request!;
    const head = formatHead(status, fields, length, req.keepAlive, req.minor);
    if (req.method === 'HEAD') {
      void file.close();
      this.push(head);
      this.#finish(status, 0, req.keepAlive);
      return;
    }
    this.pushWithProducer(new FileBodyProducer(file, segments(Buffer.from(head, 'latin1')), trailer, FILE_CHUNK_BYTES));
    this.#finish(status, length, req.keepAlive);
  }

  /** Sends a cached file's prepared 200 response (its head only for HEAD): one buffer, one write. */
  respondPrepared(entry: CachedFile): void {
    const req = this.request!;
    const prepared = entry.response(httpDate(), req.keepAlive, req.minor);
    if (req.method === 'HEAD') {
      this.#finish(statuses.ok, 0, req.keepAlive, prepared.bytes.subarray(0, prepared.headLength));
      return;
    }
    this.#finish(statuses.ok, entry.data.length, req.keepAlive, prepared.bytes);
  }

  /**
   * Ends a response: the access log, the events, and the close when the connection does not stay
   * open. `last`, when given, is the response's bytes, not yet queued: they go out with the FIN
   * when the connection closes after them.
   */
  #finish(status: number, bytes: number, keepAlive: boolean, last?: Buffer): void {
    const req = this.request!;
    const ctx = this.ctx;
    if (status === 200 || status === 206) ctx.stats.bytesServed += bytes;
    if (ctx.logsAccess || ctx.accessLog) {
      const line = formatCombined({
        remoteAddress: this.channel.remoteAddress,
        requestLine: req.line,
        status,
        bytes,
        referer: req.fields.get('referer'),
        userAgent: req.fields.get('user-agent'),
        time: Date.now(),
      });
      if (ctx.logsAccess) this.channel.log.info({ event: 'access', status }, line);
      ctx.accessLog?.write(line);
    }
    const events = ctx.events;
    if (events.wants.commandDone) {
      // A request refused before dispatch (400, 408, 413) is a command too, of no known method.
      const timing = this.#timing ?? startCommand(events, 'UNKNOWN')!;
      this.#timing = finishCommand(events, this.channel.id, timing, replyClassOf(status));
    }
    if (events.wants.transfer && (status === 200 || status === 206)) {
      events.emit('transfer', { id: this.channel.id, kind: 'download', user: undefined, path: req.target.path, bytes, ms: 0, ok: true });
    }
    this.request = undefined;
    if (this.#p?.phase === LINE && this.#p.accBytes === 0) this.#p = undefined; // an idle connection holds no parse state
    if (!keepAlive) this.closeWhenDone(last);
    else if (last) this.push(last);
  }

  /** The header deadline, checked on the server's tick: 408 and close when passed. */
  checkHeaderDeadline(now: number): boolean {
    const limit = this.ctx.limits.headerTimeoutMs;
    if (this.#startedAt === 0 || this.closing || limit <= 0) return false;
    if (now - this.#startedAt < limit) return true;
    this.channel.log.info({ event: 'header-timeout' }, 'request header section not received in time');
    this.refuse(statuses.requestTimeout);
    return false;
  }

  /** Idle keep-alive connection: closed without a word; mid-request: 408. @see RFC 9112 §9.5 */
  protected override handleTimeout(): void {
    if (this.#startedAt !== 0 && !this.#dead) this.refuse(statuses.requestTimeout);
    else this.close({ flush: true });
  }

  protected override handleClose(): void {
    this.ctx.awaitingHeaders.delete(this);
  }

  /** A store failure: 500 and close (the process goes on). */
  protected override handleError(err: unknown): void {
    this.channel.counters.errors++;
    this.channel.log.error({ event: 'handler-error' }, errorText(err));
    if (!this.closing) this.refuse(statuses.internalError);
  }
}
