import { connect, type Channel } from '@gorgon/core';
import {
  ClientConnection,
  NntpClientError,
  singleLine,
  type ClientConnectionLimits,
  type ClientResponse,
  type MultilineRule,
} from './client-connection.js';
import { parseOverview, type OverviewRecord } from './client-overview.js';

/** Where and how {@link NntpClient.connect} connects. */
export interface NntpClientOptions extends Partial<ClientConnectionLimits> {
  host?: string;
  port?: number;
  /** Implicit TLS (nntps, port 563): `{ ca, servername, rejectUnauthorized }`. */
  tls?: { ca?: string | Buffer; servername?: string; rejectUnauthorized?: boolean };
  connectTimeoutMs?: number;
  /** Idle timeout of the connection. Default 0 (none). */
  idleTimeoutMs?: number;
}

/** A selected group. @see RFC 3977 §6.1.1 */
export interface GroupSummary {
  readonly count: number;
  readonly low: number;
  readonly high: number;
  readonly name: string;
}

/** One retrieved article: its number (0 when asked by message-id), its message-id, its bytes. */
export interface FetchedArticle {
  readonly number: number;
  readonly messageId: string;
  readonly article: Buffer;
}

/** The outcome of one article in a pipelined retrieval: the article, or the server's refusal. */
export type ArticleResult = ({ ok: true } & FetchedArticle) | { ok: false; request: string; code: number; text: string };

/** What a peer said of an offered article. @see RFC 3977 §6.3.2, RFC 4644 §2.4, §2.5 */
export type TransferOutcome = 'accepted' | 'wanted' | 'duplicate' | 'later' | 'rejected';

const FOLLOWS = (codes: readonly number[]): MultilineRule => {
  const set = new Set(codes);
  return (code) => set.has(code);
};

const ARTICLE_ID = /^(\d+) (<[^>\s]+>)/;

/**
 * An NNTP client over the core's connection machinery: connect (plain or implicit TLS),
 * STARTTLS, AUTHINFO USER/PASS and SASL PLAIN, COMPRESS DEFLATE, GROUP, OVER, ARTICLE (one,
 * or many pipelined and read with `for await`), POST, IHAVE, MODE STREAM with CHECK and
 * TAKETHIS pipelined. Responses the operation did not expect throw an {@link NntpClientError}
 * with `reply`.
 * @see RFC 3977, RFC 4642, RFC 4643, RFC 4644, RFC 8054
 */
export class NntpClient {
  readonly #conn: ClientConnection;
  /** The greeting: 200 (posting allowed) or 201. */
  readonly greeting: ClientResponse;
  #capabilities: Map<string, string[]> | undefined;

  private constructor(conn: ClientConnection, greeting: ClientResponse) {
    this.#conn = conn;
    this.greeting = greeting;
  }

  /** Connects and reads the greeting; a 400/502 greeting rejects. @see RFC 3977 §5.1 */
  static async connect(options: NntpClientOptions = {}): Promise<NntpClient> {
    const channel = await connect({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 119,
      ...(options.tls ? { tls: options.tls } : {}),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
    });
    return NntpClient.over(channel, options);
  }

  /** A client over a ready channel (the in-memory pair, a child's stdio). */
  static async over(channel: Channel, limits: Partial<ClientConnectionLimits> = {}): Promise<NntpClient> {
    const conn = new ClientConnection(channel, limits);
    const greeting = await conn.expect();
    if (greeting.code !== 200 && greeting.code !== 201) {
      conn.close();
      throw new NntpClientError('reply', `the server refused the connection: ${greeting.code} ${greeting.text}`, greeting);
    }
    return new NntpClient(conn, greeting);
  }

  /** The channel under the client (`secure`, addresses, byte counts). */
  get channel(): Channel {
    return this.#conn.channel;
  }

  /** True when the greeting said posting is allowed (200). */
  get postingAllowed(): boolean {
    return this.greeting.code === 200;
  }

  /** Sends any command; `multiline` says which codes carry a data block. */
  command(line: string, multiline: MultilineRule = singleLine): Promise<ClientResponse> {
    return this.#conn.request(line, multiline);
  }

