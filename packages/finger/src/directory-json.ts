import { readFile } from 'node:fs/promises';
import { matchesName, type FingerUser, type UserDirectory } from './directory.js';
import { DEFAULT_RECHECK_MS, FileCache } from './file-cache.js';
import { validateUsers } from './user-validation.js';

function readError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return new Error(`Users file ${path} does not exist.`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new Error(`Users file ${path} cannot be read: permission denied.`, { cause: err });
    case 'EISDIR':
      return new Error(`Users file ${path} is a directory, not a file.`, { cause: err });
    default:
      return new Error(`Users file ${path} cannot be read (${err instanceof Error ? err.message : String(err)}).`, { cause: err });
  }
}

/**
 * Reads and validates a JSON users file: an array of {@link FingerUser} objects, or an object
 * `{ "users": [...] }`. Throws an Error with one clear sentence when the file is missing or
 * unreadable, is not JSON, or has a bad entry (which entry, which field, what is expected).
 *
 * ```json
 * { "users": [ { "login": "alice", "name": "Alice Liddell", "plan": "Down the rabbit hole." } ] }
 * ```
 * @see RFC 1288 §2.5.2 (the atoms a user entry can give)
 */
export async function loadJsonUsers(path: string): Promise<FingerUser[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw readError(path, err);
  }
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`Users file ${path} is not valid JSON (${why}).`, { cause: err });
  }
  let list: unknown = data;
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    if (!('users' in data)) {
      throw new Error(`Users file ${path} must hold an array of users or an object with a "users" array.`);
    }
    list = (data as { users: unknown }).users;
  }
  try {
    return validateUsers(list, `Users file ${path}`);
  } catch (err) {
    throw new Error(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * Options of {@link JsonUserDirectory}.
 * @see RFC 1288 §2.5
 */
export interface JsonUserDirectoryOptions {
  /**
   * How often the file is checked for changes, in ms: at most once per this long a query looks
   * at the file (one `stat`). Default 1000; 0 checks on every query.
   */
  recheckMs?: number;
}

/** A loaded users file: in file order, and by login. */
interface LoadedUsers {
  list: FingerUser[];
  byLogin: Map<string, FingerUser>;
}

function copyOf(user: FingerUser | undefined): FingerUser | undefined {
  return user && { ...user };
}

async function loadIndexed(path: string): Promise<LoadedUsers> {
  const list = await loadJsonUsers(path);
  const byLogin = new Map<string, FingerUser>();
  // The first entry of a login wins, as a scan in file order finds it. Entries are frozen:
  // `findNow` hands them out as they are, the other methods copies.
  for (const user of list) {
    Object.freeze(user);
    if (!byLogin.has(user.login)) byLogin.set(user.login, user);
  }
  return { list, byLogin };
}

/**
 * A directory backed by a JSON users file (see {@link loadJsonUsers} for the format). The file
 * is read on first use and read again when its modification time, size or inode changes, which
 * is checked at most once a second (`recheckMs`), so edits (or an atomic rename of a new file
 * into place) show up within a second without a restart. If the file becomes invalid, queries
 * fail with the server's "temporarily unavailable" reply and the error's sentence is logged,
 * until the file is fixed.
 * @see RFC 1288 §2.5
 */
export class JsonUserDirectory implements UserDirectory {
  readonly #cache: FileCache<LoadedUsers>;

  constructor(path: string, options: JsonUserDirectoryOptions = {}) {
    const recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    if (!Number.isSafeInteger(recheckMs) || recheckMs < 0)
      throw new TypeError('JsonUserDirectory: recheckMs must be an integer, 0 or more.');
    this.#cache = new FileCache(path, loadIndexed, recheckMs);
  }

  /** The file this directory reads. */
  get path(): string {
    return this.#cache.path;
  }

  /**
   * Reads the file now, whatever its last check found (SIGHUP): queries from here on see it.
   * Resolves with the number of users; throws when the file is broken.
   */
  async refresh(): Promise<number> {
    return (await this.#cache.refresh()).list.length;
  }

  async list(): Promise<FingerUser[]> {
    return (await this.#cache.get()).list.map((u) => ({ ...u }));
  }

  find(login: string): Promise<FingerUser | undefined> {
    // A file checked within the last second answers without an async step.
    const loaded = this.#cache.fresh();
    if (loaded) return Promise.resolve(copyOf(loaded.byLogin.get(login)));
    return this.#cache.get().then((users) => copyOf(users.byLogin.get(login)));
  }

  /** The user from the file as last loaded, while its last check is under `recheckMs` old; else null. */
  findNow(login: string): FingerUser | undefined | null {
    const loaded = this.#cache.fresh();
    return loaded ? loaded.byLogin.get(login) : null;
  }

  async search(name: string): Promise<FingerUser[]> {
    return (await this.#cache.get()).list.filter((u) => matchesName(u, name)).map((u) => ({ ...u }));
  }
}
