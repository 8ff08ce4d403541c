import type { Logger } from '@gorgon/core';
import type { FtpTlsOptions, PassiveMode } from './client-options.js';

/** Options of {@link fetchFiles}. */
export interface FetchOptions {
  /** Where the files go (created if missing). */
  outDir: string;
  /** Connections open at once, over all servers. Default 4. */
  parallel?: number;
  /** Connections open at once to one server. Default: `parallel`. */
  perHost?: number;
  /** Further tries of a file after a transient failure (4yz, lost connection, timeout). Default 2. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. Default 500 ms. */
  retryDelayMs?: number;
  /** Login for URLs that carry none. Default anonymous. */
  user?: string;
  password?: string;
  /** AUTH TLS on `ftp://` URLs (explicit FTPS). `ftps://` URLs always use implicit TLS. */
  explicitTls?: boolean;
  tls?: FtpTlsOptions;
  /** Save under `<outDir>/<host>[_<port>]/…`, so equal names from different servers do not clash. */
  hostDirs?: boolean;
  /** Reply wait, connection wait, data stall: see FtpClientOptions. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  dataTimeoutMs?: number;
  passive?: PassiveMode;
  /** Called for every event; `progress` events come at most every `progressIntervalMs` per file. */
  onProgress?: (event: FetchEvent) => void;
  /** Default 100 ms. */
  progressIntervalMs?: number;
  /** Stops the run: connections are closed, `.part` files stay for a later resume. */
  signal?: AbortSignal;
  logger?: Logger;
}

/** One file of a run. */
export interface FetchFileInfo {
  /** Unique within the run, in the order files were found. */
  id: number;
  /** The URL the file came from (password masked). */
  url: string;
  /** `host:port` of its server. */
  server: string;
  remotePath: string;
  /** Absolute path of the finished file. */
  localPath: string;
}

/** What a run reports while it works. */
export type FetchEvent =
  | { type: 'listed'; url: string; files: number }
  | { type: 'start'; file: FetchFileInfo; size: number | undefined; offset: number }
  | { type: 'progress'; file: FetchFileInfo; received: number; size: number | undefined }
  | { type: 'done'; file: FetchFileInfo; bytes: number; resumedFrom: number; size: number | undefined }
  | { type: 'skipped'; file: FetchFileInfo; size: number | undefined }
  | { type: 'retry'; url: string; file?: FetchFileInfo; attempt: number; message: string }
  | { type: 'failed'; url: string; file?: FetchFileInfo; message: string };

/** How one file, or a URL that yielded no file, ended. */
export interface FetchOutcome {
  url: string;
  /** Missing when the URL failed before naming a file (a login refused, a glob with no match). */
  file?: FetchFileInfo;
  status: 'done' | 'skipped' | 'failed';
  /** Bytes received in this run. */
  bytes: number;
  /** For failures: one sentence for people. */
  message?: string;
  /** For failures: what was thrown (an FtpError carries the reply code). */
  error?: unknown;
}

/** The result of {@link fetchFiles}. */
export interface FetchResult {
  outcomes: FetchOutcome[];
  failed: FetchOutcome[];
  done: number;
  skipped: number;
  bytes: number;
}
