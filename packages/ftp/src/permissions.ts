/**
 * What a user may do, as a typed set. The users file and the CLI accept pyftpdlib's letters:
 * read `e` (change directory), `l` (list), `r` (retrieve); write `a` (append), `d` (delete),
 * `f` (rename), `m` (make directory), `w` (store), `M` (SITE CHMOD), `T` (set modification time).
 */
export type Permission = 'cwd' | 'list' | 'retrieve' | 'append' | 'delete' | 'rename' | 'mkdir' | 'store' | 'chmod' | 'setTime';

const letters: ReadonlyArray<readonly [string, Permission]> = [
  ['e', 'cwd'],
  ['l', 'list'],
  ['r', 'retrieve'],
  ['a', 'append'],
  ['d', 'delete'],
  ['f', 'rename'],
  ['m', 'mkdir'],
  ['w', 'store'],
  ['M', 'chmod'],
  ['T', 'setTime'],
];

/** Every permission: a full-access user. */
export const ALL_PERMISSIONS = 'elradfmwMT';
/** Read-only: what an anonymous user gets, whatever the configuration says. */
export const READ_PERMISSIONS = 'elr';

/** The write permissions, removed from anonymous users. */
export const WRITE_PERMISSIONS: ReadonlySet<Permission> = new Set(['append', 'delete', 'rename', 'mkdir', 'store', 'chmod', 'setTime']);

/** Parses a letter string ("elr", "elradfmwMT"); throws on an unknown letter. */
export function parsePermissions(text: string): ReadonlySet<Permission> {
  const set = new Set<Permission>();
  for (const letter of text) {
    const found = letters.find(([l]) => l === letter);
    if (!found) throw new Error(`unknown permission letter "${letter}" (use some of ${ALL_PERMISSIONS})`);
    set.add(found[1]);
  }
  return set;
}

/** The letter string of a set, in canonical order. */
export function formatPermissions(set: ReadonlySet<Permission>): string {
  return letters
    .filter(([, p]) => set.has(p))
    .map(([l]) => l)
    .join('');
}
