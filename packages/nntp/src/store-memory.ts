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

interface MemGroup {
  info: Omit<GroupInfo, 'low' | 'count'>;
  /** number → message-id, kept in ascending order by construction. */
  articles: Map<number, string>;
  overview: Map<number, OverviewEntry>;
}

const now = (): number => Math.floor(Date.now() / 1000);

/**
 * A {@link NewsStore} in memory, for tests and embedding. Numbering never reuses a number: the
 * high water mark of a removed group is remembered for a group re-created under its name.
 */
export class MemoryNewsStore implements NewsStore {
  readonly #groups = new Map<string, MemGroup>();
  readonly #articles = new Map<string, StoredArticle>();
  /** message-id → arrival (seconds) of everything seen, also expired articles. */
  readonly #history = new Map<string, number>();
  readonly #formerHigh = new Map<string, number>();

  async groups(): Promise<readonly GroupInfo[]> {
    return [...this.#groups.keys()].sort().map((n) => this.#info(n)!);
  }

  async group(name: string): Promise<GroupInfo | undefined> {
    return this.#info(name);
  }

  async createGroup(
    name: string,
    o: { status?: GroupStatus; description?: string; creator?: string; created?: number } = {},
  ): Promise<GroupInfo> {
    if (!isValidGroupName(name)) throw new NewsStoreError('bad-name', `invalid group name`);
    if (this.#groups.has(name)) throw new NewsStoreError('exists', `group ${name} exists`);
    this.#groups.set(name, {
      info: {
        name,
        high: this.#formerHigh.get(name) ?? 0,
        status: o.status ?? 'y',
        created: o.created ?? now(),
        creator: o.creator ?? 'gorgon',
        description: o.description ?? '',
      },
      articles: new Map(),
      overview: new Map(),
    });
    return this.#info(name)!;
  }

  async removeGroup(name: string): Promise<boolean> {
    const g = this.#groups.get(name);
    if (!g) return false;
    this.#formerHigh.set(name, g.info.high);
    for (const [n, id] of g.articles) this.#unfile(id, name, n);
    this.#groups.delete(name);
    return true;
  }

  async numbers(group: string, low: number, high: number): Promise<readonly number[]> {
    const g = this.#groups.get(group);
    if (!g) return [];
    const out: number[] = [];
    for (const n of g.articles.keys()) if (n >= low && n <= high) out.push(n);
    return out;
  }

  async articleByNumber(group: string, number: number): Promise<StoredArticle | undefined> {
    const id = this.#groups.get(group)?.articles.get(number);
    return id === undefined ? undefined : this.#articles.get(id);
  }

  async articleById(messageId: string): Promise<StoredArticle | undefined> {
    return this.#articles.get(messageId);
  }

  async overview(group: string, low: number, high: number): Promise<readonly OverviewEntry[]> {
    const g = this.#groups.get(group);
    if (!g) return [];
    const out: OverviewEntry[] = [];
    for (const [n, o] of g.overview) if (n >= low && n <= high) out.push(o);
    return out;
  }

  async history(messageId: string): Promise<HistoryState> {
    if (this.#articles.has(messageId)) return 'present';
    return this.#history.has(messageId) ? 'expired' : 'absent';
  }

  async add(article: NewArticle): Promise<AddResult> {
    // Synchronous from here to the end: no other add can interleave (numbering, history).
    if (this.#history.has(article.messageId)) return { ok: false, reason: 'duplicate' };
    const targets = article.groups.filter((g) => this.#groups.has(g));
    if (targets.length === 0) return { ok: false, reason: 'no-group' };
    const locations: ArticleLocation[] = targets.map((name) => {
      const g = this.#groups.get(name)!;
      const number = g.info.high + 1;
      g.info = { ...g.info, high: number };
      return { group: name, number };
    });
    const { data, bodyOffset, overview } = article.render(locations);
    const arrived = article.arrived ?? now();
    for (const l of locations) {
      const g = this.#groups.get(l.group)!;
      g.articles.set(l.number, article.messageId);
      g.overview.set(l.number, { ...overview, number: l.number });
    }
    this.#articles.set(article.messageId, { messageId: article.messageId, data, bodyOffset, locations, arrived });
    this.#history.set(article.messageId, arrived);
    return { ok: true, locations };
  }

  async newSince(since: number, match: (group: string) => boolean): Promise<readonly string[]> {
    const out: string[] = [];
    for (const a of this.#articles.values()) if (a.arrived >= since && a.locations.some((l) => match(l.group))) out.push(a.messageId);
    return out;
  }

  async expire(rules: readonly ExpireRule[], at = now(), rememberFor = 7 * 86400): Promise<ExpireReport> {
    let removed = 0;
    let historyForgotten = 0;
    const compiled = rules.map((r) => ({ match: wildmat(r.pattern), cutoff: at - r.days * 86400 }));
    for (const [name, g] of this.#groups) {
      const rule = [...compiled].reverse().find((r) => r.match(name));
      if (!rule) continue;
      for (const [n, id] of [...g.articles]) {
        const a = this.#articles.get(id);
        if (a && a.arrived <= rule.cutoff) {
          this.#unfile(id, name, n);
          removed++;
        }
      }
    }
    for (const [id, arrived] of this.#history) {
      if (!this.#articles.has(id) && arrived < at - rememberFor) {
        this.#history.delete(id);
        historyForgotten++;
      }
    }
    return { removed, historyForgotten };
  }

  async close(): Promise<void> {}

  #unfile(id: string, group: string, number: number): void {
    const g = this.#groups.get(group)!;
    g.articles.delete(number);
    g.overview.delete(number);
    const a = this.#articles.get(id);
    if (!a) return;
    const left = a.locations.filter((l) => !(l.group === group && l.number === number));
    if (left.length === 0) this.#articles.delete(id);
    else this.#articles.set(id, { ...a, locations: left });
  }

  #info(name: string): GroupInfo | undefined {
    const g = this.#groups.get(name);
    if (!g) return undefined;
    let low = 0;
    for (const n of g.articles.keys()) if (low === 0 || n < low) low = n;
    const count = g.articles.size;
    return { ...g.info, low: count === 0 ? g.info.high + 1 : low, count };
  }
}
