import { connect, CoreError, Loop, type Logger } from '@gorgon/core';
import { HttpConnection, type BodySink, type HttpResponseHead } from './client-connection.js';
import { HttpClientError } from './client-errors.js';

/** TLS settings for `https://` URLs. */
export interface HttpTlsOptions {
  /** CA certificates (PEM) to trust instead of Node's bundle. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** False skips certificate verification (`--insecure`). Default true. */
  rejectUnauthorized?: boolean;
}

/** Options of an {@link HttpClient}. */
export interface HttpClientOptions {
  tls?: HttpTlsOptions;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Give up when the server sends nothing for this long, waiting for a response or in a body. Default 30 s. */
  timeoutMs?: number;
  /** Idle connections kept per server for reuse. Default 6. */
  maxIdlePerServer?: number;
  /** Sent as `User-Agent`. */
  userAgent?: string;
  /** Most body bytes `get()` collects in memory (not `request()` with a sink). Default 64 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

/** One request. */
export interface HttpRequestOptions {
  method?: 'GET' | 'HEAD';
  /** Extra header fields (`Range`, `If-Range`, ...). */
  headers?: Record<string, string>;
  /** Called with the response head; returns where the body goes (nothing: discarded). */
  onHead?: (head: HttpResponseHead) => BodySink | undefined;
  signal?: AbortSignal;
}

/** A complete response: its head and the body bytes that went to the sink. */
export interface HttpResponse extends HttpResponseHead {
  /** The URL that answered. */
  url: string;
  bodyBytes: number;
}

/** A response with its body in memory, from {@link HttpClient.get}. */
export interface HttpResponseWithBody extends HttpResponse {
  body: Buffer;
}

/** Where a URL points, checked. */
export interface HttpTarget {
  secure: boolean;
  host: string;
  port: number;
  /** `host:port` as people write it (`[::1]:8080`). */
  origin: string;
  /** The request target in origin-form, `/path?query` (RFC 9112 §3.2.1). */
  path: string;
  /** The `Host` field value: the port only when not the scheme's default (RFC 9110 §7.2). */
  hostField: string;
}

/**
 * Parses an `http://` or `https://` URL. Fragments are dropped; user information is refused,
 * as RFC 9110 §4.2.4 deprecates it and it would go to the server in the clear.
 * @throws HttpClientError `bad-url`
 * @see RFC 9110 §4.2.1, §4.2.2
 */
export function parseHttpUrl(url: string | URL): HttpTarget {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    throw new HttpClientError('bad-url', `${String(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new HttpClientError('bad-url', `${u.href}: only http:// and https:// URLs can be fetched over HTTP`);
  if (u.hostname === '') throw new HttpClientError('bad-url', `${u.href} names no host`);
  if (u.username !== '' || u.password !== '')
    throw new HttpClientError('bad-url', `${u.protocol}//${u.host}${u.pathname}: user names in http URLs are not supported`);
  const secure = u.protocol === 'https:';
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const shown = host.includes(':') ? `[${host}]` : host;
  return { secure, host, port, origin: `${shown}:${port}`, path: `${u.pathname || '/'}${u.search}`, hostField: u.host };
}

/**
 * An HTTP/1.1 GET and HEAD client on the core's `connect()`: one connection per request in
 * flight, connections kept open and reused per server (`keep-alive`, the default of HTTP/1.1),
 * `Content-Length`, chunked and close-delimited bodies, TLS for `https://`. Redirects are the
 * caller's choice (the grabber, {@link getUrls}, follows them); `get()` follows none.
 *
 * ```ts
 * await using client = new HttpClient();
 * const res = await client.get('http://127.0.0.1:8080/index.html');
 * console.log(res.status, res.body.length);
 * ```
 * @see RFC 9112 §9.3 (persistence), §9.3.1 (retrying requests)
 */
export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #idle = new Map<string, HttpConnection[]>();
  readonly #busy = new Set<HttpConnection>();
  /** One housekeeping loop for every connection's timeouts. */
  readonly #loop = new Loop();
  /** New connections opened, for tests and metrics: fewer than requests means reuse. */
  connectionsOpened = 0;

  constructor(options: HttpClientOptions = {}) {
    this.#options = options;
  }

  /** GET (or HEAD) with the body collected in memory, up to `maxBodyBytes`. No redirects. */
  async get(url: string | URL, options: Omit<HttpRequestOptions, 'onHead'> = {}): Promise<HttpResponseWithBody> {
    const chunks: Buffer[] = [];
    let size = 0;
    const limit = this.#options.maxBodyBytes ?? 64 * 1024 * 1024;
    const res = await this.request(url, {
      ...options,
      onHead: () => (chunk) => {
        size += chunk.length;
        if (size > limit) throw new HttpClientError('local-io', `the body of ${String(url)} is over ${limit} bytes`);
        chunks.push(chunk);
      },
    });
    return { ...res, body: Buffer.concat(chunks, size) };
  }

  /**
   * Sends one request and resolves when its response is complete, whatever the status (the
   * caller decides what a 404 means). An idle connection to the same server is reused; if the
   * server had closed it meanwhile and nothing of the response came, the request is sent once
   * more on a new connection, which RFC 9112 §9.3.1 allows for GET and HEAD.
   */
  async request(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const target = parseHttpUrl(url);
    const method = options.method ?? 'GET';
    const head = this.#head(method, target, options.headers ?? {});
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw new HttpClientError('aborted', 'stopped');
      const connection = this.#takeIdle(target) ?? (await this.#open(target));
      const reused = connection.requests > 0;
      try {
        return await this.#exchange(connection, { method, head, target, options, url: String(url) });
      } catch (err) {
        const stale = reused && attempt === 0 && err instanceof HttpClientError && err.kind === 'closed' && !connection.started;
        if (!stale) throw err;
      }
    }
  }

