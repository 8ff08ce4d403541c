import {
  close as closeCb,
  closeSync,
  constants,
  promises as fs,
  open as openCb,
  openSync,
  read as readCb,
  readSync,
  write as writeCb,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { header, overviewValue, parseArticle } from './article.js';
import {
  historyLine,
  overviewLine,
  parseActive,
  parseHistoryLine,
  parseOverviewLine,
  journalRecord,
  readJournal,
  readLines,
  syncDir,
  syncPaths,
  writeAtomic,
  writeReplacing,
  type HistoryRow,
} from './spool-files.js';
import {
  NewsStoreError,
  isValidGroupName,
  type AddResult,
  type ArticleLocation,
  type ExpireReport,
  type ExpireRule,
  type GroupInfo,
  type GroupStatus,
  type HistoryState,
  type NewArticle,
  type NewsStore,
  type OverviewEntry,
  type StoredArticle,
} from './store.js';
import { wildmat } from './wildmat.js';

interface DiskGroup {
  name: string;
  high: number;
  status: GroupStatus;
  created: number;
  creator: string;
  description: string;
  /** number → overview entry, ascending by construction (numbers only grow). */
  overview: Map<number, OverviewEntry>;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Reads a file expected to hold `size` bytes with one read of `size + 1` (callback API, a plain
 * descriptor); undefined when it holds another number of bytes, for the caller to read it the
 * ordinary way. A FIFO (opened non-blocking: ESPIPE or EAGAIN) or a directory fails.
 */
function readKnownSize(path: string, size: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    openCb(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK, (err, fd) => {
      if (err) return reject(err);
      const buf = Buffer.allocUnsafe(size + 1);
      readCb(fd, buf, 0, size + 1, 0, (rerr, n) => {
        closeCb(fd, () => {
          if (rerr) return reject(rerr); // ESPIPE/EAGAIN: a FIFO; EISDIR: a directory — not articles
          resolve(n === size ? buf.subarray(0, size) : undefined);
        });
      });
    });
  });
}

/**
 * Articles at most this large (by the overview's byte count) are read with one synchronous
 * open, read and close on a local spool: a few microseconds, against three thread-pool round
 * trips (measured: about half the CPU per pipelined ARTICLE). Larger ones, and every article
 * on a spool opened with `local: false`, are read on the thread pool. The same rule as the
 * POP3 Maildir store's small messages.
 */
const SMALL_ARTICLE = 64 * 1024;

/** {@link readKnownSize} in one synchronous call sequence, for small articles on a local disk. */
function readKnownSizeSync(path: string, size: number): Buffer | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const buf = Buffer.allocUnsafe(size + 1);
    const n = readSync(fd, buf, 0, size + 1, 0);
    return n === size ? buf.subarray(0, size) : undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `path` (it must not exist) holding `data`: open, one write, close, through the
 * callback API (a plain descriptor: cheaper per article than a promise FileHandle).
 */
function writeNewFile(path: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    openCb(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644, (err, fd) => {
      if (err) return reject(err);
      writeCb(fd, data, 0, data.length, null, (werr, written) => {
        closeCb(fd, (cerr) => {
          const e = werr ?? cerr ?? (written === data.length ? null : new Error(`short write to ${path}`));
          if (e) reject(e);
          else resolve();
        });
      });
    });
  });
}

/** Options of {@link DiskNewsStore.open}. */
export interface DiskNewsStoreOptions {
  /**
   * Whether an accepted article is durable before `add` resolves (default true): its bytes and
   * its history row are appended to the journal, which is fdatasynced once for every article
   * accepted in the same batch (group commit). `false` writes the same files without any
   * fsync (INN's default behaviour): a kill -9 loses nothing, a power cut may.
   */
  fsync?: boolean;
  /** Journal size (bytes) past which it is checkpointed in the background (default 16 MiB). */
  journalBytes?: number;
  /**
   * `false` for a spool on a network file system (NFS, SMB): no article is read synchronously,
   * since one slow server round trip there would stall every session of the process. Default
   * true: articles of 64 KiB or less are read at once, the rest on the thread pool. The same
   * switch as the POP3 Maildir store's and the FTP server's `local`.
   */
  local?: boolean;
}

