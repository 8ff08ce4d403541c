import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient, parseHttpUrl, type HttpTarget } from './client-http.js';
import type { HttpResponseHead } from './client-connection.js';
import { HttpClientError, HttpStatusError } from './client-errors.js';
import { describeGetError, isRetryable } from './client-get-errors.js';
import type { GetEvent, GetFileInfo, GetOptions, GetOutcome, GetResult } from './client-get-types.js';

/** The suffix of a file being downloaded. */
export const PART_SUFFIX = '.part';

/** Statuses that redirect a GET (RFC 9110 §15.4.2–§15.4.4, §15.4.8, §15.4.9). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A slot limiter: `parallel` in all, `perHost` per server. */
class Slots {
  #active = 0;
  readonly #perServer = new Map<string, number>();
  readonly #waiters: Array<{ server: string; go: () => void }> = [];
  constructor(
    readonly parallel: number,
    readonly perHost: number,
  ) {}

  async take(server: string): Promise<void> {
    if (this.#free(server)) return this.#claim(server);
    await new Promise<void>((go) => this.#waiters.push({ server, go }));
  }

  give(server: string): void {
    this.#active--;
    this.#perServer.set(server, (this.#perServer.get(server) ?? 1) - 1);
    const i = this.#waiters.findIndex((w) => this.#free(w.server));
    if (i === -1) return;
    const [w] = this.#waiters.splice(i, 1);
    this.#claim(w!.server);
    w!.go();
  }

  #free(server: string): boolean {
    return this.#active < this.parallel && (this.#perServer.get(server) ?? 0) < this.perHost;
  }

  #claim(server: string): void {
    this.#active++;
    this.#perServer.set(server, (this.#perServer.get(server) ?? 0) + 1);
  }
}

interface Job {
  file: GetFileInfo;
  target: HttpTarget;
}

