import type { FingerUser } from './directory.js';

const TEXT_FIELDS = ['name', 'office', 'officePhone', 'homePhone', 'directory', 'shell', 'tty'] as const;
const LONG_TEXT_FIELDS = ['plan', 'project'] as const;
const KNOWN = new Set<string>(['login', ...TEXT_FIELDS, ...LONG_TEXT_FIELDS, 'lastLogin', 'loggedIn', 'idleSeconds']);
const MAX_TEXT = 1024;
const MAX_LONG_TEXT = 1024 * 1024;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: a login name with a control byte would reach the wire and the terminal; rejecting it is the point
const BAD_LOGIN = /[\s@\x00-\x1f\x7f]/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a list of users as found in a users file or given to a directory, and returns clean
 * copies. Throws a TypeError with one sentence naming the source, the entry and the field:
 * `users.json: entry 3 ("bob"): "lastLogin" must be an ISO 8601 date such as "2024-03-01T12:00:00Z".`
 * Unknown fields are errors too: they are usually typos (`fullName` for `name`).
 * @see RFC 1288 §2.5.2
 */
export function validateUsers(value: unknown, source: string): FingerUser[] {
  if (!Array.isArray(value)) throw new TypeError(`${source}: expected an array of users or { "users": [...] }.`);
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const where = `${source}: entry ${index + 1}`;
    if (!isRecord(entry)) throw new TypeError(`${where} must be an object with at least a "login".`);
    const login = entry['login'];
    if (typeof login !== 'string' || login === '' || login.length > 64 || BAD_LOGIN.test(login)) {
      throw new TypeError(`${where}: "login" must be a string of 1 to 64 characters without spaces, "@" or control characters.`);
    }
    const at = `${where} ("${login}")`;
    if (seen.has(login)) throw new TypeError(`${at}: the login "${login}" appears twice.`);
    seen.add(login);
    for (const key of Object.keys(entry)) {
      if (!KNOWN.has(key)) {
        throw new TypeError(`${at}: unknown field "${key}" (known fields: ${[...KNOWN].join(', ')}).`);
      }
    }
    const user: FingerUser = { login };
    for (const field of [...TEXT_FIELDS, ...LONG_TEXT_FIELDS]) {
      const v = entry[field];
      if (v === undefined) continue;
      const max = (LONG_TEXT_FIELDS as readonly string[]).includes(field) ? MAX_LONG_TEXT : MAX_TEXT;
      if (typeof v !== 'string' || v.length > max) throw new TypeError(`${at}: "${field}" must be a string of at most ${max} characters.`);
      user[field] = v;
    }
    const lastLogin = entry['lastLogin'];
    if (lastLogin !== undefined) {
      if (typeof lastLogin !== 'string' || !ISO_DATE.test(lastLogin) || Number.isNaN(Date.parse(lastLogin))) {
        throw new TypeError(`${at}: "lastLogin" must be an ISO 8601 date such as "2024-03-01T12:00:00Z".`);
      }
      user.lastLogin = lastLogin;
    }
    const loggedIn = entry['loggedIn'];
    if (loggedIn !== undefined) {
      if (typeof loggedIn !== 'boolean') throw new TypeError(`${at}: "loggedIn" must be true or false.`);
      user.loggedIn = loggedIn;
    }
    const idle = entry['idleSeconds'];
    if (idle !== undefined) {
      if (typeof idle !== 'number' || !Number.isFinite(idle) || idle < 0) {
        throw new TypeError(`${at}: "idleSeconds" must be a number of seconds, 0 or more.`);
      }
      user.idleSeconds = idle;
    }
    return user;
  });
}
