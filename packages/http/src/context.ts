import type * as tls from 'node:tls';
import {
  checkCommonOptions,
  CommandTable,
  Registry,
  resolveLimits,
  ServerEvents,
  ServerOptionError,
  silentLogger,
  toSecureContext,
  type CommandSpec,
  type CommonServerOptions,
  type Logger,
  type ServerEventMap,
} from '@gorgon/core';
import { AccessLogFile } from './access-log.js';
import { defaultHttpLimits, type HttpLimits } from './defaults.js';
import { httpMethods } from './methods.js';
import type { Target } from './request.js';
import type { HttpMethodSession, HttpSession } from './session.js';
import type { HttpStore } from './store.js';
import { HotFileCache } from './hot-cache.js';
import type { HttpHandler } from './handler.js';

/**
 * A method row: the core's `CommandSpec`, with the method as `verb` and the request target as
 * the argument. HTTP has no command lines, so the table is used for what it does in every
 * protocol (dispatch by verb, rows replaced by an embedder's `commands`, the generated list of
 * what is offered: here the `Allow` field instead of CAPA/FEAT).
 */
export type HttpMethodSpec = CommandSpec<'request', HttpMethodSession>;

/** Options of an HTTP server: the common server options and HTTP's own. */
export interface HttpOptions extends CommonServerOptions<HttpLimits, HttpStore, HttpMethodSpec> {
  /** The files served: `new DiskStore(root)`, `new MemoryStore()`, or your own. */
  store: HttpStore;
  /** A directory without an index file gets a listing page (default true); false: 403. */
  listings?: boolean;
  /** Names tried, in order, for a directory (default `['index.html']`). */
  indexFiles?: readonly string[];
  /** Also append the access log (combined format) to this file. */
  accessLogFile?: string;
  /**
   * An open-file cache (as nginx's `open_file_cache`, with the bytes): files up to
   * `maxFileBytes` are kept in memory, `maxBytes` in all, and answered with no file system call
   * for `validMs` (default 1000) after the store last confirmed them; then the file is opened
   * again and its ETag compared, so a change is served at most `validMs` late. `validMs: 0`
   * checks on every request.
   */
  cache?: { maxBytes: number; maxFileBytes: number; validMs?: number };
  /**
   * Answers GET and HEAD before the store, for pages made on request: returns a response
   * (status, fields, body), or undefined to serve the store's file as usual.
   */
  handler?: HttpHandler;
}

/** Counts an HTTP server keeps on top of the core's connection counters. */
export interface HttpStats {
  requests: number;
  /** Requests refused by a 4xx or 5xx. */
  errors4xx5xx: number;
  bytesServed: number;
  cacheHits: number;
}

/** What every session of a server shares. */
export interface HttpContext {
  readonly limits: HttpLimits;
  readonly store: HttpStore;
  readonly logger: Logger;
  readonly secureContext: tls.SecureContext | undefined;
  readonly listings: boolean;
  readonly indexFiles: readonly string[];
  readonly table: CommandTable<'request', HttpSession>;
  /** `Allow` field value, from the table. */
  readonly allow: string;
  readonly stats: HttpStats;
  readonly events: ServerEvents;
  readonly accessLog: AccessLogFile | undefined;
  /** The logger keeps info lines: the access line is built only when someone keeps it. */
  readonly logsAccess: boolean;
  readonly cache: HotFileCache | undefined;
  /**
   * Sessions waiting for a request's header section (the header deadline): each comes and goes
   * with every request, so a `Registry`, not a `Set` (see the core's README).
   */
  readonly awaitingHeaders: Registry<HttpSession>;
  readonly handler: HttpHandler | undefined;
  /** Request targets already parsed and checked (never changed once made), by the target as sent. */
  readonly targets: Map<string, Target>;
}

/** Checks the options (one {@link ServerOptionError} sentence each) and resolves the context. */
export function createHttpContext(options: HttpOptions): HttpContext {
  checkCommonOptions('http', options);
  if (typeof (options.store as Partial<HttpStore> | undefined)?.open !== 'function') {
    throw new ServerOptionError('http', 'store', 'must be an HttpStore (with open() and list())');
  }
  const limits = resolveLimits('http', defaultHttpLimits, options.limits, {
    maxLineLength: 1,
    maxHeaderBytes: 1,
    maxHeaders: 1,
    maxRanges: 1,
  });
  if (
    options.indexFiles !== undefined &&
    !(Array.isArray(options.indexFiles) && options.indexFiles.every((n) => typeof n === 'string' && n !== '' && !n.includes('/')))
  ) {
    throw new ServerOptionError('http', 'indexFiles', 'must be a list of file names');
  }
  const c = options.cache;
  if (
    c !== undefined &&
    !(Number.isSafeInteger(c.maxBytes) && c.maxBytes > 0 && Number.isSafeInteger(c.maxFileBytes) && c.maxFileBytes > 0)
  ) {
    throw new ServerOptionError('http', 'cache', 'must be { maxBytes, maxFileBytes }, whole numbers of at least 1');
  }
  if (options.handler !== undefined && typeof options.handler !== 'function') {
    throw new ServerOptionError('http', 'handler', 'must be a function');
  }
  if (c?.validMs !== undefined && !(Number.isSafeInteger(c.validMs) && c.validMs >= 0)) {
    throw new ServerOptionError('http', 'cache', 'validMs must be a whole number of milliseconds, 0 or more');
  }
  const table = new CommandTable<'request', HttpSession>([...httpMethods, ...(options.commands ?? [])], {
    loggedIn: () => true,
    permitted: () => true,
  });
  const events = new ServerEvents(options.logger ?? silentLogger);
  for (const [name, fn] of Object.entries(options.on ?? {})) {
    if (fn) events.on(name as keyof ServerEventMap, fn as never);
  }
  return {
    limits,
    store: options.store,
    logger: options.logger ?? silentLogger,
    secureContext: options.tls ? toSecureContext(options.tls) : undefined,
    listings: options.listings ?? true,
    indexFiles: options.indexFiles ?? ['index.html'],
    table,
    allow: table.specs.map((s) => s.verb).join(', '),
    stats: { requests: 0, errors4xx5xx: 0, bytesServed: 0, cacheHits: 0 },
    events,
    accessLog: options.accessLogFile ? new AccessLogFile(options.accessLogFile) : undefined,
    logsAccess: (options.logger ?? silentLogger).isLevelEnabled?.('info') ?? true,
    cache: c ? new HotFileCache(c.maxBytes, c.maxFileBytes, c.validMs ?? 1000) : undefined,
    awaitingHeaders: new Registry(),
    handler: options.handler,
    targets: new Map(),
  };
}
