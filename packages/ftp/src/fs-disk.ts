import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstat as lstatCb, openSync, readSync, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rmdir, stat, unlink, utimes, chmod, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { FileProducer } from '@gorgon/core';
import { decodeName, hostPath as h } from './names.js';
import {
  isInside,
  ListedStat,
  readFile,
  realpathName,
  realpathNow,
  syncDir,
  writeAll,
  writeAllNow,
  writeAllv,
  writeAllvNow,
} from './fs-disk-io.js';
import { kLoopWriteClock, LoopWriteGate, type LoopWriteClock } from './fs-disk-loop-writes.js';
import { sweepUploads, uploadTag, type UploadSweepResult } from './fs-disk-sweep.js';
import { DirectoryLister, LISTED_FIELDS, LISTED_SYMLINK, type ListedStats } from './fs-disk-lister.js';
import {
  baseName,
  FsError,
  parentPath,
  type FileStat,
  type FsErrorCode,
  type ReadableFile,
  type VirtualFs,
  type WritableFile,
  type WriteOptions,
} from './fs.js';

/** Options of {@link DiskFs}. */
export interface DiskFsOptions {
  /** Stats run at once while listing a directory on the thread pool. Default 16 (the pool has 4 threads). */
  statConcurrency?: number;
  /**
   * Stat the entries of large directories (256 or more) on a few helper threads, one message
   * back per slice of names. Default true; false stats every directory with a bounded pool of
   * thread-pool lstats. The threads are made at the first large listing and ended by
   * {@link DiskFs.close} (the FTP server shares one set among the DiskFs it makes).
   */
  listerThread?: boolean;
  /**
   * The root is on a local disk (default true). Path lookups on hot paths (listings, RETR of a
   * small file) are then one synchronous realpath on the event loop, a few microseconds, instead
   * of a thread-pool round trip, small files are read synchronously (`smallFileBytes`) and
   * uploads written on the loop while that is safe (`loopWrites`). Set
   * false for a root on a network filesystem, where one slow synchronous call would stall every
   * session.
   */
  local?: boolean;
  /**
   * On a local root, files up to this size are read for RETR with synchronous calls (realpath,
   * open, fstat, read, close) instead of five thread-pool round trips. Default 64 KiB; 0 turns
   * it off.
   */
  smallFileBytes?: number;
  /**
   * On a local root, write an upload's blocks with synchronous calls on the event loop rather
   * than in the thread pool (default true): a copy into the page cache, a fraction of a
   * millisecond per MiB, without a hand-off to another thread (a 1 GiB STOR ran 15-25 % faster
   * and cost 0.1-0.2 s less system time per GB). Blocks still go to the pool while the kernel's
   * dirty pages are near the point where it throttles writers (dirty_background_ratio of
   * free + file-backed memory, read from /proc/meminfo at most every 100 ms), for 10 s after a
   * write on the loop took over 20 ms, and on systems without /proc. Always off when `local`
   * is false.
   */
  loopWrites?: boolean;
  /**
   * Remove the temporary files of uploads cut off by a crash (kill -9, power loss) when the
   * server starts listening: see {@link DiskFs.sweepStaleUploads}. Default true.
   */
  sweepStaleUploads?: boolean;
  /**
   * A temporary upload file is removed by the start-up sweep only when last changed at least
   * this long ago (and its writer is gone: see `sweepStaleUploads`). Default 0. Servers sharing
   * one root need not raise it: a live upload of another server is recognised by its name.
   */
  staleUploadMs?: number;
  /**
   * fsync an upload (the file, then the directory it was renamed in) before the 226 that
   * acknowledges it, so that an acknowledged upload survives a power loss or a kernel crash.
   * Default true. False leaves the flush to the kernel (within seconds): uploads cost less and
   * finish sooner, and a crash of the server process still never leaves a torn file under the
   * final name (temporary file, rename), but uploads acknowledged shortly before the machine
   * went down may be missing or empty afterwards. APPE and REST+STOR (written in place) are
   * not flushed per chunk either. (pure-ftpd 1.0.50 never fsyncs an upload.)
   */
  fsync?: boolean;
}

/** Directories one start-up sweep reads at most (the rest waits for the next start). */
export const SWEEP_MAX_DIRS = 10_000;

