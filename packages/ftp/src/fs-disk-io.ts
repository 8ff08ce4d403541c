import { open, realpath, type FileHandle } from 'node:fs/promises';
import { realpathSync, writeSync, writevSync } from 'node:fs';
import { sep } from 'node:path';
import type { FileKind, FileStat, ReadableFile } from './fs.js';
import { decodeName, hostPath as h } from './names.js';

// DiskFs's helpers: entries, in-memory files, host paths as bytes, writes and syncs.

/** A file already read into memory (see ReadableFile.data). */
export function readFile(size: number, data: Buffer): ReadableFile {
  let done = false;
  let position = 0;
  return {
    size,
    data,
    more: () => {
      if (done) return null;
      done = true;
      return data;
    },
    readInto: async (buffer) => {
      const n = data.copy(buffer, 0, position);
      position += n;
      return n;
    },
  };
}

/**
 * An entry of a large listing. Its Date and identity string are made when first read: a
 * 10,000-entry LIST reads neither (it formats from `mtimeMs`), and making 10,000 of each cost
 * more in garbage collection (scavenges copying them while the listing is in flight) than the
 * rest of the listing's work on the event loop. The getters live on the prototype, so copy an
 * entry field by field, not with `{ ...entry }`.
 */
export class ListedStat implements FileStat {
  readonly name: string;
  readonly kind: FileKind;
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
  readonly #dev: number;
  readonly #ino: number;
  #mtime: Date | undefined;

  constructor(name: string, kind: FileKind, size: number, mtimeMs: number, mode: number, dev: number, ino: number) {
    this.name = name;
    this.kind = kind;
    this.size = size;
    // Rounded as Node's Stats makes its Dates, so a listing agrees with stat (MDTM, SIZE).
    this.mtimeMs = Math.round(mtimeMs);
    this.mode = mode;
    this.#dev = dev;
    this.#ino = ino;
  }

  get mtime(): Date {
    this.#mtime ??= new Date(this.mtimeMs);
    return this.#mtime;
  }

  get id(): string {
    return `${this.#dev.toString(16)}g${this.#ino.toString(16)}`;
  }
}

/**
 * realpath of a path that may hold bytes that are not UTF-8 (names.ts): as a string when it
 * decodes cleanly (the usual case), else as bytes, decoded losslessly.
 */
export async function realpathName(path: string): Promise<string> {
  const host = h(path);
  if (typeof host === 'string') {
    const real = await realpath(host);
    if (!real.includes('\uFFFD')) return real;
  }
  return decodeName(await realpath(host, { encoding: 'buffer' }));
}

/** realpathName with one synchronous call (see #resolveNow). */
export function realpathNow(path: string): string {
  const host = h(path);
  if (typeof host === 'string') {
    const real = realpathSync.native(host);
    if (!real.includes('\uFFFD')) return real;
  }
  return decodeName(realpathSync.native(host, { encoding: 'buffer' }));
}

export function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

export async function writeAll(handle: FileHandle, data: Buffer, position: number | null): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, position === null ? null : position + offset);
    offset += bytesWritten;
  }
}

/** writev at the current position; a short write (rare on regular files) finishes one by one. */
export async function writeAllv(handle: FileHandle, parts: Buffer[]): Promise<void> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const { bytesWritten } = await handle.writev(parts);
  if (bytesWritten === total) return;
  let skip = bytesWritten;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    await writeAll(handle, skip > 0 ? part.subarray(skip) : part, null);
    skip = 0;
  }
}

/** writeAll with synchronous calls at the current position (see LoopWriteGate). */
export function writeAllNow(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset);
}

/** writeAllv with synchronous calls at the current position (see LoopWriteGate). */
export function writeAllvNow(fd: number, parts: Buffer[]): void {
  const total = parts.reduce((n, p) => n + p.length, 0);
  let skip = writevSync(fd, parts);
  if (skip === total) return;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    writeAllNow(fd, skip > 0 ? part.subarray(skip) : part);
    skip = 0;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(h(dir), 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}