/** An accepted article waiting for its batch to be committed. */
interface Pending {
  row: HistoryRow;
  data: Buffer;
  entries: OverviewEntry[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The journal segment being appended: its handle, size, and what it covers until checkpointed. */
interface Journal {
  fh: FileHandle;
  bytes: number;
  /** Article files and directories written since this segment began (fsynced at checkpoint). */
  paths: Set<string>;
}

/**
 * The disk spool: one file per article (hard-linked into each further group), a per-group
 * overview file, INN-style `active`, `active.times`, `newsgroups` and a `history` file. An
 * accepted article is durable before `add` resolves, so a 240/235/239 means it is on disk:
 * articles are committed in batches (every `add` made while the previous batch is being
 * written joins the next one), and one batch costs one append and one fdatasync of the
 * `journal` (each article's history row and bytes); the article files, overview and history
 * lines are then written without fsync. A checkpoint (journal past `journalBytes`, before
 * expiry or group removal, at close) fsyncs those files and drops the journal; opening replays
 * any journal left by a crash. Opening reconciles after a crash (kill -9 at
 * any moment): temporary files go, an article without an overview line gets one, an overview
 * line without its article goes, a high water mark never falls below a number on disk.
 * Overview and group data are held in memory (loaded from the overview files), so OVER never
 * opens an article. See `spool-files.ts` for the layout.
 */
export class DiskNewsStore implements NewsStore {
  readonly dir: string;
  readonly #groups = new Map<string, DiskGroup>();
  readonly #removedHigh = new Map<string, number>();
  readonly #history = new Map<string, HistoryRow>();
  #chain: Promise<unknown> = Promise.resolve();
  readonly #fsync: boolean;
  readonly #journalLimit: number;
  /** Articles up to this size are read synchronously (0: none; see {@link SMALL_ARTICLE}). */
  readonly #syncBytes: number;
  /** Message-ids numbered and waiting for their batch: a second copy is a duplicate. */
  readonly #reserved = new Set<string>();
  #batch: Pending[] = [];
  #committing: Promise<void> | undefined;
  #journal: Journal | undefined;
  #checkpointing: Promise<void> | undefined;
  /** Append handles of overview files and the history, kept open between batches. */
  readonly #appenders = new Map<string, Promise<FileHandle>>();

  private constructor(dir: string, options: DiskNewsStoreOptions) {
    this.dir = dir;
    this.#fsync = options.fsync ?? true;
    this.#journalLimit = options.journalBytes ?? 16 * 1024 * 1024;
    this.#syncBytes = options.local === false ? 0 : SMALL_ARTICLE;
  }

  /** Opens (creating when missing) the spool in `dir` and recovers it. */
  static async open(dir: string, options: DiskNewsStoreOptions = {}): Promise<DiskNewsStore> {
    const s = new DiskNewsStore(dir, options);
    await s.#recover();
    return s;
  }

  /** Whether accepted articles are fsynced (through the journal) before `add` resolves. */
  get durable(): boolean {
    return this.#fsync;
  }

  #articlePath(group: string, n: number): string {
    return join(this.dir, 'articles', group, String(n));
  }

  async #recover(): Promise<void> {
    for (const d of ['', 'articles', 'overview', 'tmp']) await fs.mkdir(join(this.dir, d), { recursive: true });
    for (const t of await fs.readdir(join(this.dir, 'tmp'))) await fs.rm(join(this.dir, 'tmp', t), { force: true });
    const times = new Map((await readLines(join(this.dir, 'active.times'))).map((l) => [l.split(' ')[0]!, l.split(' ')] as const));
    const descs = new Map(
      (await readLines(join(this.dir, 'newsgroups'))).map((l) => [l.split('\t')[0]!, l.slice(l.indexOf('\t') + 1)] as const),
    );
    for (const line of await readLines(join(this.dir, 'history'))) {
      const row = parseHistoryLine(line);
      if (row) this.#history.set(row.id, row);
    }
    const replayed = await this.#replayJournals();
    for (const line of await readLines(join(this.dir, 'active'))) {
      const row = parseActive(line);
      if (!row) continue;
      if (row.status === 'x') {
        this.#removedHigh.set(row.name, row.high);
        continue;
      }
      const t = times.get(row.name);
      const g: DiskGroup = {
        name: row.name,
        high: row.high,
        status: row.status,
        created: Number(t?.[1] ?? 0),
        creator: t?.[2] ?? 'gorgon',
        description: descs.get(row.name) ?? '',
        overview: new Map(),
      };
      await this.#recoverGroup(g);
      this.#groups.set(g.name, g);
    }
    // History locations only where an article is (a removed group, an expiry cut short).
    for (const h of this.#history.values()) h.locations = h.locations.filter((l) => this.#groups.get(l.group)?.overview.has(l.number));
    if (replayed) {
      // What the journal covered is now written again, fsynced, before the journal goes.
      await writeAtomic(this.dir, join(this.dir, 'history'), [...this.#history.values()].map(historyLine).join(''));
      await syncPaths([...this.#groups.keys()].map((g) => join(this.dir, 'overview', g)));
    }
    await this.#writeActive();
    if (replayed) {
      await fs.rm(join(this.dir, 'journal.old'), { force: true });
      await fs.rm(join(this.dir, 'journal'), { force: true });
      await syncDir(this.dir);
    }
  }

  /**
   * Writes again every article a journal left by a crash names (`journal.old`, being
   * checkpointed, then `journal`), byte for byte, and takes its history row: an acknowledged
   * article is whole after any crash even if its file had not reached the disk. A torn last
   * record (the batch was never acknowledged) is ignored. The groups' recovery then rebuilds
   * overview lines from the files. Returns whether there was anything to replay.
   */
  async #replayJournals(): Promise<boolean> {
    let any = false;
    for (const name of ['journal.old', 'journal']) {
      const records = await readJournal(join(this.dir, name));
      if (records === undefined) continue;
      any = true;
      for (const { row, data } of records) {
        const [first, ...rest] = row.locations;
        if (!first) continue;
        await fs.mkdir(join(this.dir, 'articles', first.group), { recursive: true });
        const path = this.#articlePath(first.group, first.number);
        await writeAtomic(this.dir, path, data);
        for (const l of rest) {
          await fs.mkdir(join(this.dir, 'articles', l.group), { recursive: true });
          await writeReplacing(this.dir, this.#articlePath(l.group, l.number), path);
        }
        if (!this.#history.has(row.id)) this.#history.set(row.id, row);
      }
      for (const g of new Set(records.flatMap((r) => r.row.locations.map((l) => l.group)))) await syncDir(join(this.dir, 'articles', g));
    }
    return any;
  }

  /** Overview and article files of one group made to agree; high ≥ every number on disk. */
  async #recoverGroup(g: DiskGroup): Promise<void> {
    const dir = join(this.dir, 'articles', g.name);
    await fs.mkdir(dir, { recursive: true });
    const onDisk = new Set((await fs.readdir(dir)).filter((f) => /^\d+$/.test(f)).map(Number));
    const fromFile = new Map<number, OverviewEntry>();
    let dirty = false;
    for (const line of await readLines(join(this.dir, 'overview', g.name))) {
      const o = parseOverviewLine(line);
      if (o && onDisk.has(o.number) && !fromFile.has(o.number)) fromFile.set(o.number, o);
      else dirty = true;
    }
    for (const n of [...onDisk].sort((a, b) => a - b)) {
      if (n > g.high) g.high = n;
      if (fromFile.has(n)) continue;
      dirty = true; // written, not yet in the overview when the process died: rebuild its line
      const o = await this.#overviewFromArticle(g.name, n);
      if (o) fromFile.set(n, o);
    }
    for (const n of [...fromFile.keys()].sort((a, b) => a - b)) {
      const o = fromFile.get(n)!;
      g.overview.set(n, o);
      const h = this.#history.get(o.messageId);
      if (!h) this.#history.set(o.messageId, { id: o.messageId, arrived: nowSeconds(), locations: [{ group: g.name, number: n }] });
      else if (!h.locations.some((l) => l.group === g.name && l.number === n)) h.locations.push({ group: g.name, number: n });
    }
    if (dirty) await writeAtomic(this.dir, join(this.dir, 'overview', g.name), [...g.overview.values()].map(overviewLine).join(''));
  }

  async #overviewFromArticle(group: string, n: number): Promise<OverviewEntry | undefined> {
    try {
      const data = await fs.readFile(this.#articlePath(group, n));
      const text = data.toString('latin1');
      const sep = text.indexOf('\r\n\r\n');
      const parsed = parseArticle(sep === -1 ? text : text.slice(0, sep + 2));
      const get = (name: string): string => overviewValue(header(parsed, name) ?? '');
      const body = sep === -1 ? '' : text.slice(sep + 4);
      const lines = body === '' ? 0 : body.split('\r\n').length - (body.endsWith('\r\n') ? 1 : 0);
      return {
        number: n,
        subject: get('subject'),
        from: get('from'),
        date: get('date'),
        messageId: get('message-id'),
        references: get('references'),
        bytes: data.length,
        lines,
        xref: get('xref'),
      };
    } catch {
      return undefined;
    }
  }

  async #writeActive(): Promise<void> {
    const groups = [...this.#groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const active = groups.map((g) => `${g.name} ${g.high} ${this.#low(g)} ${g.status}\n`);
    for (const [name, high] of this.#removedHigh) if (!this.#groups.has(name)) active.push(`${name} ${high} ${high + 1} x\n`);
    await writeAtomic(this.dir, join(this.dir, 'active'), active.join(''));
    await writeAtomic(this.dir, join(this.dir, 'active.times'), groups.map((g) => `${g.name} ${g.created} ${g.creator}\n`).join(''));
    await writeAtomic(
      this.dir,
      join(this.dir, 'newsgroups'),
      groups.map((g) => `${g.name}\t${g.description.replace(/[\r\n]/g, ' ')}\n`).join(''),
    );
    await syncDir(this.dir);
  }

  #low(g: DiskGroup): number {
    for (const n of g.overview.keys()) return n;
    return g.high + 1;
  }

  /** Runs `fn` after every earlier mutation: numbering and history stay atomic. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #info(g: DiskGroup): GroupInfo {
    return {
      name: g.name,
      low: this.#low(g),
      high: g.high,
      count: g.overview.size,
      status: g.status,
      created: g.created,
      creator: g.creator,
      description: g.description,
    };
  }

  async groups(): Promise<readonly GroupInfo[]> {
    return [...this.#groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((g) => this.#info(g));
  }

  async group(name: string): Promise<GroupInfo | undefined> {
    const g = this.#groups.get(name);
    return g && this.#info(g);
  }

  createGroup(
    name: string,
    o: { status?: GroupStatus; description?: string; creator?: string; created?: number } = {},
  ): Promise<GroupInfo> {
    return this.#serial(async () => {
      if (!isValidGroupName(name)) throw new NewsStoreError('bad-name', 'invalid group name');
      if (this.#groups.has(name)) throw new NewsStoreError('exists', `group ${name} exists`);
      const high = this.#removedHigh.get(name) ?? 0;
      const g: DiskGroup = {
        name,
        high,
        status: o.status ?? 'y',
        created: o.created ?? nowSeconds(),
        creator: o.creator ?? 'gorgon',
        description: o.description ?? '',
        overview: new Map(),
      };
      await fs.mkdir(join(this.dir, 'articles', name), { recursive: true });
      this.#groups.set(name, g);
      this.#removedHigh.delete(name);
      await this.#writeActive();
      return this.#info(g);
    });
  }

  removeGroup(name: string): Promise<boolean> {
    return this.#serial(async () => {
      const g = this.#groups.get(name);
      if (!g) return false;
      await this.#checkpointAll(); // no journal may bring a removed article back
      await this.#dropAppender(join(this.dir, 'overview', name));
      // First the active file (its high kept as status x), then the files: a crash between leaves a removed group.
      this.#groups.delete(name);
      this.#removedHigh.set(name, g.high);
      await this.#writeActive();
      await fs.rm(join(this.dir, 'articles', name), { recursive: true, force: true });
      await fs.rm(join(this.dir, 'overview', name), { force: true });
      for (const o of g.overview.values()) this.#dropLocation(o.messageId, name, o.number);
      return true;
    });
  }

  async numbers(group: string, low: number, high: number): Promise<readonly number[]> {
    const g = this.#groups.get(group);
    if (!g) return [];
    const out: number[] = [];
    for (const n of g.overview.keys()) if (n >= low && n <= high) out.push(n);
    return out;
  }

  async articleByNumber(group: string, number: number): Promise<StoredArticle | undefined> {
    const o = this.#groups.get(group)?.overview.get(number);
    if (!o) return undefined;
    return this.#read(o.messageId, group, number, o.bytes);
  }

  async articleById(messageId: string): Promise<StoredArticle | undefined> {
    const h = this.#history.get(messageId);
    const loc = h?.locations.find((l) => this.#groups.get(l.group)?.overview.has(l.number));
    return loc && this.#read(messageId, loc.group, loc.number, this.#groups.get(loc.group)?.overview.get(loc.number)?.bytes);
  }

  async #read(messageId: string, group: string, number: number, bytes?: number): Promise<StoredArticle | undefined> {
    let data: Buffer | undefined;
    try {
      const path = this.#articlePath(group, number);
      // The size is known from the overview: one open, one read, one close (the size read
      // differing, the whole file is read the ordinary way), synchronously for a small article
      // on a local spool. Only regular files are
      // articles: no symlink is followed, a FIFO does not block the open.
      if (bytes !== undefined) data = bytes <= this.#syncBytes ? readKnownSizeSync(path, bytes) : await readKnownSize(path, bytes);
      data ??= await fs.readFile(path, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Gone, a symlink, a FIFO, a directory or a Unix socket (ENXIO) planted in the spool: not an article.
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'EAGAIN' || code === 'ESPIPE' || code === 'EISDIR' || code === 'ENXIO')
        return undefined;
      throw new NewsStoreError('io', `cannot read ${group}/${number}: ${code}`);
    }
    const sep = data.indexOf('\r\n\r\n');
    const h = this.#history.get(messageId);
    return {
      messageId,
      data,
      bodyOffset: sep === -1 ? data.length : sep + 4,
      locations: h?.locations ?? [{ group, number }],
      arrived: h?.arrived ?? 0,
    };
  }

  async overview(group: string, low: number, high: number): Promise<readonly OverviewEntry[]> {
    const g = this.#groups.get(group);
    if (!g) return [];
    const out: OverviewEntry[] = [];
    if (high - low < g.overview.size) {
      for (let n = low; n <= high; n++) {
        const o = g.overview.get(n);
        if (o) out.push(o);
      }
    } else for (const [n, o] of g.overview) if (n >= low && n <= high) out.push(o);
    return out;
  }

  async history(messageId: string): Promise<HistoryState> {
    const h = this.#history.get(messageId);
    if (!h) return 'absent';
    return h.locations.length > 0 ? 'present' : 'expired';
  }

  /**
   * Numbers the article at once (in call order: numbering and duplicate checks stay atomic),
   * then resolves when the batch it joined is committed. @see the class comment
   */
  add(article: NewArticle): Promise<AddResult> {
    return this.#serial(async (): Promise<AddResult | { committed: Promise<void>; locations: ArticleLocation[] }> => {
      if (this.#history.has(article.messageId) || this.#reserved.has(article.messageId))
        return { ok: false as const, reason: 'duplicate' as const };
      const targets = [...new Set(article.groups)].filter((g) => this.#groups.has(g)).map((g) => this.#groups.get(g)!);
      if (targets.length === 0) return { ok: false as const, reason: 'no-group' as const };
      const locations: ArticleLocation[] = targets.map((g) => ({ group: g.name, number: ++g.high }));
      const { data, overview } = article.render(locations);
      const row: HistoryRow = { id: article.messageId, arrived: article.arrived ?? nowSeconds(), locations: [...locations] };
      const entries = locations.map((l) => ({ ...overview, number: l.number }));
      this.#reserved.add(row.id);
      // Not awaited here: the next add is numbered while this one waits for its batch.
      const committed = new Promise<void>((resolve, reject) => this.#batch.push({ row, data, entries, resolve, reject }));
      this.#kick();
      return { committed, locations };
    }).then(async (r): Promise<AddResult> => {
      if (!('committed' in r)) return r;
      await r.committed;
      return { ok: true as const, locations: r.locations };
    });
  }

  /** Starts committing the waiting batch, unless a commit is running (it starts the next one). */
  #kick(): void {
    if (this.#committing || this.#batch.length === 0) return;
    // setImmediate: every add of this pass of the event loop joins the batch.
    this.#committing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#commit())
      .finally(() => {
        this.#committing = undefined;
        this.#kick();
      });
  }

  /**
   * One batch: the journal append and its fdatasync (when durable), then the article files
   * (temporary file and rename, links for further groups), one append per overview file and
   * one to the history, then memory, then every `add` of the batch resolves.
   */
  async #commit(): Promise<void> {
    const batch = this.#batch;
    this.#batch = [];
    try {
      const journal = this.#fsync ? await this.#openJournal() : undefined;
      if (journal) {
        const record = Buffer.concat(batch.flatMap((p) => journalRecord(p.row, p.data)));
        await journal.fh.write(record);
        await journal.fh.datasync();
        journal.bytes += record.length;
      }
      await Promise.all(batch.map((p) => this.#writeArticle(p, journal)));
      const lines = new Map<string, string>();
      for (const p of batch)
        p.row.locations.forEach((l, i) => {
          const path = join(this.dir, 'overview', l.group);
          lines.set(path, (lines.get(path) ?? '') + overviewLine(p.entries[i]!));
        });
      lines.set(join(this.dir, 'history'), batch.map((p) => historyLine(p.row)).join(''));
      await Promise.all([...lines].map(async ([path, text]) => (await this.#appender(path)).write(text)));
      for (const p of batch) {
        p.row.locations.forEach((l, i) => {
          this.#groups.get(l.group)?.overview.set(l.number, p.entries[i]!);
        });
        this.#history.set(p.row.id, p.row);
      }
      if (journal && journal.bytes >= this.#journalLimit && !this.#checkpointing) await this.#rotate(journal);
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      for (const p of batch) this.#reserved.delete(p.row.id);
    }
  }

  async #writeArticle(p: Pending, journal: Journal | undefined): Promise<void> {
    const [first, ...rest] = p.row.locations;
    const path = this.#articlePath(first!.group, first!.number);
    const tmp = join(this.dir, 'tmp', `${process.pid}.${first!.group}.${first!.number}`);
    await writeNewFile(tmp, p.data);
    await fs.rename(tmp, path);
    for (const l of rest) await fs.link(path, this.#articlePath(l.group, l.number));
    if (journal)
      for (const l of p.row.locations) journal.paths.add(this.#articlePath(l.group, l.number)).add(join(this.dir, 'articles', l.group));
  }

  #appender(path: string): Promise<FileHandle> {
    let h = this.#appenders.get(path);
    if (!h) {
      h = fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
      this.#appenders.set(path, h);
      h.catch(() => this.#appenders.delete(path));
    }
    return h;
  }

  async #dropAppender(path: string): Promise<void> {
    const h = this.#appenders.get(path);
    this.#appenders.delete(path);
    if (h) await (await h.catch(() => undefined))?.close();
  }

  async #openJournal(): Promise<Journal> {
    if (!this.#journal) {
      const fh = await fs.open(join(this.dir, 'journal'), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
      const { size } = await fh.stat();
      this.#journal = { fh, bytes: size, paths: new Set() };
      if (size === 0) await syncDir(this.dir); // the journal's own name is durable
    }
    return this.#journal;
  }

  /** Starts a new journal and checkpoints the old one in the background (commits go on). */
  async #rotate(journal: Journal): Promise<void> {
    await journal.fh.close();
    this.#journal = undefined;
    await fs.rename(join(this.dir, 'journal'), join(this.dir, 'journal.old'));
    await syncDir(this.dir);
    this.#checkpointing = this.#checkpoint(journal.paths, 'journal.old').finally(() => {
      this.#checkpointing = undefined;
    });
    this.#checkpointing.catch(() => undefined); // a failure leaves the journal for the next open to replay
  }

  /** Fsyncs what a journal covered (its files, every overview file and the history), then drops the journal. */
  async #checkpoint(paths: Iterable<string>, journalName: string): Promise<void> {
    await syncPaths(paths);
    await Promise.all([...this.#appenders.values()].map(async (h) => (await h).sync()));
    await fs.rm(join(this.dir, journalName), { force: true });
    await syncDir(this.dir);
  }

  /** Every waiting batch committed and every journal checkpointed: nothing left to replay. */
  async #checkpointAll(): Promise<void> {
    while (this.#committing || this.#batch.length > 0) await (this.#committing ?? Promise.resolve().then(() => this.#kick()));
    await this.#checkpointing;
    const journal = this.#journal;
    if (!journal) return;
    await journal.fh.close();
    this.#journal = undefined;
    await this.#checkpoint(journal.paths, 'journal');
  }

  async newSince(since: number, match: (group: string) => boolean): Promise<readonly string[]> {
    const out: string[] = [];
    for (const h of this.#history.values()) if (h.arrived >= since && h.locations.some((l) => match(l.group))) out.push(h.id);
    return out;
  }

  expire(rules: readonly ExpireRule[], at = nowSeconds(), rememberFor = 7 * 86400): Promise<ExpireReport> {
    return this.#serial(async () => {
      await this.#checkpointAll(); // no journal may bring an expired article back
      await this.#writeActive(); // the highs are on disk before any article goes
      let removed = 0;
      const compiled = rules.map((r) => ({ match: wildmat(r.pattern), cutoff: at - r.days * 86400 }));
      for (const g of this.#groups.values()) {
        const rule = [...compiled].reverse().find((r) => r.match(g.name));
        if (!rule) continue;
        const doomed = [...g.overview.values()].filter((o) => (this.#history.get(o.messageId)?.arrived ?? 0) <= rule.cutoff);
        if (doomed.length === 0) continue;
        for (const o of doomed) g.overview.delete(o.number);
        await this.#dropAppender(join(this.dir, 'overview', g.name));
        await writeAtomic(this.dir, join(this.dir, 'overview', g.name), [...g.overview.values()].map(overviewLine).join(''));
        for (const o of doomed) {
          await fs.rm(this.#articlePath(g.name, o.number), { force: true });
          this.#dropLocation(o.messageId, g.name, o.number);
          removed++;
        }
      }
      let historyForgotten = 0;
      for (const [id, h] of this.#history) {
        if (h.locations.length === 0 && h.arrived < at - rememberFor) {
          this.#history.delete(id);
          historyForgotten++;
        }
      }
      await this.#dropAppender(join(this.dir, 'history'));
      await writeAtomic(this.dir, join(this.dir, 'history'), [...this.#history.values()].map(historyLine).join(''));
      await this.#writeActive();
      return { removed, historyForgotten };
    });
  }

  #dropLocation(id: string, group: string, number: number): void {
    const h = this.#history.get(id);
    if (h) h.locations = h.locations.filter((l) => !(l.group === group && l.number === number));
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.#checkpointAll();
    if (!this.#fsync) await Promise.all([...this.#appenders.values()].map(async (h) => (await h).sync()));
    for (const path of [...this.#appenders.keys()]) await this.#dropAppender(path);
    await this.#writeActive();
  }
}