/** Default of {@link DiskFsOptions.smallFileBytes}. */
export const SMALL_FILE_BYTES = 64 * 1024;

/** Directories with at least this many entries are statted on the helper threads. */
const LISTER_THRESHOLD = 256;
/** Slices of a large directory (spread over the threads): the first is sent while the rest are statted. */
const LISTER_SLICES = 8;

/**
 * Where the FTP server puts the helper threads it shares among the DiskFs it makes for `root`
 * and per-user roots (and ends when it closes): not a public option.
 */
export const kSharedLister = Symbol('gorgon.ftp.sharedLister');

/** Temporary upload files start with this; listings hide them. */
export const TEMP_PREFIX = '.gorgon-upload-';

/**
 * A temporary upload file of another host (a root shared behind a load balancer) is removed by
 * the sweep only when unchanged this long: a live upload writes its file a block (1 MiB) at a
 * time, minutes apart for a slow client, and that host's own sweep removes its dead processes'
 * files when it starts again.
 */
const FOREIGN_STALE_MS = 24 * 3600_000;

const errnoCodes: Record<string, FsErrorCode> = {
  ENOENT: 'not-found',
  ENOTDIR: 'not-dir',
  EISDIR: 'is-dir',
  EEXIST: 'exists',
  ENOTEMPTY: 'not-empty',
  EACCES: 'denied',
  EPERM: 'denied',
  EROFS: 'denied',
  ENOSPC: 'no-space',
  EDQUOT: 'no-space',
  EFBIG: 'no-space',
  ENAMETOOLONG: 'invalid-path',
  EINVAL: 'invalid-path',
  ELOOP: 'denied',
  ENXIO: 'denied', // a FIFO opened for writing with no reader (O_NONBLOCK)
};

