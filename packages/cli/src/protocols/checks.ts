import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { toSecureContext, UsersFileAuthenticator } from '@gorgon/core';
import { messageOf } from '../errors.js';

/** A problem `gorgon check-config` found in a section's files: the key it is about, and why. */
export interface SectionProblem {
  /** The key in the section ("users"): the report places it at that key's line. */
  key: string;
  message: string;
}

/** What a protocol's `check` is given: where relative paths resolve. */
export interface CheckContext {
  baseDir: string;
}

/** Collects problems: each check adds at most one. */
export class SectionChecks {
  readonly problems: SectionProblem[] = [];
  readonly #baseDir: string;

  constructor(context: CheckContext) {
    this.#baseDir = context.baseDir;
  }

  /** A directory that must exist (a root, a Maildir root). */
  async directory(key: string, value: string | undefined, what: string): Promise<void> {
    if (value === undefined) return;
    const path = resolve(this.#baseDir, value);
    const st = await stat(path).catch(() => undefined);
    if (!st) this.problems.push({ key, message: `the ${what} ${path} does not exist` });
    else if (!st.isDirectory()) this.problems.push({ key, message: `the ${what} ${path} is not a directory` });
  }

  /** A directory made when missing (NNTP's spool): it may be missing, but its parent must exist. */
  async directoryOrParent(key: string, value: string | undefined, what: string): Promise<void> {
    if (value === undefined) return;
    const path = resolve(this.#baseDir, value);
    const st = await stat(path).catch(() => undefined);
    if (st) {
      if (!st.isDirectory()) this.problems.push({ key, message: `the ${what} ${path} is not a directory` });
      return;
    }
    const parent = await stat(dirname(path)).catch(() => undefined);
    if (!parent?.isDirectory()) this.problems.push({ key, message: `the ${what} ${path} cannot be made: ${dirname(path)} does not exist` });
  }

  /** A file written to (an access log): its directory must exist. */
  async writableFileDir(key: string, value: string | undefined, what: string): Promise<void> {
    if (value === undefined) return;
    const path = resolve(this.#baseDir, value);
    const parent = await stat(dirname(path)).catch(() => undefined);
    if (!parent?.isDirectory())
      this.problems.push({ key, message: `the ${what} ${path} cannot be written: ${dirname(path)} does not exist` });
  }

  /** A file read by `load`, which throws a sentence when the file is missing or broken. */
  async file(key: string, value: string | undefined, load: (path: string) => Promise<unknown>): Promise<void> {
    if (value === undefined) return;
    try {
      await load(resolve(this.#baseDir, value));
    } catch (err) {
      this.problems.push({ key, message: messageOf(err).replace(/\.$/, '') });
    }
  }

  /** A users file of `gorgon passwd` (JSON, hashed passwords). */
  usersFile(key: string, value: string | undefined): Promise<void> {
    return this.file(key, value, (path) => new UsersFileAuthenticator(path).reload());
  }

  /** The certificate and key, when given: both readable, PEM, and the key matching the certificate. */
  async tls(section: { cert?: string | undefined; key?: string | undefined }): Promise<void> {
    if (section.cert === undefined && section.key === undefined) return;
    if (section.cert === undefined || section.key === undefined) {
      this.problems.push({
        key: section.cert === undefined ? 'key' : 'cert',
        message: 'give both cert and key, or neither (a demo certificate)',
      });
      return;
    }
    const certPath = resolve(this.#baseDir, section.cert);
    const keyPath = resolve(this.#baseDir, section.key);
    const read = async (key: string, path: string): Promise<Buffer | undefined> => {
      try {
        return await readFile(path);
      } catch (err) {
        this.problems.push({ key, message: `cannot read ${path}: ${messageOf(err)}` });
        return undefined;
      }
    };
    const [cert, key] = [await read('cert', certPath), await read('key', keyPath)];
    if (!cert || !key) return;
    try {
      toSecureContext({ cert, key });
    } catch (err) {
      this.problems.push({
        key: 'cert',
        message: `the certificate ${certPath} and key ${keyPath} cannot be used together: ${messageOf(err)}`,
      });
    }
  }
}
