import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Loop } from '@gorgon/core';
import { FtpClient } from './client.js';
import { FtpError } from './client-errors.js';
import { describeFetchError, isRetryable, isServerWide } from './fetch-errors.js';
import { fetchFile } from './fetch-file.js';
import { expandGlob, type RemoteFile } from './fetch-glob.js';
import type { FetchEvent, FetchFileInfo, FetchOptions, FetchOutcome, FetchResult } from './fetch-types.js';
import type { FetchTarget } from './fetch-url.js';

type Job = { kind: 'expand'; target: FetchTarget } | { kind: 'file'; target: FetchTarget; file: FetchFileInfo; remote: RemoteFile };

/** One server (host, port, login, security) and its work. */
interface Server {
  target: FetchTarget;
  queue: Job[];
  /** Workers (connections) this server holds. */
  workers: number;
  /** Workers with a logged-in connection right now. */
  connected: number;
  /** Glob expansions queued or running: files may still come. */
  expanding: number;
  /** Most connections this server takes; lowered when it turns more away (421). */
  limit: number;
  /** Set once connecting failed for good: every later job fails with it. */
  failure?: { message: string; error: unknown };
  waiters: Array<() => void>;
}

/** What a job left behind: the connection to reuse, and whether this worker should stop. */
interface JobEnd {
  client: FtpClient | undefined;
  stop: boolean;
}

const display = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * The grabber's engine, in the seed's spirit: one event loop, many connections. At most
 * `parallel` connections in all and `perHost` per server; each connection takes the next job
 * of its server (a glob to list, or a file) until none is left, so one login serves many files.
 * Servers with fewer connections get free slots first.
 */
export class FetchRun {
  readonly #options: FetchOptions;
  readonly #parallel: number;
  readonly #perHost: number;
  readonly #retries: number;
  readonly #outDir: string;
  readonly #servers = new Map<string, Server>();
  readonly #outcomes: FetchOutcome[] = [];
  readonly #claimed = new Map<string, string>();
  readonly #clients = new Set<FtpClient>();
  readonly #lastProgress = new Map<number, number>();
  /** One housekeeping loop for every connection of the run, as in the seed. */
  readonly #loop = new Loop();
  #active = 0;
  #nextId = 1;
  #aborted = false;
  #finished!: () => void;
  readonly #done = new Promise<void>((resolveDone) => (this.#finished = resolveDone));

  constructor(options: FetchOptions) {
    this.#options = options;
    this.#parallel = Math.max(1, Math.floor(options.parallel ?? 4));
    this.#perHost = Math.max(1, Math.floor(options.perHost ?? this.#parallel));
    this.#retries = Math.max(0, Math.floor(options.retries ?? 2));
    this.#outDir = resolve(options.outDir);
  }

  /** Fetches what `targets` name; resolves when every file has succeeded or failed. */
  async run(targets: readonly FetchTarget[]): Promise<FetchResult> {
    const onAbort = (): void => this.#abort();
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#options.signal?.aborted) this.#abort();
    try {
      for (const target of targets) {
        const server = this.#server(target);
        if (target.glob) {
          server.expanding++;
          server.queue.push({ kind: 'expand', target });
        } else {
          const name = target.path.slice(target.path.lastIndexOf('/') + 1);
          this.#addFile(server, target, { remotePath: target.path, relativePath: name });
        }
      }
      this.#schedule();
      await this.#done;
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
    }
    const failed = this.#outcomes.filter((o) => o.status === 'failed');
    return {
      outcomes: this.#outcomes,
      failed,
      done: this.#outcomes.filter((o) => o.status === 'done').length,
      skipped: this.#outcomes.filter((o) => o.status === 'skipped').length,
      bytes: this.#outcomes.reduce((sum, o) => sum + o.bytes, 0),
    };
  }

  #server(target: FetchTarget): Server {
    let server = this.#servers.get(target.serverKey);
    if (!server) {
      server = { target, queue: [], workers: 0, connected: 0, expanding: 0, limit: this.#perHost, waiters: [] };
      this.#servers.set(target.serverKey, server);
    }
    return server;
  }

