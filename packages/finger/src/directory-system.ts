import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { matchesName, type FingerUser, type UserDirectory } from './directory.js';
import { DEFAULT_RECHECK_MS, FileCache } from './file-cache.js';

const FILE_READ_BATCH = 16;
/** Users whose `.plan` and `.project` are remembered at once; past it the memory starts over. */
const MAX_CACHED_USERS = 4096;

/**
 * Options of {@link SystemUserDirectory}.
 * @see RFC 1288 §3.2.4
 */
export interface SystemUserDirectoryOptions {
  /** The passwd file. Default `/etc/passwd`. */
  passwd?: string;
  /** Lowest uid shown: system accounts stay out of sight. Default 1000. */
  minUid?: number;
  /** Highest uid shown (`nobody` is 65534). Default 60000. */
  maxUid?: number;
  /** Bytes read from a `.plan` or `.project`. Default 64 KiB. */
  maxFileBytes?: number;
  /**
   * How long what was read stays good, in ms: the passwd file is checked for changes, and a
   * user's `.plan` and `.project` read again, at most once per this long. Default 1000; 0 reads
   * them on every query.
   */
  recheckMs?: number;
}

/**
 * One line of a passwd file.
 * @see RFC 1288 §2.5.2
 */
export interface PasswdEntry {
  login: string;
  uid: number;
  gecos: string;
  home: string;
  shell: string;
}

/**
 * Parses passwd(5) text; comments, blank and malformed lines are skipped.
 * @see RFC 1288 §2.5.2
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.replace(/\r$/, '').split(':');
    if (fields.length !== 7) continue;
    const [login = '', , uidText = '', , gecos = '', home = '', shell = ''] = fields;
    if (login === '' || !/^\d+$/.test(uidText)) continue;
    entries.push({ login, uid: Number(uidText), gecos, home, shell });
  }
  return entries;
}

/**
 * The GECOS field as BSD finger reads it: `Full Name,Office,Office Phone,Home Phone`, where
 * `&` in the name stands for the login with a capital first letter.
 * @see RFC 1288 §2.5.2, §2.5.3
 */
export function parseGecos(gecos: string, login: string): Pick<FingerUser, 'name' | 'office' | 'officePhone' | 'homePhone'> {
  const [name = '', office = '', officePhone = '', homePhone = ''] = gecos.split(',').map((s) => s.trim());
  const capital = login.charAt(0).toUpperCase() + login.slice(1);
  const out: Pick<FingerUser, 'name' | 'office' | 'officePhone' | 'homePhone'> = {};
  if (name) out.name = name.replace(/&/g, capital);
  if (office) out.office = office;
  if (officePhone) out.officePhone = officePhone;
  if (homePhone) out.homePhone = homePhone;
  return out;
}

/**
 * Reads `~/.plan` or `~/.project` the careful way, since its owner controls it: never through
 * a symlink (`O_NOFOLLOW`: a `.plan` linked to `/etc/shadow`), never blocking on a FIFO
 * (`O_NONBLOCK`), only a regular file owned by the user, at most `maxBytes`. Anything else
 * reads as no file at all.
 * @see RFC 1288 §3.2.4, §3.2.5
 */
export async function readUserFile(home: string, name: string, uid: number, maxBytes: number): Promise<string | undefined> {
  if (!isAbsolute(home)) return undefined;
  let handle;
  try {
    handle = await open(join(home, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.uid !== uid) return undefined;
    const buffer = Buffer.alloc(Math.min(maxBytes, st.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function checkUid(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`SystemUserDirectory: ${name} must be an integer, 0 or more.`);
  return value;
}

/**
 * The classic fingerd directory: accounts from `/etc/passwd` (uids from `minUid` to `maxUid`),
 * names and phones from GECOS, plans and projects from `~/.plan` and `~/.project`. Off by
 * default: the server uses it only when an operator chooses it, as it exposes real accounts.
 * It has no login records (utmp/wtmp), so users show as never logged in.
 * @see RFC 1288 §2.5, §3.2.4
 */
export class SystemUserDirectory implements UserDirectory {
  readonly #cache: FileCache<PasswdEntry[]>;
  readonly #maxFileBytes: number;
  readonly #recheckMs: number;
  /**
   * A user's files as last read, and when (Date.now()): opening, checking, reading and closing
   * two files per query cost the server 6× a raw server's CPU per request (issue 9.3).
   */
  readonly #files = new Map<string, { at: number; files: Promise<UserFiles> }>();

  constructor(options: SystemUserDirectoryOptions = {}) {
    const minUid = checkUid(options.minUid, 'minUid', 1000);
    const maxUid = checkUid(options.maxUid, 'maxUid', 60_000);
    this.#maxFileBytes = checkUid(options.maxFileBytes, 'maxFileBytes', 64 * 1024);
    this.#recheckMs = checkUid(options.recheckMs, 'recheckMs', DEFAULT_RECHECK_MS);
    this.#cache = new FileCache(
      options.passwd ?? '/etc/passwd',
      async (path) => {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          const why = (err as NodeJS.ErrnoException).code ?? String(err);
          throw new Error(`Passwd file ${path} cannot be read (${why}).`, { cause: err });
        }
        return parsePasswd(text).filter((e) => e.uid >= minUid && e.uid <= maxUid);
      },
      this.#recheckMs,
    );
  }

  async list(): Promise<FingerUser[]> {
    return (await this.#cache.get()).map(toUser);
  }

  async find(login: string): Promise<FingerUser | undefined> {
    const entry = (await this.#cache.get()).find((e) => e.login === login);
    return entry && this.#withFiles(entry);
  }

  async search(name: string): Promise<FingerUser[]> {
    const matches = (await this.#cache.get()).filter((e) => matchesName(toUser(e), name));
    // A common word can match many accounts: read their files a few at a time.
    const users: FingerUser[] = [];
    for (let i = 0; i < matches.length; i += FILE_READ_BATCH) {
      users.push(...(await Promise.all(matches.slice(i, i + FILE_READ_BATCH).map((e) => this.#withFiles(e)))));
    }
    return users;
  }

  async #withFiles(entry: PasswdEntry): Promise<FingerUser> {
    const user = toUser(entry);
    const { plan, project } = await this.#userFiles(entry);
    if (plan !== undefined) user.plan = plan;
    if (project !== undefined) user.project = project;
    return user;
  }

  /** The user's `.plan` and `.project`, read again once `recheckMs` has passed. */
  #userFiles(entry: PasswdEntry): Promise<UserFiles> {
    // Keyed by everything the reading depends on: a passwd change of home or uid reads afresh.
    const key = `${entry.uid}:${entry.home}`;
    const now = Date.now();
    const known = this.#files.get(key);
    if (known && now - known.at < this.#recheckMs && now >= known.at) return known.files;
    const files = Promise.all([
      readUserFile(entry.home, '.plan', entry.uid, this.#maxFileBytes),
      readUserFile(entry.home, '.project', entry.uid, this.#maxFileBytes),
    ]).then(([plan, project]) => ({ plan, project }));
    if (this.#recheckMs > 0) {
      if (this.#files.size >= MAX_CACHED_USERS) this.#files.clear();
      this.#files.set(key, { at: now, files });
    }
    return files;
  }
}

/** A user's information files, `undefined` where there is none to show. */
interface UserFiles {
  plan: string | undefined;
  project: string | undefined;
}

function toUser(entry: PasswdEntry): FingerUser {
  const user: FingerUser = { login: entry.login, ...parseGecos(entry.gecos, entry.login) };
  if (entry.home) user.directory = entry.home;
  if (entry.shell) user.shell = entry.shell;
  return user;
}
