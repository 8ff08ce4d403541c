import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorText, normaliseAddress, silentLogger, type Logger } from '@gorgon/core';
import { NntpClient } from './client.js';
import { FeedQueue, backoffDelay, type BackoffOptions, type QueueEntry } from './feed-queue.js';
import { FeedsConfigError, parseFeedsConfig, pathNames, type FeedPeer, type FeedsConfig } from './feeds-config.js';
import { wildmat } from './wildmat.js';

/** Where outgoing feeds read articles: a `NewsStore` is one. */
export interface ArticleSource {
  articleById(messageId: string): Promise<{ readonly data: Buffer } | undefined>;
}

/** An accepted article, as the server tells the feeds about it. */
export interface AcceptedArticle {
  readonly messageId: string;
  /** The groups of its Newsgroups header. */
  readonly groups: readonly string[];
  /** Its Path header (after our own name was prepended). */
  readonly path: string;
}

/** Options of {@link Feeds.open}. */
export interface FeedsOptions {
  readonly config: FeedsConfig;
  readonly store: ArticleSource;
  /** Directory of the per-peer journals (`NAME.journal`). */
  readonly queueDir: string;
  /** Our own Path name: an incoming article whose Path already has it is a loop. */
  readonly pathHost: string;
  readonly backoff?: Partial<BackoffOptions>;
  readonly logger?: Logger;
  readonly connectTimeoutMs?: number;
}

/**
 * Outgoing and incoming feeds of a news server. The server calls {@link acceptsFeedFrom}
 * before IHAVE / MODE STREAM / CHECK / TAKETHIS, {@link isLoop} on a fed article's Path, and
 * {@link articleAccepted} after it stored any article (posted or fed). Each outgoing peer has
 * a persistent journal queue (survives restarts) and a worker that offers queued articles by
 * streaming (MODE STREAM, CHECK then TAKETHIS, pipelined) or IHAVE, retrying "later" answers
 * and failed connections with exponential backoff. An article is not queued for a peer whose
 * Path name it already carries, so two servers feeding each other never loop; a duplicate
 * offer is refused by the peer's history (435/438), so nothing is stored twice.
 * @see RFC 3977 §6.3.2, RFC 4644 §2, RFC 5537 §3.3
 */
export class Feeds {
  readonly #workers: PeerWorker[];
  readonly #accept: Set<string>;
  readonly #pathHost: string;

  private constructor(workers: PeerWorker[], accept: Set<string>, pathHost: string) {
    this.#workers = workers;
    this.#accept = accept;
    this.#pathHost = pathHost;
  }

  /** Opens every peer's journal and starts delivering what it holds. */
  static async open(options: FeedsOptions): Promise<Feeds> {
    const backoff = { baseMs: 2000, maxMs: 600_000, ...options.backoff };
    const logger = options.logger ?? silentLogger;
    const workers = await Promise.all(
      options.config.peers.map(
        async (peer) =>
          new PeerWorker(
            peer,
            await FeedQueue.open(join(options.queueDir, `${peer.name}.journal`)),
            options.store,
            backoff,
            logger,
            options.connectTimeoutMs ?? 10_000,
          ),
      ),
    );
    const feeds = new Feeds(workers, new Set(options.config.acceptFrom.map((a) => normaliseAddress(a)!)), options.pathHost);
    for (const w of workers) w.kick();
    return feeds;
  }

