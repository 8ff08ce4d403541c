import { randomBytes } from 'node:crypto';
import mime from 'mime-types';
import type { BodySegment } from './body-producer.js';
import { FILE_CHUNK_BYTES } from './defaults.js';
import { listingPage } from './listing.js';
import { parseRange, type ByteRange } from './range.js';
import { parseHttpDate } from './response.js';
import type { HttpRequest, HttpSession } from './session.js';
import { statuses } from './statuses.js';
import type { StoreFile } from './store.js';
import { listMembers } from './request.js';
import { CachedFile, fileMeta, type FileMeta } from './hot-cache.js';

/**
 * GET and HEAD of a file or directory from the store. Directories: a redirect to the
 * trailing-slash form, then the index file, else the listing (or 403 when listings are off).
 * Files: validators (Last-Modified, strong ETag), preconditions (§13.2.2 order), Range. With the
 * open-file cache, a small hot file confirmed less than `validMs` ago is answered from memory
 * with no file system call at all.
 * @see RFC 9110 §9.3.1, §9.3.2, §8.8, §13, §14
 */
export function serveStatic(s: HttpSession, req: HttpRequest): void | Promise<void> {
  const { store, cache } = s.ctx;
  if (req.target.asterisk) return s.error(statuses.badRequest);
  const path = req.target.path;
  if (cache !== undefined) {
    const hit = cache.fresh(path, Date.now());
    if (hit !== undefined) {
      s.ctx.stats.cacheHits++;
      return serveFile(s, req, hit.meta, hit, undefined);
    }
  }
  if (store.openNow) {
    // A local disk: the file is opened, checked and (when small) read in this tick.
    const entry = store.openNow(path);
    if (!entry) {
      cache?.drop(path);
      return s.error(statuses.notFound);
    }
    if (entry.kind === 'file') return serveOpened(s, req, entry, path, true);
  }
  return serveStaticAsync(s, req);
}

async function serveStaticAsync(s: HttpSession, req: HttpRequest): Promise<void> {
  const { ctx } = s;
  const path = req.target.path;
  const entry = await ctx.store.open(path);
  if (entry?.kind !== 'file') ctx.cache?.drop(path);
  if (!entry) return s.error(statuses.notFound);
  if (entry.kind === 'directory') {
    if (!path.endsWith('/')) {
      const q = req.target.query ? `?${req.target.query}` : '';
      return s.respond(statuses.movedPermanently, `Location: ${req.target.rawPath}/${q}\r\nContent-Type: text/plain\r\n`, 'moved\n');
    }
    for (const name of ctx.indexFiles) {
      const index = await ctx.store.open(path + name);
      if (index?.kind === 'file') return serveOpened(s, req, index, name, false);
    }
    if (!ctx.listings) return s.error(statuses.forbidden);
    const entries = await ctx.store.list(path);
    if (!entries) return s.error(statuses.notFound);
    return s.respond(statuses.ok, 'Content-Type: text/html; charset=utf-8\r\n', listingPage(path, entries));
  }
  return serveOpened(s, req, entry, path, true);
}

/** Content-Type by extension, from the mime-types database; octet-stream when unknown. */
function contentType(name: string): string {
  const type = mime.lookup(name);
  if (!type) return 'application/octet-stream';
  return mime.contentType(type) || type;
}

/** Files up to this size are read whole and sent as one push when the store reads synchronously. */
const SMALL_FILE_BYTES = 64 * 1024;

/**
 * A file just opened from the store. With the cache, a small file the request path names
 * (`direct`: not a directory's index file) is compared with its entry by ETag: the same, and the
 * entry answers (trusted for another `validMs`); else it is read whole into a new entry.
 */
function serveOpened(s: HttpSession, req: HttpRequest, file: StoreFile, name: string, direct: boolean): void | Promise<void> {
  const cache = s.ctx.cache;
  if (cache !== undefined && direct && file.size <= cache.maxFileBytes) {
    const path = req.target.path;
    const now = Date.now();
    const known = cache.confirm(path, file.etag, now);
    if (known !== undefined) {
      void file.close().catch(() => undefined);
      s.ctx.stats.cacheHits++;
      return serveFile(s, req, known.meta, known, undefined);
    }
    if (!file.readNow) return fillCache(s, req, file, name);
    const data = readWholeNow(file);
    // Written to while it was read: not kept (nor served as a mix); served from the file below.
    if (file.currentEtag === undefined || file.currentEtag() === file.etag) {
      void file.close().catch(() => undefined);
      const entry = new CachedFile(fileMeta(file, contentType(name)), data, now);
      cache.set(path, entry);
      return serveFile(s, req, entry.meta, entry, undefined);
    }
  }
  return serveFile(s, req, fileMeta(file, contentType(name)), undefined, file);
}

/** No precondition and no range: the prepared response answers as it is. */
function plain(f: Map<string, string>): boolean {
  return !(f.has('range') || f.has('if-none-match') || f.has('if-modified-since') || f.has('if-match') || f.has('if-unmodified-since'));
}