  /** Queues one file, unless its local name is unsafe or already taken by another file. */
  #addFile(server: Server, target: FetchTarget, remote: RemoteFile): void {
    const { host, port } = target;
    const base = this.#options.hostDirs ? join(this.#outDir, port === 21 || port === 990 ? host : `${host}_${port}`) : this.#outDir;
    const localPath = resolve(base, remote.relativePath);
    const inside = relative(this.#outDir, localPath);
    const file: FetchFileInfo = {
      id: this.#nextId++,
      url: target.display,
      server: display(host, port),
      remotePath: remote.remotePath,
      localPath,
    };
    if (remote.relativePath === '' || inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      this.#record({
        url: target.display,
        file,
        status: 'failed',
        bytes: 0,
        message: `${remote.remotePath} on ${file.server} has no safe local name.`,
      });
      return;
    }
    const owner = this.#claimed.get(localPath);
    if (owner !== undefined) {
      this.#record({
        url: target.display,
        file,
        status: 'failed',
        bytes: 0,
        message: `${localPath} would be written twice (also from ${owner}); use --host-dirs or separate runs.`,
      });
      return;
    }
    this.#claimed.set(localPath, `${target.display.replace(/[^/]*$/, '')}${remote.relativePath}`);
    server.queue.push({ kind: 'file', target, file, remote });
  }

  /** Starts workers while slots are free, servers with the fewest connections first. */
  #schedule(): void {
    let starved = false;
    for (;;) {
      let best: Server | undefined;
      for (const server of this.#servers.values()) {
        if (server.queue.length === 0 || server.workers >= server.limit) continue;
        if (!best || server.workers < best.workers) best = server;
      }
      if (!best) break;
      if (this.#active >= this.#parallel) {
        starved = true;
        break;
      }
      this.#active++;
      best.workers++;
      void this.#worker(best);
    }
    // Workers parked on their own server's listing give their slot up when others wait.
    if (starved) for (const server of this.#servers.values()) this.#wake(server);
    if (this.#active === 0) this.#finished();
  }

  async #worker(server: Server): Promise<void> {
    let client: FtpClient | undefined;
    let job = server.queue.shift();
    try {
      while (job) {
        const end = await this.#runJob(server, job, client);
        client = end.client;
        if (end.stop) break;
        job = await this.#nextJob(server);
      }
    } finally {
      if (client) {
        server.connected--;
        this.#clients.delete(client);
        await client.quit();
      }
      server.workers--;
      this.#active--;
      this.#schedule();
    }
  }

  /** The server's next job; waits while a listing of this server may still add files. */
  async #nextJob(server: Server): Promise<Job | undefined> {
    for (;;) {
      const job = server.queue.shift();
      if (job || server.expanding === 0 || this.#aborted || this.#othersWaiting(server)) return job;
      await new Promise<void>((wake) => server.waiters.push(wake));
    }
  }

  #othersWaiting(server: Server): boolean {
    for (const other of this.#servers.values()) {
      if (other !== server && other.queue.length > 0 && other.workers < other.limit) return true;
    }
    return false;
  }

  #wake(server: Server): void {
    for (const wake of server.waiters.splice(0)) wake();
  }

  /** Runs one job with its retries; connects (again) when needed. */
  async #runJob(server: Server, job: Job, reuse: FtpClient | undefined): Promise<JobEnd> {
    let client = reuse;
    const drop = (): void => {
      if (!client) return;
      server.connected--;
      this.#clients.delete(client);
      client.close();
      client = undefined;
    };
    for (let attempt = 1; ; attempt++) {
      if (server.failure || this.#aborted) {
        const what = job.kind === 'file' ? job.remote.remotePath : job.target.display;
        this.#failJob(job, server.failure?.message ?? `${what}: interrupted before it started.`, server.failure?.error);
        return { client, stop: false };
      }
      let connecting = false;
      try {
        if (!client || client.closed) {
          drop();
          connecting = true;
          client = await this.#connect(server.target);
          connecting = false;
          server.connected++;
          this.#clients.add(client);
        }
        if (job.kind === 'expand') await this.#expand(server, job.target, client);
        else await this.#download(job.file, job.remote, client);
        return { client, stop: false };
      } catch (err) {
        // A clean negative reply leaves the session usable; anything else ends it.
        if (!(err instanceof FtpError) || client?.closed) drop();
        const path = job.kind === 'file' ? job.remote.remotePath : job.target.path;
        if (this.#aborted) {
          this.#failJob(job, `${path}: interrupted before it finished.`, err);
          return { client, stop: false };
        }
        const message = describeFetchError(err, { host: server.target.host, port: server.target.port, user: server.target.user, path });
        const wide = connecting || isServerWide(err);
        if (wide && server.connected > 0 && isRetryable(err)) {
          // Others are connected: this server takes no more connections (421); leave it to them.
          server.limit = Math.max(1, server.connected);
          server.queue.unshift(job);
          return { client, stop: true };
        }
        if (!isRetryable(err) || attempt > this.#retries) {
          if (wide) this.#failServer(server, message, err);
          this.#failJob(job, message, err);
          return { client, stop: false };
        }
        this.#emit({ type: 'retry', url: job.target.display, ...(job.kind === 'file' ? { file: job.file } : {}), attempt, message });
        await sleep((this.#options.retryDelayMs ?? 500) * 2 ** (attempt - 1));
      }
    }
  }

  #connect(target: FetchTarget): Promise<FtpClient> {
    const o = this.#options;
    return FtpClient.connect({
      host: target.host,
      port: target.port,
      secure: target.secure,
      user: target.user,
      password: target.password,
      ...(o.tls ? { tls: o.tls } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      ...(o.dataTimeoutMs !== undefined ? { dataTimeoutMs: o.dataTimeoutMs } : {}),
      ...(o.passive !== undefined ? { passive: o.passive } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
      loop: this.#loop,
    });
  }

  async #expand(server: Server, target: FetchTarget, client: FtpClient): Promise<void> {
    const files = await expandGlob(client, target.path);
    this.#emit({ type: 'listed', url: target.display, files: files.length });
    if (files.length === 0) {
      this.#record({
        url: target.display,
        status: 'failed',
        bytes: 0,
        message: `no file on ${display(target.host, target.port)} matches ${target.path}.`,
      });
    }
    for (const file of files) this.#addFile(server, target, file);
    this.#expansionDone(server);
  }

  #expansionDone(server: Server): void {
    server.expanding--;
    this.#wake(server);
    this.#schedule();
  }

  async #download(file: FetchFileInfo, remote: RemoteFile, client: FtpClient): Promise<void> {
    let started = false;
    const result = await fetchFile(
      client,
      {
        remotePath: remote.remotePath,
        localPath: file.localPath,
        ...(remote.size !== undefined ? { size: remote.size } : {}),
        ...(remote.modifiedAt ? { modifiedAt: remote.modifiedAt } : {}),
      },
      (received, size) => {
        if (!started) {
          started = true;
          this.#emit({ type: 'start', file, size, offset: received });
          return;
        }
        const now = Date.now();
        const interval = this.#options.progressIntervalMs ?? 100;
        if (received !== size && now - (this.#lastProgress.get(file.id) ?? 0) < interval) return;
        this.#lastProgress.set(file.id, now);
        this.#emit({ type: 'progress', file, received, size });
      },
    );
    this.#lastProgress.delete(file.id);
    if (result.status === 'skipped') {
      this.#record({ url: file.url, file, status: 'skipped', bytes: 0 });
      this.#emit({ type: 'skipped', file, size: result.size });
    } else {
      this.#record({ url: file.url, file, status: 'done', bytes: result.bytes });
      this.#emit({ type: 'done', file, bytes: result.bytes, resumedFrom: result.resumedFrom, size: result.size });
    }
  }

  #failJob(job: Job, message: string, error: unknown): void {
    if (job.kind === 'expand') {
      this.#record({ url: job.target.display, status: 'failed', bytes: 0, message, error });
      this.#expansionDone(this.#server(job.target));
    } else {
      this.#record({ url: job.target.display, file: job.file, status: 'failed', bytes: 0, message, error });
    }
  }

  /** Connecting or logging in failed for good: every queued job of this server fails with it. */
  #failServer(server: Server, message: string, error: unknown): void {
    server.failure = { message, error };
    for (const job of server.queue.splice(0)) this.#failJob(job, message, error);
  }

  #record(outcome: FetchOutcome): void {
    this.#outcomes.push(outcome);
    if (outcome.status === 'failed') {
      this.#emit({
        type: 'failed',
        url: outcome.url,
        ...(outcome.file ? { file: outcome.file } : {}),
        message: outcome.message ?? 'failed.',
      });
    }
  }

  #emit(event: FetchEvent): void {
    try {
      this.#options.onProgress?.(event);
    } catch (err) {
      this.#options.logger?.warn({ event: 'fetch-progress-error' }, String(err));
    }
  }

  #abort(): void {
    this.#aborted = true;
    for (const client of this.#clients) client.close();
    for (const server of this.#servers.values()) this.#wake(server);
  }
}