  /**
   * Reads a feeds file (`nntpd --feeds FILE`, see `parseFeedsConfig`) and opens the feeds.
   * A mistake in the file throws a `FeedsConfigError` naming the file and line.
   */
  static async fromFile(file: string, options: Omit<FeedsOptions, 'config'>): Promise<Feeds> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read feeds file ${file}: ${errorText(err)}`);
    }
    let config: FeedsConfig;
    try {
      config = parseFeedsConfig(text);
    } catch (err) {
      if (err instanceof FeedsConfigError) throw new FeedsConfigError(err.line, `${file}: ${err.message.replace(/^feeds line \d+: /, '')}`);
      throw err;
    }
    return Feeds.open({ ...options, config });
  }

  /**
   * The two server options that connect these feeds to `createNntpServer`: who may feed
   * (`feeders`) and what to queue (`onAccepted`). `createNntpServer({ store, ...feeds.serverOptions() })`.
   */
  serverOptions(): { feeders: (peer: { remoteAddress: string }) => boolean; onAccepted: (article: AcceptedArticle) => Promise<void> } {
    return { feeders: (peer) => this.acceptsFeedFrom(peer.remoteAddress), onAccepted: (article) => this.articleAccepted(article) };
  }

  /** May `address` feed us? @see INN incoming.conf */
  acceptsFeedFrom(address: string): boolean {
    return this.#accept.has(normaliseAddress(address) ?? address);
  }

  /** True when our own name is already in the Path: the article has been here (refuse, 437/439). */
  isLoop(path: string): boolean {
    return pathNames(path, this.#pathHost);
  }

  /** Queues an accepted article for every peer whose groups match and whose name is not in its Path. */
  async articleAccepted(article: AcceptedArticle): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.offer(article)));
  }

  /** Live queue sizes by peer name. */
  queued(): Record<string, number> {
    return Object.fromEntries(this.#workers.map((w) => [w.peer.name, w.queue.size]));
  }

  /** Resolves once every peer's queue is empty (tests, shutdown drains); rejects after `timeoutMs`. */
  async drained(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#workers.some((w) => w.queue.size > 0)) {
      if (Date.now() > deadline) throw new Error(`feeds not drained within ${timeoutMs} ms: ${JSON.stringify(this.queued())}`);
      for (const w of this.#workers) w.kick();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(this.#workers.map((w) => w.idle()));
  }

  /** Stops the workers (queues stay on disk) and closes the journals. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
  }
}

/** One peer's delivery loop. */
class PeerWorker {
  readonly #groups: (name: string) => boolean;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failures = 0;
  #blockedUntil = 0;
  #streaming: boolean;

  constructor(
    readonly peer: FeedPeer,
    readonly queue: FeedQueue,
    readonly store: ArticleSource,
    readonly backoff: BackoffOptions,
    readonly logger: Logger,
    readonly connectTimeoutMs: number,
  ) {
    this.#groups = wildmat(peer.groups);
    this.#streaming = peer.mode === 'stream';
  }

  async offer(article: AcceptedArticle): Promise<void> {
    if (this.#closed || pathNames(article.path, this.peer.pathName)) return;
    if (!article.groups.some((g) => this.#groups(g))) return;
    await this.queue.add([article.messageId]);
    this.kick();
  }

  /** Starts a delivery pass unless one runs or the peer is in backoff. */
  kick(): void {
    if (this.#closed || this.#running) return;
    const wait = this.#blockedUntil - Date.now();
    if (wait > 0) {
      this.#schedule(wait);
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => this.logger.warn({ event: 'feed-error', peer: this.peer.name }, errorText(err)))
      .finally(() => {
        this.#running = undefined;
        if (this.#closed) return;
        const next = Math.max(this.#blockedUntil, this.queue.nextDue()) - Date.now();
        if (Number.isFinite(next)) this.#schedule(Math.max(next, 10));
      });
  }

  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    await this.queue.close();
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.kick();
    }, ms);
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    if (this.queue.due(Date.now(), 1).length === 0) return;
    let client: NntpClient | undefined;
    let batch: QueueEntry[] = [];
    try {
      client = await NntpClient.connect({
        host: this.peer.host,
        port: this.peer.port,
        connectTimeoutMs: this.connectTimeoutMs,
        idleTimeoutMs: 120_000,
      });
      if (this.#streaming && !(await client.modeStream())) this.#streaming = false; // fall back to IHAVE
      while (!this.#closed) {
        batch = this.queue.due(Date.now(), this.peer.batch);
        if (batch.length === 0) break;
        await (this.#streaming ? this.#stream(client, batch) : this.#ihave(client, batch));
      }
      this.#failures = 0;
    } catch (err) {
      this.#failures++;
      const delay = backoffDelay(this.#failures, this.backoff);
      this.#blockedUntil = Date.now() + delay;
      for (const entry of batch) if (this.queue.has(entry.messageId)) this.queue.retry(entry, this.backoff);
      this.logger.warn({ event: 'feed-failed', peer: this.peer.name, retryInMs: delay }, errorText(err));
    } finally {
      await client?.quit().catch(() => client?.destroy());
    }
  }

  /** CHECK the batch, TAKETHIS the wanted ones, pipelined. @see RFC 4644 §2.4, §2.5 */
  async #stream(client: NntpClient, batch: QueueEntry[]): Promise<void> {
    const checked = await client.check(batch.map((e) => e.messageId));
    const finished: string[] = [];
    const offers: Array<{ messageId: string; article: Buffer }> = [];
    for (const entry of batch) {
      const outcome = checked.get(entry.messageId);
      if (outcome === 'later') this.queue.retry(entry, this.backoff);
      else if (outcome !== 'wanted') finished.push(entry.messageId);
      else {
        const stored = await this.store.articleById(entry.messageId);
        if (stored) offers.push({ messageId: entry.messageId, article: stored.data });
        else finished.push(entry.messageId); // expired meanwhile
      }
    }
    const taken = offers.length > 0 ? await client.takeThis(offers) : new Map();
    for (const offer of offers) {
      const outcome = taken.get(offer.messageId);
      const entry = batch.find((e) => e.messageId === offer.messageId)!;
      if (outcome === 'later') this.queue.retry(entry, this.backoff);
      else finished.push(offer.messageId);
    }
    await this.queue.done(finished);
  }

  /** IHAVE one by one. @see RFC 3977 §6.3.2 */
  async #ihave(client: NntpClient, batch: QueueEntry[]): Promise<void> {
    for (const entry of batch) {
      const stored = await this.store.articleById(entry.messageId);
      if (!stored) {
        await this.queue.done([entry.messageId]); // expired meanwhile
        continue;
      }
      const outcome = await client.ihave(entry.messageId, stored.data);
      if (outcome === 'later') this.queue.retry(entry, this.backoff);
      else await this.queue.done([entry.messageId]);
    }
  }
}