/** Answers from a cache entry (`cached`) or an open file (`file`, closed here unless handed on). */
function serveFile(
  s: HttpSession,
  req: HttpRequest,
  meta: FileMeta,
  cached: CachedFile | undefined,
  file: StoreFile | undefined,
): void | Promise<void> {
  const f = req.fields;
  if (cached !== undefined && plain(f)) return s.respondPrepared(cached);
  let closeFile = file !== undefined;
  try {
    const { etag, mtimeSec, validators } = meta;
    // RFC 9110 §13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range.
    const ifMatch = f.get('if-match');
    if (ifMatch !== undefined && !matches(ifMatch, etag, true)) return s.error(statuses.preconditionFailed);
    const ius = f.get('if-unmodified-since');
    if (ifMatch === undefined && ius !== undefined) {
      const t = parseHttpDate(ius);
      if (!Number.isNaN(t) && mtimeSec > t) return s.error(statuses.preconditionFailed);
    }
    const inm = f.get('if-none-match');
    if (inm !== undefined) {
      if (matches(inm, etag, false)) return s.respond(statuses.notModified, validators, undefined);
    } else {
      const ims = f.get('if-modified-since');
      if (ims !== undefined) {
        const t = parseHttpDate(ims);
        if (!Number.isNaN(t) && mtimeSec <= t) return s.respond(statuses.notModified, validators, undefined);
      }
    }
    const type = meta.contentType;
    const size = meta.size;
    let ranges: ByteRange[] | 'unsatisfiable' | undefined;
    const range = f.get('range');
    if (range !== undefined && req.method === 'GET' && ifRangeHolds(f.get('if-range'), etag, mtimeSec)) {
      ranges = parseRange(range, size, s.ctx.limits.maxRanges);
    }
    if (ranges === 'unsatisfiable') {
      return s.respond(statuses.rangeNotSatisfiable, `Content-Range: bytes */${size}\r\n${validators}`, undefined);
    }
    if (!ranges && cached !== undefined) return s.respondPrepared(cached);
    const base = `${validators}Accept-Ranges: bytes\r\n`;
    const source = file ?? cached!.asFile();
    if (!ranges) {
      const fields = `${base}Content-Type: ${type}\r\n`;
      if (req.method === 'HEAD') return s.respond(statuses.ok, fields, undefined, false, size);
      if (source.readNow && size <= SMALL_FILE_BYTES) return s.respond(statuses.ok, fields, readWholeNow(source));
      closeFile = false;
      return s.respondFile(statuses.ok, fields, size, source, (head) => [{ prefix: head, start: 0, end: size }], undefined);
    }
    if (ranges.length === 1) {
      const r = ranges[0]!;
      closeFile = false;
      const fields = `${base}Content-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n`;
      return s.respondFile(
        statuses.partialContent,
        fields,
        r.end - r.start + 1,
        source,
        (head) => [{ prefix: head, start: r.start, end: r.end + 1 }],
        undefined,
      );
    }
    // multipart/byteranges. @see RFC 9110 §14.6
    const boundary = randomBytes(12).toString('hex');
    const partHeads = ranges.map((r) =>
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`, 'latin1'),
    );
    const trailer = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
    const length = partHeads.reduce((n, h, i) => n + h.length + ranges[i]!.end - ranges[i]!.start + 1, trailer.length);
    closeFile = false;
    return s.respondFile(
      statuses.partialContent,
      `${base}Content-Type: multipart/byteranges; boundary=${boundary}\r\n`,
      length,
      source,
      (head) =>
        ranges.map(
          (r, i): BodySegment => ({
            prefix: i === 0 ? Buffer.concat([head, partHeads[0]!]) : partHeads[i]!,
            start: r.start,
            end: r.end + 1,
          }),
        ),
      trailer,
    );
  } finally {
    if (closeFile) void file!.close().catch(() => undefined);
  }
}

/** Reads a small file whole with the store's synchronous read. */
function readWholeNow(file: StoreFile): Buffer {
  const data = Buffer.allocUnsafe(file.size);
  let got = 0;
  while (got < data.length) {
    const n = file.readNow!(data, got, data.length - got, got);
    if (n === 0) return data.subarray(0, got);
    got += n;
  }
  return data;
}

/** Reads a small file whole into the cache (asynchronously), then answers from the entry. */
async function fillCache(s: HttpSession, req: HttpRequest, file: StoreFile, name: string): Promise<void> {
  let handedOn = false;
  try {
    const data = Buffer.allocUnsafe(file.size);
    let got = 0;
    while (got < data.length) {
      const n = await file.read(data, got, data.length - got, got);
      if (n === 0) break;
      got += n;
    }
    const meta = fileMeta(file, contentType(name));
    if (got < data.length || (file.currentEtag !== undefined && file.currentEtag() !== file.etag)) {
      handedOn = true; // changed while read: served from the file, not kept
      return await serveFile(s, req, meta, undefined, file);
    }
    const entry = new CachedFile(meta, data, Date.now());
    s.ctx.cache!.set(req.target.path, entry);
    return await serveFile(s, req, meta, entry, undefined);
  } finally {
    if (!handedOn) await file.close();
  }
}

/** If-Match (strong comparison) and If-None-Match (weak). @see RFC 9110 §13.1.1, §13.1.2, §8.8.3.2 */
function matches(value: string, etag: string, strong: boolean): boolean {
  if (value.trim() === '*') return true;
  return listMembers(value).some((tag) => {
    if (tag.startsWith('W/')) return !strong && tag.slice(2) === etag;
    return tag === etag;
  });
}

/** If-Range: a strong entity tag that matches, or the exact Last-Modified date. @see RFC 9110 §13.1.5 */
function ifRangeHolds(value: string | undefined, etag: string, mtimeSec: number): boolean {
  if (value === undefined) return true;
  if (value.startsWith('"')) return value === etag;
  if (value.startsWith('W/')) return false;
  return parseHttpDate(value) === mtimeSec;
}

export { FILE_CHUNK_BYTES };
