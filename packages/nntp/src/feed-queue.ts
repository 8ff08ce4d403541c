import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One queued message-id and its retry state (the latter in memory only). */
export interface QueueEntry {
  readonly messageId: string;
  attempts: number;
  /** Date.now() before which it is not offered again. */
  notBefore: number;
}

/** Retry policy of a queue. */
export interface BackoffOptions {
  /** First delay after a "try later" or a failed connection. Default 2 s. */
  baseMs: number;
  /** Longest delay. Default 10 minutes. */
  maxMs: number;
}

/** The delay before attempt `attempts + 1`: doubling from `baseMs`, capped, with ±20 % jitter. */
export function backoffDelay(attempts: number, options: BackoffOptions): number {
  const raw = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

/**
 * The persistent outgoing queue of one peer: a journal file of `+<message-id>` (queued) and
 * `-<message-id>` (done) lines. Queued ids are fsynced before `add` resolves, so an article
 * the server acknowledged (240/235/239) after queueing it survives a crash; a lost `-` line
 * only offers an article again, which the peer's history refuses (435/438). Replayed on open;
 * compacted (rewritten with the live ids, fsync, rename) once done lines outnumber live ones.
 * Memory holds the live ids only.
 */
export class FeedQueue {
  readonly file: string;
  readonly #entries = new Map<string, QueueEntry>();
  #handle: FileHandle | undefined;
  #dead = 0;
  #chain: Promise<void> = Promise.resolve();
  #next: Promise<void> | undefined;
  #pendingText = '';
  #pendingSync = false;

  private constructor(file: string) {
    this.file = file;
  }

  /** Opens (and replays) the journal at `file`, creating it when missing. */
  static async open(file: string): Promise<FeedQueue> {
    const queue = new FeedQueue(file);
    await mkdir(dirname(file), { recursive: true });
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // A torn last line (a crash mid-append) is ignored: it was never acknowledged.
    const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n')) {
      const id = line.slice(1);
      if (line.startsWith('+') && id.length > 0) queue.#entries.set(id, { messageId: id, attempts: 0, notBefore: 0 });
      else if (line.startsWith('-')) {
        queue.#entries.delete(id);
        queue.#dead++;
      }
    }
    await queue.#compact();
    return queue;
  }

  /** Live entries (queued, not done). */
  get size(): number {
    return this.#entries.size;
  }

  /** True when `messageId` waits in this queue. */
  has(messageId: string): boolean {
    return this.#entries.has(messageId);
  }

  /** Queues message-ids durably (one write and one fsync for the whole call). */
  add(messageIds: readonly string[]): Promise<void> {
    const fresh = messageIds.filter((id) => !this.#entries.has(id) && /^<[^\s>]+>$/.test(id));
    if (fresh.length === 0) return this.#chain;
    for (const id of fresh) this.#entries.set(id, { messageId: id, attempts: 0, notBefore: 0 });
    return this.#append(fresh.map((id) => `+${id}\n`).join(''), true);
  }

  /** Entries due now, oldest first, at most `limit`. */
  due(now: number, limit: number): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.notBefore <= now) out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** When the next entry becomes due (Infinity when empty). */
  nextDue(): number {
    let next = Infinity;
    for (const entry of this.#entries.values()) if (entry.notBefore < next) next = entry.notBefore;
    return next;
  }

  /** The peer took it, refused it for good, or it is gone from the spool: remove it. */
  done(messageIds: readonly string[]): Promise<void> {
    const gone = messageIds.filter((id) => this.#entries.delete(id));
    if (gone.length === 0) return this.#chain;
    this.#dead += gone.length;
    // No fsync: a lost "done" only re-offers the article, and the peer's history refuses it.
    return this.#append(gone.map((id) => `-${id}\n`).join(''), false).then(() => this.#compactIfWorth());
  }

  /** Try again later (a 431/436 or a failed connection): back off this entry. */
  retry(entry: QueueEntry, options: BackoffOptions, now = Date.now()): void {
    entry.attempts++;
    entry.notBefore = now + backoffDelay(entry.attempts, options);
  }

  /** Flushes pending writes and closes the journal. */
  async close(): Promise<void> {
    await this.#chain;
    await this.#handle?.close();
    this.#handle = undefined;
  }

  /**
   * Group commit: lines appended while a write is pending go out with the next one, and one
   * fdatasync covers all of them (many feeds accepting at once cost one sync, not one each).
   */
  #append(text: string, sync: boolean): Promise<void> {
    this.#pendingText += text;
    if (sync) this.#pendingSync = true;
    this.#next ??= this.#chain = this.#chain.then(async () => {
      this.#next = undefined;
      const lines = this.#pendingText;
      const mustSync = this.#pendingSync;
      this.#pendingText = '';
      this.#pendingSync = false;
      this.#handle ??= await open(this.file, 'a', 0o600);
      await this.#handle.write(lines);
      if (mustSync) await this.#handle.datasync();
    });
    return this.#next;
  }

  async #compactIfWorth(): Promise<void> {
    if (this.#dead > 1000 && this.#dead > 2 * this.#entries.size) {
      this.#chain = this.#chain.then(() => this.#compact());
      await this.#chain;
    }
  }

  async #compact(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    const tmp = `${this.file}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile([...this.#entries.keys()].map((id) => `+${id}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
    const dir = await open(dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.#dead = 0;
  }
}