/** Turns a Node fs error into an FsError (an FsError passes through). */
export function toFsError(err: unknown, what: string): FsError {
  if (err instanceof FsError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return new FsError(errnoCodes[code] ?? 'io', `${what}: ${code || (err as Error).message}`, { cause: err });
}

function toStat(name: string, st: Stats): FileStat {
  return {
    name,
    kind: st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other',
    size: st.isFile() ? st.size : 0,
    mtime: st.mtime,
    mode: st.mode & 0o7777,
    id: `${st.dev.toString(16)}g${st.ino.toString(16)}`,
  };
}

/**
 * A VirtualFs over a directory on disk. Every call resolves real paths (symlinks included) and
 * refuses anything that lands outside the root, so a symlink planted after login cannot lead
 * out. Uploads go to a temporary file in the target directory and are renamed into place after
 * fsync of the file, then the directory is fsynced (unless `fsync: false`).
 * @see RFC 2577 §5 (protecting files outside the FTP area)
 */
export class DiskFs implements VirtualFs {
  readonly root: string;
  readonly #concurrency: number;
  readonly #lister: DirectoryLister | undefined;
  /** Whether `#lister` is this DiskFs's own (ended by close) or the server's. */
  readonly #ownsLister: boolean;
  readonly #local: boolean;
  readonly #smallFileBytes: number;
  readonly #staleUploadMs: number;
  readonly #fsync: boolean;
  /** Decides whether an upload block is written on the loop (DiskFsOptions.loopWrites); undefined: never. */
  readonly #loopWrites: LoopWriteGate | undefined;
  /** Whether the server should sweep stale uploads at start (DiskFsOptions.sweepStaleUploads). */
  readonly sweepsUploads: boolean;
  #realRoot: Promise<string> | undefined;
  /** The root's real path once known (the synchronous small-file path needs it). */
  #realRootValue: string | undefined;

  constructor(root: string, options: DiskFsOptions = {}) {
    this.root = root;
    this.#concurrency = options.statConcurrency ?? 16;
    const shared = (options as { [kSharedLister]?: DirectoryLister })[kSharedLister];
    this.#lister = options.listerThread === false ? undefined : (shared ?? new DirectoryLister());
    this.#ownsLister = this.#lister !== undefined && shared === undefined;
    this.#local = options.local !== false;
    this.#smallFileBytes = this.#local ? (options.smallFileBytes ?? SMALL_FILE_BYTES) : 0;
    this.#staleUploadMs = Math.max(0, options.staleUploadMs ?? 0);
    this.#fsync = options.fsync !== false;
    const clock = (options as { [kLoopWriteClock]?: LoopWriteClock })[kLoopWriteClock];
    this.#loopWrites = this.#local && options.loopWrites !== false ? new LoopWriteGate(clock) : undefined;
    this.sweepsUploads = options.sweepStaleUploads !== false;
  }

  /**
   * Removes the temporary files (`.gorgon-upload-*`) that uploads cut off by a crash left in
   * the tree (and last changed `staleUploadMs` ago): those of processes of this host that are
   * gone (the writer's host and pid are in the name), those of other hosts unchanged for a day,
   * and those without a writer in the name last changed before this process started. An upload
   * in progress, in this process or another server sharing the root, is never touched. Breadth-first, symlinks not followed, at most
   * SWEEP_MAX_DIRS directories. The server runs it in the background when it starts listening.
   */
  async sweepStaleUploads(): Promise<UploadSweepResult> {
    const deadBefore = Date.now() - this.#staleUploadMs;
    const before = Math.min(performance.timeOrigin, deadBefore);
    const foreignBefore = Math.min(before, Date.now() - FOREIGN_STALE_MS);
    return sweepUploads(await this.#root(), { prefix: TEMP_PREFIX, before, deadBefore, foreignBefore, maxDirs: SWEEP_MAX_DIRS });
  }

  /**
   * Ends the helper threads of large listings, if any were made: nothing of this DiskFs is
   * left in the process. It stays usable (a later large listing makes threads again, to be
   * ended by another close). The FTP server closes, when it closes, the DiskFs it made and
   * those given to it (`fs`, `anonymous.fs`); one an `fs` factory returns is the embedder's.
   */
  async close(): Promise<void> {
    if (this.#ownsLister) await this.#lister?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async stat(path: string): Promise<FileStat> {
    const real = await this.#resolve(path);
    try {
      return toStat(baseName(path), await stat(h(real)));
    } catch (err) {
      throw toFsError(err, path);
    }
  }

  async list(path: string): Promise<FileStat[]> {
    const out: FileStat[] = [];
    for await (const batch of await this.listBatches(path)) for (const st of batch) out.push(st);
    return out;
  }

  /**
   * The entries sorted by name, in batches: a large directory is statted in slices on the
   * helper threads, and each slice is yielded as soon as it and those before it are done, so
   * a listing is formatted and sent while the threads stat the rest. Errors about the
   * directory itself come from the returned promise, before any batch.
   */
  async listBatches(path: string): Promise<AsyncIterable<FileStat[]>> {
    const dir = this.#resolveNow(path) ?? (await this.#resolve(path));
    let names: string[];
    try {
      // Names only: the lstat of each entry says what it is (no Dirent object per entry).
      names = await readdir(h(dir));
      // A name that is not UTF-8 came back with U+FFFD: read it again as bytes (names.ts).
      if (names.some((name) => name.includes('\uFFFD'))) names = (await readdir(h(dir), { encoding: 'buffer' })).map(decodeName);
    } catch (err) {
      throw toFsError(err, path);
    }
    // Sorted here (code-unit order, as listings sort): slices then come back in order.
    names = names.filter((name) => !name.startsWith(TEMP_PREFIX)).sort();
    if (!this.#lister || names.length < LISTER_THRESHOLD) {
      const all = await this.#statOnPool(dir, names);
      return (async function* () {
        yield all;
      })();
    }
    const slices = this.#lister.slices(dir, names, LISTER_SLICES);
    return this.#batches(dir, slices);
  }

  async *#batches(dir: string, slices: ReturnType<DirectoryLister['slices']>): AsyncGenerator<FileStat[]> {
    for (const slice of slices) {
      let listed: ListedStats;
      try {
        listed = await slice.stats;
      } catch {
        // The helper thread is gone: stat this slice on the thread pool instead.
        yield await this.#statOnPool(dir, [...slice.names]);
        continue;
      }
      const out: FileStat[] = [];
      const names = slice.names;
      for (let i = 0, o = 0; i < names.length; i++, o += LISTED_FIELDS) {
        const kind = listed[o]!;
        if (kind < 0) continue; // vanished since readdir
        if (kind === LISTED_SYMLINK) {
          // Symlinks (rare) are resolved one by one and refused when they lead outside the root.
          const st = await this.#linkStat(dir, names[i]!);
          if (st) out.push(st);
          continue;
        }
        out.push(
          new ListedStat(
            names[i]!,
            kind === 0 ? 'file' : kind === 1 ? 'dir' : 'other',
            kind === 0 ? listed[o + 1]! : 0,
            listed[o + 2]!,
            listed[o + 3]! & 0o7777,
            listed[o + 4]!,
            listed[o + 5]!,
          ),
        );
      }
      yield out;
    }
  }

  /** A symlink entry: followed when it stays inside the root, `other` when it leads out. */
  async #linkStat(dir: string, name: string): Promise<FileStat | undefined> {
    const full = join(dir, name);
    try {
      const target = await this.#inside(full);
      return target ? toStat(name, await stat(h(target))) : { ...toStat(name, await lstat(h(full))), kind: 'other' };
    } catch {
      return undefined;
    }
  }

  async #statOnPool(dir: string, names: string[]): Promise<FileStat[]> {
    const out = new Array<FileStat | undefined>(names.length);
    const symlinks: number[] = [];
    // A bounded pool of callback lstats (no promise per entry): the thread pool is the limit,
    // and a few workers keep it busy without queueing 10,000 requests at once.
    await new Promise<void>((resolve) => {
      let next = 0;
      let running = 0;
      const start = (): void => {
        while (running < this.#concurrency && next < names.length) {
          const i = next++;
          const name = names[i]!;
          running++;
          lstatCb(h(join(dir, name)), (err, st) => {
            running--;
            if (err) {
              // vanished between readdir and stat
            } else if (st.isSymbolicLink()) symlinks.push(i);
            else out[i] = toStat(name, st);
            start();
          });
        }
        if (running === 0 && next >= names.length) resolve();
      };
      start();
    });
    // Symlinks (rare) are resolved one by one and refused when they lead outside the root.
    for (const i of symlinks.sort((a, b) => a - b)) out[i] = await this.#linkStat(dir, names[i]!);
    return out.filter((s): s is FileStat => s !== undefined);
  }

  async openRead(path: string, start = 0): Promise<ReadableFile> {
    const small = this.#smallFileBytes > 0 ? this.#readSmall(path, start) : undefined;
    if (small) return small;
    const real = await this.#resolve(path);
    let handle: FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO planted in the root must not park a thread-pool thread.
      handle = await open(h(real), constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw toFsError(err, path);
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw new FsError('is-dir', `${path} is not a regular file`);
    }
    // Bounded by the size at open: a 1 MiB buffer per read of a 4 KiB file would feed the GC.
    const size = st.size;
    let position = start;
    const readInto = async (buffer: Buffer): Promise<number> => {
      const want = Math.min(buffer.length, size - position);
      if (want <= 0) return 0;
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      position += bytesRead;
      return bytesRead;
    };
    return Object.assign(new FileProducer(handle, { start, end: size }), { size, readInto });
  }

  /**
   * A small regular file read whole with synchronous calls (one RETR of a 4 KiB file then costs
   * no thread-pool round trip), or undefined to take the asynchronous path: a larger file, a
   * root not yet resolved, or any failure (that path then gives the reply). The confinement
   * checks are those of #resolve on the same real path, and O_NOFOLLOW makes sure the file
   * opened is that checked path, not a symlink swapped in since. Bytes past the size seen at
   * open are not sent (as on the asynchronous path); a file cut short sends what is left.
   */
  #readSmall(path: string, start: number): ReadableFile | undefined {
    const real = this.#directChild(path) ?? this.#resolveNow(path);
    if (real === undefined) return undefined;
    let fd: number;
    try {
      fd = openSync(h(real), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch {
      return undefined;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > this.#smallFileBytes) return undefined;
      const want = Math.max(0, st.size - start);
      const buffer = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buffer, got, want - got, start + got);
        if (n === 0) break; // shrunk since fstat
        got += n;
      }
      return readFile(st.size, got === want ? buffer : buffer.subarray(0, got));
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  async openWrite(path: string, options: WriteOptions): Promise<WritableFile> {
    const dir = await this.#resolve(parentPath(path));
    const name = baseName(path);
    if (name === '') throw new FsError('invalid-path', 'cannot write the root');
    const target = join(dir, name);
    const existing = await lstat(h(target)).catch(() => undefined);
    let real = target;
    if (existing?.isSymbolicLink()) {
      const inside = await this.#inside(target);
      if (!inside) throw new FsError('denied', `${path} points outside the root`);
      real = inside;
    }
    const current = existing?.isSymbolicLink() ? await stat(h(real)).catch(() => undefined) : existing;
    if (current?.isDirectory()) throw new FsError('is-dir', `${path} is a directory`);
    if (options.mode === 'replace') return this.#replace(path, dir, target, current?.mode, options.exclusive === true);
    if (!current && options.mode === 'resume') throw new FsError('not-found', `${path} does not exist`);
    let handle: FileHandle;
    try {
      const flags = options.mode === 'append' ? constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT : constants.O_RDWR;
      handle = await open(h(real), flags | constants.O_NONBLOCK, 0o644);
    } catch (err) {
      throw toFsError(err, path);
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new FsError('denied', `${path} is not a regular file`);
    }
    let position = options.mode === 'resume' ? (options.offset ?? 0) : null;
    let done = false;
    const finish = async (): Promise<void> => {
      if (done) return;
      done = true;
      await handle.close().catch(() => undefined);
    };
    return {
      write: async (data) => {
        await writeAll(handle, data, position).catch((err: unknown) => Promise.reject(toFsError(err, path)));
        if (position !== null) position += data.length;
        // APPE changes the file in place: flush each chunk so a cut connection keeps what was acknowledged.
        else if (this.#fsync) await handle.datasync();
      },
      commit: async () => {
        try {
          if (position !== null) await handle.truncate(position);
          if (this.#fsync) await handle.sync();
        } catch (err) {
          throw toFsError(err, path);
        } finally {
          await finish();
        }
      },
      abort: finish,
    };
  }

  async rename(from: string, to: string): Promise<void> {
    const src = join(await this.#resolve(parentPath(from)), baseName(from));
    const dst = join(await this.#resolve(parentPath(to)), baseName(to));
    if (baseName(from) === '' || baseName(to) === '') throw new FsError('denied', 'cannot rename the root');
    try {
      await rename(h(src), h(dst));
    } catch (err) {
      throw toFsError(err, from);
    }
  }

  async mkdir(path: string): Promise<void> {
    const dir = await this.#resolve(parentPath(path));
    if (baseName(path) === '') throw new FsError('exists', '/ exists');
    await mkdir(h(join(dir, baseName(path)))).catch((err: unknown) => Promise.reject(toFsError(err, path)));
  }

  async rmdir(path: string): Promise<void> {
    if (baseName(path) === '') throw new FsError('denied', 'cannot remove the root');
    const target = join(await this.#resolve(parentPath(path)), baseName(path));
    await rmdir(h(target)).catch((err: unknown) => Promise.reject(toFsError(err, path)));
  }

  async unlink(path: string): Promise<void> {
    const target = join(await this.#resolve(parentPath(path)), baseName(path));
    const st = await lstat(h(target)).catch((err: unknown) => Promise.reject(toFsError(err, path)));
    if (st.isDirectory()) throw new FsError('is-dir', `${path} is a directory`);
    await unlink(h(target)).catch((err: unknown) => Promise.reject(toFsError(err, path)));
  }

  async setMtime(path: string, mtime: Date): Promise<void> {
    const real = await this.#resolve(path);
    await utimes(h(real), mtime, mtime).catch((err: unknown) => Promise.reject(toFsError(err, path)));
  }

  async chmod(path: string, mode: number): Promise<void> {
    const real = await this.#resolve(path);
    await chmod(h(real), mode & 0o7777).catch((err: unknown) => Promise.reject(toFsError(err, path)));
  }

  async #replace(path: string, dir: string, target: string, oldMode: number | undefined, exclusive: boolean): Promise<WritableFile> {
    // The writer's host and pid in the name: a server sharing the root knows a live upload's file.
    const temp = join(dir, `${TEMP_PREFIX}${uploadTag()}${randomBytes(8).toString('hex')}`);
    let handle: FileHandle;
    try {
      // 'wx' (O_EXCL) never follows a symlink planted under the temporary name.
      handle = await open(h(temp), 'wx', oldMode === undefined ? 0o644 : oldMode & 0o7777);
    } catch (err) {
      throw toFsError(err, path);
    }
    let state: 'open' | 'committed' | 'aborted' = 'open';
    const abort = async (): Promise<void> => {
      if (state !== 'open') return;
      state = 'aborted';
      await handle.close().catch(() => undefined);
      await unlink(h(temp)).catch(() => undefined);
    };
    return {
      write: async (data) => {
        try {
          const gate = this.#loopWrites;
          if (gate?.open()) gate.run(() => writeAllNow(handle.fd, data));
          else await writeAll(handle, data, null);
        } catch (err) {
          throw toFsError(err, path);
        }
      },
      writev: async (parts) => {
        try {
          const gate = this.#loopWrites;
          if (gate?.open()) gate.run(() => writeAllvNow(handle.fd, parts));
          else await writeAllv(handle, parts);
        } catch (err) {
          throw toFsError(err, path);
        }
      },
      commit: async () => {
        if (state !== 'open') return;
        try {
          if (this.#fsync) await handle.sync();
          await handle.close();
          if (exclusive) {
            await link(h(temp), h(target)); // fails with EEXIST instead of replacing (STOU)
            await unlink(h(temp));
          } else {
            await rename(h(temp), h(target));
          }
          state = 'committed';
          if (this.#fsync) await syncDir(dir);
        } catch (err) {
          await abort();
          throw toFsError(err, path);
        }
      },
      abort,
    };
  }

  /**
   * The host path of an entry directly in the root ("/name"), for an open with O_NOFOLLOW: the
   * root's real path is known and O_NOFOLLOW refuses a symlink as the last (here the only)
   * component, so the file opened cannot lie outside, and the realpath (a readlink per
   * component of the root) is not needed. A symlink fails the open (ELOOP) and takes the
   * checked path.
   */
  #directChild(path: string): string | undefined {
    const root = this.#realRootValue;
    if (!this.#local || root === undefined || path.lastIndexOf('/') !== 0 || path.includes('\0')) return undefined;
    const name = path.slice(1);
    return name === '' || name === '.' || name === '..' ? undefined : join(root, name);
  }

  /**
   * #resolve with one synchronous realpath (same libc call as the thread pool's) on a local
   * root, or undefined to take #resolve: not local, the root not resolved yet, or any failure
   * or refusal (#resolve then gives the error).
   */
  #resolveNow(path: string): string | undefined {
    const root = this.#realRootValue;
    if (!this.#local || root === undefined || path.includes('\0')) return undefined;
    try {
      const real = realpathNow(join(root, path));
      return isInside(root, real) ? real : undefined;
    } catch {
      return undefined;
    }
  }

  /** The real path of a virtual path, refused when it resolves outside the root. */
  async #resolve(path: string): Promise<string> {
    if (path.includes('\0')) throw new FsError('invalid-path', 'NUL in path');
    const root = await this.#root();
    const host = join(root, path);
    let real: string;
    try {
      real = await realpathName(host);
    } catch (err) {
      // A missing entry: check its parent instead, so creating "new.txt" works.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path === '/' || path === '') throw toFsError(err, path);
      const parent = await this.#resolve(parentPath(path));
      return join(parent, baseName(path));
    }
    if (!isInside(root, real)) throw new FsError('denied', `${path} resolves outside the root`);
    return real;
  }

  /** The real target of `host` if it lies inside the root, else undefined. */
  async #inside(host: string): Promise<string | undefined> {
    const root = await this.#root();
    const real = await realpathName(host).catch(() => undefined);
    return real !== undefined && isInside(root, real) ? real : undefined;
  }

  #root(): Promise<string> {
    this.#realRoot ??= realpathName(this.root).then(
      (real) => (this.#realRootValue = real),
      (err: unknown) => {
        this.#realRoot = undefined;
        throw toFsError(err, `root ${this.root}`);
      },
    );
    return this.#realRoot;
  }
}
