import { validateUsers } from './user-validation.js';

/**
 * What the finger server knows about one user: the "atoms" of information it may give out.
 * Every field but `login` is optional; the server shows what is there. Text is shown escaped
 * (control characters and non-ASCII never reach the wire raw).
 * @see RFC 1288 §2.5.2, §3.2.3
 */
export interface FingerUser {
  /** Login name, matched exactly by `{U}` queries. */
  login: string;
  /** Real name; its words are matched case-insensitively when the directory supports search. */
  name?: string;
  office?: string;
  officePhone?: string;
  /** Shown only to `/W` queries. */
  homePhone?: string;
  /** Home directory. */
  directory?: string;
  shell?: string;
  /** The `.plan` text, shown under "Plan:". */
  plan?: string;
  /** The `.project` text; its first line is shown. */
  project?: string;
  /** ISO 8601 time of the last login (or of the current session when `loggedIn`). */
  lastLogin?: string;
  loggedIn?: boolean;
  /** Terminal of the current or last session. */
  tty?: string;
  /** Seconds since the user last typed, when logged in. */
  idleSeconds?: number;
}

/**
 * Where the finger server looks users up. Implementations return data, never protocol text.
 * `list()` may leave out `plan` and `project` to stay cheap: for a verbose listing the server
 * asks `find()` for each entry it shows.
 * @see RFC 1288 §2.5.1 (`list`), §2.5.2 (`find`), §2.5.3 (`search`: real names)
 */
export interface UserDirectory {
  /** Every user the `{C}` query may show, in display order. */
  list(): Promise<FingerUser[]>;
  /** The user with exactly this login, if any. */
  find(login: string): Promise<FingerUser | undefined>;
  /**
   * Optional: what `find(login)` would give, when the directory can tell without waiting (its
   * users are in memory, its file was checked a moment ago): the user, `undefined` when there is
   * none, or `null` when only `find` can tell. The server asks it first for the common query, one
   * login, and so answers within the read that brought the query, without a promise's turn. The
   * entry may be the directory's own, frozen: the server never changes what it is given.
   */
  findNow?(login: string): FingerUser | undefined | null;
  /** Users whose real name matches `name` (see {@link matchesName}). */
  search?(name: string): Promise<FingerUser[]>;
}

/**
 * True when `query` is the user's full real name or one word of it, ignoring case and accents
 * (`liddell` and `Alice Liddell` both match "Alice Liddell"), as BSD finger matches GECOS names.
 * @see RFC 1288 §2.5.3
 */
export function matchesName(user: FingerUser, query: string): boolean {
  if (!user.name) return false;
  const fold = (s: string): string =>
    s
      .normalize('NFD')
      .replace(/\p{Mn}+/gu, '')
      .toLowerCase()
      .trim();
  const want = fold(query);
  if (want === '') return false;
  const name = fold(user.name);
  return name === want || name.split(/[\s,.]+/).includes(want);
}

/**
 * A directory held in memory: for embedding, tests and demos. The users are validated like a
 * JSON users file (a bad entry throws a TypeError naming it) and copied; `upsert` and `remove`
 * change them later (for example to track who is logged in).
 * @see RFC 1288 §2.5
 */
export class MemoryUserDirectory implements UserDirectory {
  readonly #users = new Map<string, FingerUser>();

  /** Entries are kept frozen: `findNow` hands them out as they are, the other methods copies. */
  constructor(users: FingerUser[]) {
    for (const user of validateUsers(users, 'MemoryUserDirectory')) this.#users.set(user.login, Object.freeze(user));
  }

  async list(): Promise<FingerUser[]> {
    return [...this.#users.values()].map((u) => ({ ...u }));
  }

  find(login: string): Promise<FingerUser | undefined> {
    const user = this.#users.get(login);
    return Promise.resolve(user && { ...user });
  }

  findNow(login: string): FingerUser | undefined {
    return this.#users.get(login);
  }

  async search(name: string): Promise<FingerUser[]> {
    return [...this.#users.values()].filter((u) => matchesName(u, name)).map((u) => ({ ...u }));
  }

  /** Adds or replaces the user with this login. */
  upsert(user: FingerUser): void {
    const [valid] = validateUsers([user], 'MemoryUserDirectory.upsert');
    this.#users.set(valid!.login, Object.freeze(valid!));
  }

  /** Removes a user; returns whether there was one. */
  remove(login: string): boolean {
    return this.#users.delete(login);
  }
}
