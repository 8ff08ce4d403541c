import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { errorText } from '@gorgon/core';
import { dirname } from 'node:path';
import type { FtpClient } from './client.js';
import { FtpClientError, FtpError } from './client-errors.js';

/** One file to fetch, with what is known about it before the transfer. */
export interface FileJob {
  remotePath: string;
  /** Absolute local path of the finished file; the download goes to `<localPath>.part` first. */
  localPath: string;
  size?: number;
  modifiedAt?: Date;
}

/** How a file fetch ended. */
export interface FileFetchResult {
  status: 'done' | 'skipped';
  /** Bytes received in this transfer. */
  bytes: number;
  /** Bytes already on disk that the transfer resumed from. */
  resumedFrom: number;
  size: number | undefined;
}

/** Progress of one file: bytes on disk so far (resumed part included) and the size if known. */
export type FileProgress = (received: number, size: number | undefined) => void;

/** The suffix of a file being downloaded. */
export const PART_SUFFIX = '.part';

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

/** Asks a question the server may not answer (SIZE, MDTM): a refusal means "unknown". */
async function optional<T>(ask: () => Promise<T>): Promise<T | undefined> {
  try {
    return await ask();
  } catch (err) {
    if (err instanceof FtpError && err.code >= 500 && err.code !== 550) return undefined;
    if (err instanceof FtpError && err.code === 550) throw err;
    if (err instanceof FtpError) return undefined;
    throw err;
  }
}

/**
 * Downloads one file the careful way: into `<name>.part`, resuming from its length with REST
 * when the server allows, checking the length against SIZE, setting the time from MDTM, and
 * renaming to the final name only when complete, so a crash or a cut connection never leaves a
 * torn file under the final name. A final file of the server's size is left alone.
 * @see RFC 3659 §3 (MDTM), §4 (SIZE), §5 (REST)
 */
export async function fetchFile(client: FtpClient, job: FileJob, onProgress: FileProgress): Promise<FileFetchResult> {
  const size = job.size ?? (await optional(() => client.size(job.remotePath)));
  const existing = await sizeOf(job.localPath);
  if (existing !== undefined && size !== undefined && existing === size) {
    return { status: 'skipped', bytes: 0, resumedFrom: 0, size };
  }
  const modifiedAt = job.modifiedAt ?? (await optional(() => client.modifiedTime(job.remotePath)));
  const part = `${job.localPath}${PART_SUFFIX}`;
  await mkdir(dirname(job.localPath), { recursive: true });
  const partSize = await sizeOf(part);
  let offset = partSize ?? 0;
  // An empty remote file needs no transfer, only an empty file to publish.
  if (size === 0 && partSize === undefined) await writeFile(part, '');
  if (size !== undefined && offset > size) {
    // The remote file shrank since the partial download: start over.
    await truncate(part, 0);
    offset = 0;
  }
  let received = 0;
  if (size === undefined || offset < size) {
    received = await download(client, job.remotePath, part, offset, size, onProgress).catch(async (err: unknown) => {
      // 502/504 to REST: no resume here, so fetch the whole file again.
      if (offset > 0 && err instanceof FtpError && err.command.startsWith('REST') && err.code >= 500) {
        offset = 0;
        return download(client, job.remotePath, part, 0, size, onProgress);
      }
      throw err;
    });
  }
  const total = offset + received;
  if (size !== undefined && total !== size) {
    throw new FtpClientError('data-connection', `${job.remotePath}: received ${total} of ${size} bytes`);
  }
  if (modifiedAt) await utimes(part, modifiedAt, modifiedAt);
  await rename(part, job.localPath);
  return { status: 'done', bytes: received, resumedFrom: offset, size: size ?? total };
}

async function download(
  client: FtpClient,
  remotePath: string,
  part: string,
  offset: number,
  size: number | undefined,
  onProgress: FileProgress,
): Promise<number> {
  // Open before asking the server for anything: a file that cannot be written fails at once.
  let handle;
  try {
    handle = await open(part, offset > 0 ? 'a' : 'w');
  } catch (err) {
    throw new FtpClientError('local-io', `local file: ${errorText(err)}`, { cause: err });
  }
  // Big writes: the stream gathers what arrives while a write is pending (writev), up to 1 MiB,
  // and `flush` fsyncs before close so the rename only ever publishes data that is on disk.
  const sink = createWriteStream(part, { fd: handle, highWaterMark: 1024 * 1024, flush: true });
  let received = 0;
  onProgress(offset, size);
  try {
    return await client.download(remotePath, sink, {
      offset,
      onData: (n) => {
        received += n;
        onProgress(offset + received, size);
      },
    });
  } catch (err) {
    // Leave no empty .part behind for a file that never started (550 and the like).
    if (offset === 0 && received === 0) await unlink(part).catch(() => undefined);
    throw err;
  } finally {
    if (!sink.closed) sink.destroy();
  }
}