/** The file name a URL is saved under: its last path segment, decoded, or `index.html`. */
export function localNameFor(path: string): string {
  const last = path.split('?')[0]!.split('/').pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  // A decoded segment may hold a slash, a NUL or dots: only a plain name leaves the URL.
  name = basename(name.replace(/\0/g, ''));
  return name === '' || name === '.' || name === '..' ? 'index.html' : name;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The seed's GET client as a grabber: fetches every URL given, from as many servers as given, at
 * most `parallel` requests at once (`perHost` to one server), over kept-alive connections reused
 * per server. Each file goes to `<name>.part` and is renamed when complete; a `.part` left by an
 * earlier run is resumed with `Range: bytes=N-` (a server that answers 200 instead of 206 is
 * fetched whole again). Redirects are followed up to `maxRedirects`. Failures do not stop the
 * run: they are in the result, each naming its URL.
 * @see RFC 9110 §14.2 (Range), §15.3.7 (206), §15.5.17 (416), §15.4 (redirection)
 * @throws HttpClientError `bad-url` before any connection when a URL cannot be used.
 */
export async function getUrls(urls: readonly string[], options: GetOptions): Promise<GetResult> {
  if (options.outFile !== undefined && urls.length !== 1)
    throw new HttpClientError('bad-url', `an output file can be given for one URL only, not ${urls.length}`);
  const outDir = resolve(options.outDir);
  const taken = new Map<string, number>();
  let id = options.firstId ?? 1;
  const jobs: Job[] = urls.map((url) => {
    const target = parseHttpUrl(url);
    const dir = options.hostDirs
      ? join(outDir, target.port === (target.secure ? 443 : 80) ? target.host : `${target.host}_${target.port}`)
      : outDir;
    let localPath = options.outFile !== undefined ? resolve(options.outFile) : join(dir, localNameFor(target.path));
    // Two URLs with the same last segment: the later ones get .1, .2 (as wget does).
    const n = taken.get(localPath) ?? 0;
    taken.set(localPath, n + 1);
    if (n > 0) localPath = `${localPath}.${n}`;
    return { target, file: { id: id++, url, server: target.origin, remotePath: target.path, localPath } };
  });
  await mkdir(outDir, { recursive: true });
  const parallel = Math.max(1, Math.floor(options.parallel ?? 4));
  const run = new GetRun(options, new Slots(parallel, Math.max(1, Math.floor(options.perHost ?? parallel))));
  return run.run(jobs);
}

class GetRun {
  readonly #client: HttpClient;
  readonly #lastProgress = new Map<number, number>();

  constructor(
    readonly options: GetOptions,
    readonly slots: Slots,
  ) {
    this.#client = new HttpClient({
      timeoutMs: options.timeoutMs ?? 30_000,
      maxIdlePerServer: slots.perHost,
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  #emit(e: GetEvent): void {
    this.options.onProgress?.(e);
  }

  async run(jobs: Job[]): Promise<GetResult> {
    // An abort reaches each request through its signal; idle connections close at the end.
    try {
      const outcomes = await Promise.all(jobs.map((job) => this.#one(job)));
      const failed = outcomes.filter((o) => o.status === 'failed');
      return {
        outcomes,
        failed,
        done: outcomes.filter((o) => o.status === 'done').length,
        skipped: outcomes.filter((o) => o.status === 'skipped').length,
        bytes: outcomes.reduce((n, o) => n + o.bytes, 0),
      };
    } finally {
      this.#client.close();
    }
  }

  async #one(job: Job): Promise<GetOutcome> {
    const retries = Math.max(0, Math.floor(this.options.retries ?? 2));
    let bytes = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.#download(job, (n) => (bytes += n));
        if (r.skipped) {
          this.#emit({ type: 'skipped', file: job.file, size: r.size });
          return { url: job.file.url, file: job.file, status: 'skipped', bytes };
        }
        this.#emit({ type: 'done', file: job.file, bytes: r.received, resumedFrom: r.offset, size: r.size });
        return { url: job.file.url, file: job.file, status: 'done', bytes };
      } catch (err) {
        const message = describeGetError(err, job.file.url, job.target.origin);
        if (this.options.signal?.aborted || attempt >= retries || !isRetryable(err)) {
          this.#emit({ type: 'failed', url: job.file.url, file: job.file, message });
          return { url: job.file.url, file: job.file, status: 'failed', bytes, message, error: err };
        }
        this.#emit({ type: 'retry', url: job.file.url, file: job.file, attempt: attempt + 1, message });
        await sleep(
          (this.options.retryDelayMs ?? 500) * 2 ** attempt,
          undefined,
          this.options.signal ? { signal: this.options.signal } : {},
        ).catch(() => undefined);
      }
    }
  }

  /** One try at one URL: redirects followed, resumed from the `.part` when there is one. */
  async #download(
    job: Job,
    count: (n: number) => void,
  ): Promise<{ skipped: boolean; received: number; offset: number; size: number | undefined }> {
    const { localPath } = job.file;
    const part = `${localPath}${PART_SUFFIX}`;
    await mkdir(dirname(localPath), { recursive: true });
    let offset = (await sizeOf(part)) ?? 0;
    const existing = offset === 0 ? await sizeOf(localPath) : undefined;
    // A finished file from an earlier run is left alone when the server's length is its length,
    // as the FTP grabber does with SIZE; HEAD asks without the body (RFC 9110 §9.3.2).
    if (existing !== undefined && (await this.#remoteLength(job.file.url)) === existing) {
      return { skipped: true, received: 0, offset: 0, size: existing };
    }
    let url = job.file.url;
    let restarted = 0;
    const maxRedirects = this.options.maxRedirects ?? 10;
    for (let hop = 0; ; hop++) {
      const target = parseHttpUrl(url);
      const state: Transfer = {
        redirect: undefined,
        restart: false,
        complete: false,
        error: undefined,
        sink: undefined,
        offset,
        size: undefined,
        received: 0,
      };
      await this.slots.take(target.origin);
      try {
        await this.#client.request(url, {
          headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
          ...(this.options.signal ? { signal: this.options.signal } : {}),
          onHead: (head) => this.#onHead(job, url, part, head, state, count),
        });
        if (state.sink) await closeSink(state.sink);
        if (state.error) throw state.error;
        if (state.restart) {
          await unlink(part).catch(() => undefined);
          offset = 0;
          if (restarted++ > 0) throw new HttpClientError('protocol', `the server refused a range twice`);
          continue;
        }
        if (state.redirect === undefined) {
          if (!state.complete && state.size !== undefined && state.offset + state.received !== state.size) {
            throw new HttpClientError('closed', `received ${state.offset + state.received} of ${state.size} bytes`);
          }
          await rename(part, localPath).catch((err: unknown) => {
            throw new HttpClientError('local-io', `cannot save ${localPath}: ${err instanceof Error ? err.message : String(err)}`, {
              cause: err,
            });
          });
          return { skipped: false, received: state.received, offset: state.offset, size: state.size ?? state.offset + state.received };
        }
      } catch (err) {
        // What arrived is kept (written out, not dropped) so the next run resumes after it.
        if (state.sink && !state.sink.closed) await closeSink(state.sink).catch(() => state.sink?.destroy());
        if (state.offset === 0 && state.received === 0) await unlink(part).catch(() => undefined);
        throw err;
      } finally {
        this.slots.give(target.origin);
      }
      if (hop >= maxRedirects) throw new HttpClientError('redirects', `more than ${maxRedirects} redirects`);
      url = state.redirect;
      offset = (await sizeOf(part)) ?? 0;
    }
  }

  /** The length a HEAD request announces (after no redirect), or undefined. */
  async #remoteLength(url: string): Promise<number | undefined> {
    const origin = parseHttpUrl(url).origin;
    await this.slots.take(origin);
    try {
      const head = await this.#client.request(url, { method: 'HEAD', ...(this.options.signal ? { signal: this.options.signal } : {}) });
      const length = head.headers['content-length'];
      return head.status === 200 && length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    } finally {
      this.slots.give(origin);
    }
  }

  /** Decides from the status what the body is: the file, a redirect, or an error page. */
  #onHead(
    job: Job,
    url: string,
    part: string,
    head: HttpResponseHead,
    t: Transfer,
    count: (n: number) => void,
  ): ((chunk: Buffer) => void | Promise<void>) | undefined {
    const location = head.headers.location;
    if (REDIRECTS.has(head.status) && location !== undefined) {
      try {
        t.redirect = new URL(location, url).href;
      } catch {
        t.error = new HttpClientError('protocol', `the server redirected to an invalid URL (${location.slice(0, 200)})`);
      }
      return undefined;
    }
    if (head.status === 416 && t.offset > 0) {
      // The .part already holds the whole file when the server's length equals it (RFC 9110 §14.4).
      const whole = /^bytes \*\/(\d+)$/.exec(head.headers['content-range'] ?? '');
      if (whole && Number(whole[1]) === t.offset) {
        t.complete = true;
        t.size = t.offset;
        this.#emit({ type: 'start', file: job.file, size: t.size, offset: t.offset });
        return undefined;
      }
      // The file on the server is now shorter than the .part: start over, as the FTP grabber does.
      t.restart = true;
      return undefined;
    }
    if (head.status !== 200 && head.status !== 206) {
      t.error = new HttpStatusError(head.status, head.statusText, url);
      return undefined;
    }
    const length = head.headers['content-length'];
    if (head.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(head.headers['content-range'] ?? '');
      if (!m || Number(m[1]) !== t.offset)
        throw new HttpClientError('protocol', `the server sent a range other than the one asked for (bytes ${t.offset}-)`);
      t.size = m[3] === '*' ? undefined : Number(m[3]);
    } else {
      // 200 to a Range request: the server sends the whole file, so start over (RFC 9110 §14.2).
      t.offset = 0;
      t.size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    }
    const sink = createWriteStream(part, { flags: t.offset > 0 ? 'a' : 'w', highWaterMark: 1024 * 1024, flush: true });
    sink.on('error', (err) => (t.error ??= new HttpClientError('local-io', `cannot write ${part}: ${err.message}`, { cause: err })));
    t.sink = sink;
    this.#emit({ type: 'start', file: job.file, size: t.size, offset: t.offset });
    const every = this.options.progressIntervalMs ?? 100;
    // One wait for 'drain' at a time: the connection hands over every read of a body piece
    // before it waits, so several writes can find the stream full (a listener each, before,
    // and Node's MaxListenersExceededWarning on stderr past ten).
    let drained: Promise<void> | undefined;
    return (chunk) => {
      if (t.error) throw t.error;
      t.received += chunk.length;
      count(chunk.length);
      const now = Date.now();
      if (now - (this.#lastProgress.get(job.file.id) ?? 0) >= every) {
        this.#lastProgress.set(job.file.id, now);
        this.#emit({ type: 'progress', file: job.file, received: t.offset + t.received, size: t.size });
      }
      if (sink.write(chunk)) return undefined;
      // A stream that fails (a full disk) never drains: its close ends the wait too, and the
      // error set above fails the transfer.
      drained ??= new Promise<void>((go) => {
        const done = (): void => {
          sink.off('drain', done);
          sink.off('close', done);
          drained = undefined;
          go();
        };
        sink.once('drain', done);
        sink.once('close', done);
      });
      return drained;
    };
  }
}

interface Transfer {
  redirect: string | undefined;
  /** The .part is longer than the file now is (416): delete it and fetch the whole file. */
  restart: boolean;
  complete: boolean;
  error: Error | undefined;
  sink: WriteStream | undefined;
  offset: number;
  size: number | undefined;
  received: number;
}

/** Ends the file stream and waits until its data is on disk (`flush` fsyncs before close). */
function closeSink(sink: WriteStream): Promise<void> {
  if (sink.closed) return Promise.resolve();
  return new Promise<void>((done, fail) => {
    sink.once('close', () => done());
    sink.once('error', fail);
    sink.end();
  });
}
