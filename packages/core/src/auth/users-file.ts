import { readFile, stat } from 'node:fs/promises';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Authenticator, AuthUser, LoginAttempt } from './authenticator.js';
import { credentialDigest, parsePasswordHash, verifyNothing, verifyPassword } from './password.js';

/** One user as written in a users file. */
export interface UserRecord {
  name: string;
  /** A `scrypt$…` hash from `gorgon passwd`. */
  password: string;
  [attribute: string]: unknown;
}

/** Options of {@link UsersFileAuthenticator}. */
export interface UsersFileOptions {
  /** Remember a successful login for this long (ms), keyed by user and a digest of the password. Default 60 s; 0 disables. */
  cacheTtlMs?: number;
  /** Check whether the file changed at most this often (ms). Default 1000. */
  reloadCheckMs?: number;
}

/**
 * Reads and checks a users file: JSON, `{ "users": [ { "name", "password", …attributes } ] }`
 * or a bare array. Throws an Error whose message is one sentence naming the problem.
 */
export async function loadUsersFile(path: string): Promise<Map<string, UserRecord>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `users file ${path} does not exist` : `cannot read users file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`users file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { users?: unknown } | null)?.users;
  if (!Array.isArray(list)) throw new Error(`users file ${path} must hold a "users" array`);
  const users = new Map<string, UserRecord>();
  list.forEach((entry: unknown, i) => {
    const record = entry as Partial<UserRecord> | null;
    if (!record || typeof record.name !== 'string' || record.name === '') {
      throw new Error(`users file ${path}: entry ${i + 1} has no "name"`);
    }
    if (typeof record.password !== 'string' || !parsePasswordHash(record.password)) {
      throw new Error(`users file ${path}: user "${record.name}" needs a "password" made by 'gorgon passwd'`);
    }
    if (users.has(record.name)) throw new Error(`users file ${path}: user "${record.name}" appears twice`);
    users.set(record.name, record as UserRecord);
  });
  return users;
}

function toAuthUser(record: UserRecord): AuthUser {
  const { name, password: _password, ...attributes } = record;
  return { name, attributes };
}

/**
 * The users-file authenticator: scrypt hashes checked on the thread pool in constant time,
 * the file reloaded when it changes, and a short-lived cache of successful logins (as
 * Dovecot's auth cache) so login-heavy workloads do not pay scrypt every time.
 */
export class UsersFileAuthenticator implements Authenticator {
  readonly path: string;
  readonly #cacheTtlMs: number;
  readonly #reloadCheckMs: number;
  #users: Map<string, UserRecord> | undefined;
  /** Inode, size, mtime and ctime of the file last loaded: any edit changes one of them. */
  #version = '';
  #checkedAt = 0;
  #loading: Promise<void> | undefined;
  readonly #cache = new Map<string, { user: AuthUser; expires: number }>();

  constructor(path: string, options: UsersFileOptions = {}) {
    this.path = path;
    this.#cacheTtlMs = options.cacheTtlMs ?? 60_000;
    this.#reloadCheckMs = options.reloadCheckMs ?? 1000;
  }

  async authenticate(attempt: LoginAttempt): Promise<AuthUser | undefined> {
    const users = await this.#current();
    const key = this.#cacheTtlMs > 0 ? credentialDigest(attempt.user, attempt.password) : undefined;
    if (key) {
      const hit = this.#cache.get(key);
      if (hit && hit.expires > Date.now()) return hit.user;
      if (hit) this.#cache.delete(key);
    }
    const record = users.get(attempt.user);
    if (!record) return verifyNothing(attempt.password).then(() => undefined);
    if (!(await verifyPassword(attempt.password, record.password))) return undefined;
    const user = toAuthUser(record);
    if (key) {
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(key, { user, expires: Date.now() + this.#cacheTtlMs });
    }
    return user;
  }

  async lookup(name: string): Promise<AuthUser | undefined> {
    const record = (await this.#current()).get(name);
    return record ? toAuthUser(record) : undefined;
  }

  /**
   * Reads the file now, whether or not it looks changed (SIGHUP, and at start-up so the file is
   * read before a daemon drops root). Returns the number of users. When the file is missing or
   * broken this throws the one-sentence error and the users last loaded stay in force.
   */
  async reload(): Promise<number> {
    await this.#loading?.catch(() => {});
    const now = Date.now();
    const version = await fileVersion(this.path);
    const users = await loadUsersFile(this.path);
    this.#users = users;
    this.#version = version;
    this.#checkedAt = now;
    this.#cache.clear();
    return users.size;
  }

  /**
   * The users, reloaded when the file changed (checked at most once per reloadCheckMs). Not
   * the mtime alone: a file copied over with its old mtime kept (`cp -p`, `rsync -t`) still
   * has a new ctime, and one renamed into place a new inode.
   */
  async #current(): Promise<Map<string, UserRecord>> {
    const now = Date.now();
    if (this.#users && now - this.#checkedAt < this.#reloadCheckMs) return this.#users;
    this.#loading ??= this.#reload(now).finally(() => (this.#loading = undefined));
    await this.#loading;
    return this.#users!;
  }

  async #reload(now: number): Promise<void> {
    this.#checkedAt = now;
    const version = await fileVersion(this.path);
    if (this.#users && version === this.#version) return;
    try {
      this.#users = await loadUsersFile(this.path);
      this.#version = version;
      this.#cache.clear();
    } catch (err) {
      // Keep serving the last good file when an edit breaks it; fail only if there never was one.
      if (!this.#users) throw err;
    }
  }
}

async function fileVersion(path: string): Promise<string> {
  return stat(path).then(
    (st) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`,
    () => 'missing',
  );
}

/** A user of {@link MemoryAuthenticator}: a plain password, for tests and embedding. */
export interface MemoryUser {
  name: string;
  password: string;
  attributes?: Record<string, unknown>;
}

/** Users held in memory with plain passwords compared in constant time. */
export class MemoryAuthenticator implements Authenticator {
  readonly #users = new Map<string, { digest: Buffer; user: AuthUser }>();

  constructor(users: MemoryUser[]) {
    for (const u of users) {
      this.#users.set(u.name, { digest: sha256(u.password), user: { name: u.name, attributes: u.attributes ?? {} } });
    }
  }

  async authenticate(attempt: LoginAttempt): Promise<AuthUser | undefined> {
    const entry = this.#users.get(attempt.user);
    const given = sha256(attempt.password);
    const ok = timingSafeEqual(given, entry?.digest ?? sha256(`\0${attempt.password}`));
    return ok && entry ? entry.user : undefined;
  }

  async lookup(name: string): Promise<AuthUser | undefined> {
    return this.#users.get(name)?.user;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