  /** CAPABILITIES, upper-cased labels with their arguments; cached until TLS, login or COMPRESS. @see RFC 3977 §5.2 */
  async capabilities(): Promise<Map<string, string[]>> {
    if (this.#capabilities) return this.#capabilities;
    const response = expectCode(await this.command('CAPABILITIES', FOLLOWS([101])), 101);
    const caps = new Map<string, string[]>();
    for (const line of dataLines(response)) {
      const [label, ...args] = line.split(/[ \t]+/).filter((w) => w.length > 0);
      if (label) caps.set(label.toUpperCase(), args);
    }
    this.#capabilities = caps;
    return caps;
  }

  /** MODE READER (for servers that start in transit mode). @see RFC 3977 §5.3 */
  async modeReader(): Promise<ClientResponse> {
    this.#capabilities = undefined;
    return expectCode(await this.command('MODE READER'), 200, 201);
  }

  /** STARTTLS, then the handshake; capabilities are asked again afterwards. @see RFC 4642 §2 */
  async startTls(options: { ca?: string | Buffer; servername?: string; rejectUnauthorized?: boolean } = {}): Promise<void> {
    expectCode(await this.command('STARTTLS'), 382);
    await this.#conn.startTls({
      isServer: false,
      servername: options.servername ?? 'localhost',
      ca: options.ca,
      rejectUnauthorized: options.rejectUnauthorized,
    });
    this.#capabilities = undefined;
  }

  /** COMPRESS DEFLATE, then the layer under the connection both ways. @see RFC 8054 §2.2 */
  async compress(): Promise<void> {
    expectCode(await this.command('COMPRESS DEFLATE'), 206);
    await this.#conn.startCompress();
    this.#capabilities = undefined;
  }

  /** AUTHINFO USER / PASS. @see RFC 4643 §2.3 */
  async login(user: string, password: string): Promise<void> {
    const first = await this.command(`AUTHINFO USER ${user}`);
    if (first.code === 381) expectCode(await this.command(`AUTHINFO PASS ${password}`), 281);
    else expectCode(first, 281);
    this.#capabilities = undefined;
  }

  /** AUTHINFO SASL PLAIN with the initial response. @see RFC 4643 §2.4, RFC 4616 */
  async loginSaslPlain(user: string, password: string): Promise<void> {
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    expectCode(await this.command(`AUTHINFO SASL PLAIN ${token}`), 281);
    this.#capabilities = undefined;
  }

  /** GROUP. @see RFC 3977 §6.1.1 */
  async group(name: string): Promise<GroupSummary> {
    const response = expectCode(await this.command(`GROUP ${name}`), 211);
    const [count, low, high, group] = response.text.split(' ');
    return { count: Number(count), low: Number(low), high: Number(high), name: group ?? name };
  }

  /** LIST ACTIVE [wildmat]: name, high, low, status per group. @see RFC 3977 §7.6.3 */
  async listActive(wildmat?: string): Promise<Array<{ name: string; high: number; low: number; status: string }>> {
    const response = expectCode(await this.command(wildmat ? `LIST ACTIVE ${wildmat}` : 'LIST ACTIVE', FOLLOWS([215])), 215);
    return dataLines(response).map((line) => {
      const [name = '', high = '0', low = '0', status = 'y'] = line.split(/\s+/);
      return { name, high: Number(high), low: Number(low), status };
    });
  }

  /** OVER of a range (`"1-"`, `"5-10"`) or message-id; an empty range is an empty list. @see RFC 3977 §8.3 */
  async over(range: string): Promise<OverviewRecord[]> {
    const response = await this.command(`OVER ${range}`, FOLLOWS([224]));
    if (response.code === 423 || response.code === 420 || response.code === 430) return [];
    return dataLines(expectCode(response, 224)).map(parseOverview);
  }

  /** ARTICLE by number or message-id. @see RFC 3977 §6.2.1 */
  async article(spec: number | string): Promise<FetchedArticle> {
    const result = toArticle(String(spec), await this.command(`ARTICLE ${spec}`, FOLLOWS([220])));
    if (!result.ok)
      throw new NntpClientError('reply', `ARTICLE ${spec}: ${result.code} ${result.text}`, {
        code: result.code,
        text: result.text,
        data: undefined,
      });
    return result;
  }

  /**
   * ARTICLE for each number or message-id, pipelined: up to `window` requests in flight, results
   * in request order, read with `for await`. A missing article is a result (`ok: false`), not an
   * error; a lost connection throws.
   * @see RFC 3977 §3.5 (pipelining)
   */
  async *articles(specs: Iterable<number | string>, window = 16): AsyncGenerator<ArticleResult> {
    const inFlight: Array<{ request: string; response: Promise<ClientResponse> }> = [];
    const iterator = specs[Symbol.iterator]();
    let exhausted = false;
    const fill = (): void => {
      while (!exhausted && inFlight.length < window) {
        const next = iterator.next();
        if (next.done) {
          exhausted = true;
          return;
        }
        const request = String(next.value);
        const response = this.command(`ARTICLE ${request}`, FOLLOWS([220]));
        response.catch(() => {}); // surfaced when awaited below
        inFlight.push({ request, response });
      }
    };
    fill();
    while (inFlight.length > 0) {
      const head = inFlight.shift()!;
      const response = await head.response;
      fill();
      yield toArticle(head.request, response);
    }
  }

  /** POST: 340, the article, 240. @see RFC 3977 §6.3.1 */
  async post(article: Buffer | string): Promise<ClientResponse> {
    expectCode(await this.command('POST'), 340);
    return expectCode(await this.#conn.sendBlock(article), 240);
  }

  /** IHAVE: 335 then the article, or the peer does not want it (435/436). @see RFC 3977 §6.3.2 */
  async ihave(messageId: string, article: Buffer | string | (() => Promise<Buffer>)): Promise<TransferOutcome> {
    const offer = await this.command(`IHAVE ${messageId}`);
    if (offer.code === 435) return 'duplicate';
    if (offer.code === 436) return 'later';
    expectCode(offer, 335);
    const bytes = typeof article === 'function' ? await article() : article;
    const result = await this.#conn.sendBlock(bytes);
    if (result.code === 235) return 'accepted';
    if (result.code === 436) return 'later';
    if (result.code === 437) return 'rejected';
    throw unexpected(result);
  }

  /** MODE STREAM; false when the peer does not stream (500/501). @see RFC 4644 §2.3 */
  async modeStream(): Promise<boolean> {
    const response = await this.command('MODE STREAM');
    return response.code === 203;
  }

  /** CHECK for each message-id, pipelined; outcome per id. @see RFC 4644 §2.4 */
  async check(messageIds: readonly string[]): Promise<Map<string, TransferOutcome>> {
    const responses = await Promise.all(messageIds.map((id) => this.command(`CHECK ${id}`)));
    const outcomes = new Map<string, TransferOutcome>();
    responses.forEach((response, i) => {
      const code = response.code;
      outcomes.set(messageIds[i]!, code === 238 ? 'wanted' : code === 438 ? 'duplicate' : code === 431 ? 'later' : failWith(response));
    });
    return outcomes;
  }

  /** TAKETHIS for each article, pipelined (command line and article together). @see RFC 4644 §2.5 */
  async takeThis(articles: ReadonlyArray<{ messageId: string; article: Buffer | string }>): Promise<Map<string, TransferOutcome>> {
    const responses = await Promise.all(articles.map(({ messageId, article }) => this.#conn.sendBlock(article, `TAKETHIS ${messageId}`)));
    const outcomes = new Map<string, TransferOutcome>();
    responses.forEach((response, i) => {
      const code = response.code;
      outcomes.set(
        articles[i]!.messageId,
        code === 239 ? 'accepted' : code === 439 ? 'rejected' : code === 431 ? 'later' : failWith(response),
      );
    });
    return outcomes;
  }

  /** QUIT and wait for the close. @see RFC 3977 §5.4 */
  async quit(): Promise<void> {
    if (!this.#conn.failed) {
      try {
        await this.command('QUIT');
      } catch {
        // already gone
      }
    }
    this.#conn.close();
    await this.#conn.channel.closed;
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#conn.close({ flush: false });
  }
}

function toArticle(request: string, response: ClientResponse): ArticleResult {
  if (response.code !== 220 || !response.data) return { ok: false, request, code: response.code, text: response.text };
  const match = ARTICLE_ID.exec(response.text);
  return { ok: true, number: Number(match?.[1] ?? 0), messageId: match?.[2] ?? '', article: response.data };
}

/** The lines of a data block, without their CRLF. */
export function dataLines(response: ClientResponse): string[] {
  if (!response.data || response.data.length === 0) return [];
  const text = response.data.toString('utf8');
  return text.slice(0, text.endsWith('\r\n') ? -2 : undefined).split('\r\n');
}

function unexpected(response: ClientResponse): NntpClientError {
  return new NntpClientError('reply', `unexpected reply: ${response.code} ${response.text}`, response);
}

function failWith(response: ClientResponse): never {
  throw unexpected(response);
}

function expectCode(response: ClientResponse, ...codes: number[]): ClientResponse {
  if (!codes.includes(response.code)) throw unexpected(response);
  return response;
}
