import type { FtpClient } from './client.js';
import { FtpError } from './client-errors.js';
import type { FtpEntry } from './client-list.js';
import { isGlob } from './fetch-url.js';

/**
 * A shell-style pattern for one path segment as a RegExp: `*` any run of characters, `?` one
 * character, `[abc]` / `[a-z]` / `[!x]` a class. As in the shell, a leading `.` must be matched
 * literally, so `*` skips hidden files.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const hiddenOk = pattern.startsWith('.');
  return new RegExp(`^${hiddenOk ? '' : '(?!\\.)'}${out}$`, 's');
}

/** One remote file a URL stands for. */
export interface RemoteFile {
  /** Path to give RETR (relative to the login directory unless it starts with `/`). */
  remotePath: string;
  /** Where it goes under the output directory: the part of the path from the first glob on. */
  relativePath: string;
  /** From the listing, when it gave them. */
  size?: number;
  modifiedAt?: Date;
}

function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * Lists `dir` (MLSD when the server has it, else LIST). When LIST gives nothing this client can
 * parse, NLST names stand in, typed as files.
 */
async function listEntries(client: FtpClient, dir: string, wantFiles: boolean): Promise<FtpEntry[]> {
  const path = dir === '' ? undefined : dir;
  const entries = await client.listDir(path);
  if (entries.length > 0 || !wantFiles) return entries;
  try {
    const names = await client.nlst(path);
    return names.map((n) => ({ name: n.slice(n.lastIndexOf('/') + 1), type: 'file' as const }));
  } catch (err) {
    // 450/550 from NLST on an empty directory means "no files", not a failure.
    if (err instanceof FtpError && (err.code === 450 || err.code === 550)) return [];
    throw err;
  }
}

/**
 * Expands a path whose segments may be globs into the files it names, segment by segment with
 * directory listings, at most `maxFiles` of them. Directories match inner segments (symbolic
 * links too, as the listing cannot tell what they point at); files and links match the last.
 */
export async function expandGlob(client: FtpClient, path: string, maxFiles = 100_000): Promise<RemoteFile[]> {
  const absolute = path.startsWith('/');
  const segments = (absolute ? path.slice(1) : path).split('/');
  const firstGlob = segments.findIndex(isGlob);
  if (firstGlob === -1) {
    return [{ remotePath: path, relativePath: segments[segments.length - 1]! }];
  }
  const base = segments.slice(0, firstGlob).join('/');
  let frontier: Array<{ dir: string; relative: string; entry?: FtpEntry }> = [{ dir: absolute ? `/${base}` : base, relative: '' }];
  for (let i = firstGlob; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    const next: typeof frontier = [];
    for (const at of frontier) {
      if (!isGlob(segment)) {
        next.push({ dir: joinPath(at.dir, segment), relative: joinPath(at.relative, segment) });
        continue;
      }
      const pattern = globToRegExp(segment);
      const entries = await listEntries(client, at.dir, last);
      for (const entry of entries) {
        const fits = last ? entry.type === 'file' || entry.type === 'link' : entry.type === 'dir' || entry.type === 'link';
        if (!fits || !pattern.test(entry.name) || entry.name.includes('/')) continue;
        next.push({ dir: joinPath(at.dir, entry.name), relative: joinPath(at.relative, entry.name), entry });
        if (next.length > maxFiles) throw new Error(`${path} matches more than ${maxFiles} files`);
      }
    }
    frontier = next;
  }
  return frontier
    .map((at) => {
      const file: RemoteFile = { remotePath: at.dir, relativePath: at.relative };
      if (at.entry?.type === 'file' && at.entry.size !== undefined) file.size = at.entry.size;
      if (at.entry?.modifiedAt !== undefined && at.entry.facts !== undefined) file.modifiedAt = at.entry.modifiedAt;
      return file;
    })
    .sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}