  #exchange(
    connection: HttpConnection,
    r: { method: 'GET' | 'HEAD'; head: string; target: HttpTarget; options: HttpRequestOptions; url: string },
  ): Promise<HttpResponse> {
    this.#busy.add(connection);
    return new Promise<HttpResponse>((resolve, reject) => {
      let response: HttpResponseHead | undefined;
      const signal = r.options.signal;
      const onAbort = (): void => connection.abort(new HttpClientError('aborted', 'stopped'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.#busy.delete(connection);
      };
      connection.send({
        method: r.method,
        head: r.head,
        onHead: (h) => {
          response = h;
          return r.options.onHead?.(h);
        },
        onDone: (bytes, reusable) => {
          settle();
          if (reusable) this.#putIdle(r.target, connection);
          resolve({ ...response!, url: r.url, bodyBytes: bytes });
        },
        onError: (err) => {
          settle();
          reject(err);
        },
      });
    });
  }

  #head(method: string, target: HttpTarget, extra: Record<string, string>): string {
    const fields: Record<string, string> = {
      Host: target.hostField,
      'User-Agent': this.#options.userAgent ?? 'gorgon-http',
      Accept: '*/*',
      ...extra,
    };
    let head = `${method} ${target.path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(fields)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new HttpClientError('bad-url', `header field ${name} contains a line break`);
      head += `${name}: ${value}\r\n`;
    }
    return `${head}\r\n`;
  }

  #takeIdle(target: HttpTarget): HttpConnection | undefined {
    const list = this.#idle.get(key(target));
    while (list && list.length > 0) {
      const c = list.pop()!;
      if (c.usable) return c;
    }
    return undefined;
  }

  #putIdle(target: HttpTarget, connection: HttpConnection): void {
    const k = key(target);
    const list = (this.#idle.get(k) ?? []).filter((c) => c.usable);
    if (list.length >= (this.#options.maxIdlePerServer ?? 6)) connection.close({ flush: false });
    else list.push(connection);
    this.#idle.set(k, list);
  }

  async #open(target: HttpTarget): Promise<HttpConnection> {
    const tls = this.#options.tls;
    try {
      const channel = await connect({
        host: target.host,
        port: target.port,
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 10_000,
        idleTimeoutMs: this.#options.timeoutMs ?? 30_000,
        loop: this.#loop,
        ...(this.#options.logger ? { logger: this.#options.logger } : {}),
        ...(target.secure
          ? { tls: { ...(tls?.ca !== undefined ? { ca: tls.ca } : {}), rejectUnauthorized: tls?.rejectUnauthorized ?? true } }
          : {}),
      });
      this.connectionsOpened++;
      return new HttpConnection(channel, target.origin, { timeoutMs: this.#options.timeoutMs ?? 30_000 });
    } catch (err) {
      if (err instanceof CoreError && err.code === 'timeout')
        throw new HttpClientError(
          'timeout',
          `no connection to ${target.origin} within ${(this.#options.connectTimeoutMs ?? 10_000) / 1000} s`,
          { cause: err },
        );
      const tlsFailure = target.secure && isTlsError(err);
      throw new HttpClientError(tlsFailure ? 'tls-failed' : 'connect-failed', err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
  }

  /** Idle connections open now, over all servers. */
  get idleConnections(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.filter((c) => c.usable).length;
    return n;
  }

  /** Closes every connection, idle or busy (a busy request fails with `aborted`). */
  close(): void {
    for (const list of this.#idle.values()) for (const c of list) c.close({ flush: false });
    this.#idle.clear();
    for (const c of this.#busy) c.abort(new HttpClientError('aborted', 'the client was closed'));
    this.#busy.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

function key(t: HttpTarget): string {
  return `${t.secure ? 's' : ''}${t.origin}`;
}

function isTlsError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/^ERR_TLS|^ERR_SSL|CERT|SELF_SIGNED|UNABLE_TO/.test(code)) return true;
  }
  return false;
}
