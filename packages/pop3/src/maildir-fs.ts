import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The three directories of a Maildir. @see https://cr.yp.to/proto/maildir.html */
export const MAILDIR_SUBDIRS = ['tmp', 'new', 'cur'] as const;

const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,127}$/;

/**
 * The Maildir of `user` under `root`, or undefined when the name could escape the root or is
 * not a plain mailbox name (`..`, `/`, NUL, control characters).
 */
export function userMaildir(root: string, user: string): string | undefined {
  if (!USER_NAME.test(user) || user.includes('..')) return undefined;
  return join(root, user);
}

/** Creates the Maildir's tmp/, new/ and cur/ when missing. */
export async function ensureMaildir(dir: string): Promise<void> {
  await Promise.all(MAILDIR_SUBDIRS.map((sub) => mkdir(join(dir, sub), { recursive: true, mode: 0o700 })));
}

/** The entries of a directory; when it does not exist, none (or undefined with `missingAsEmpty` false). */
export async function listNames(dir: string): Promise<string[]>;
export async function listNames(dir: string, missingAsEmpty: false): Promise<string[] | undefined>;
export async function listNames(dir: string, missingAsEmpty = true): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return missingAsEmpty ? [] : undefined;
    throw err;
  }
}

/** fsyncs a directory, so a rename or unlink in it survives a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
