import { readFile } from 'node:fs/promises';
import { matchesName, type FingerUser, type UserDirectory } from './directory.js';
import { FileCache } from './file-cache.js';
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
 * A directory backed by a JSON users file (see {@link loadJsonUsers} for the format). The file
 * is read on first use and read again whenever its modification time, size or inode changes,
 * so edits (or an atomic rename of a new file into place) show up on the next query without a
 * restart. If the file becomes invalid, queries fail with the server's "temporarily
 * unavailable" reply and the error's sentence is logged, until the file is fixed.
 * @see RFC 1288 §2.5
 */
export class JsonUserDirectory implements UserDirectory {
  readonly #cache: FileCache<FingerUser[]>;

  constructor(path: string) {
    this.#cache = new FileCache(path, loadJsonUsers);
  }

  /** The file this directory reads. */
  get path(): string {
    return this.#cache.path;
  }

  async list(): Promise<FingerUser[]> {
    return (await this.#cache.get()).map((u) => ({ ...u }));
  }

  async find(login: string): Promise<FingerUser | undefined> {
    const user = (await this.#cache.get()).find((u) => u.login === login);
    return user && { ...user };
  }

  async search(name: string): Promise<FingerUser[]> {
    return (await this.#cache.get()).filter((u) => matchesName(u, name)).map((u) => ({ ...u }));
  }
}
