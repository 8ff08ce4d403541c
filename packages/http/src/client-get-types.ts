import type { Logger } from '@gorgon/core';
import type { HttpTlsOptions } from './client-http.js';

/** Options of {@link getUrls}. */
export interface GetOptions {
  /** Where the files go (created if missing); each is named after the last segment of its URL. */
  outDir: string;
  /** With one URL only: the file to write instead (`-o FILE`). */
  outFile?: string;
  /** Save under `<outDir>/<host>[_<port>]/`, so equal names from different servers do not clash (the port only when not 80/443). */
  hostDirs?: boolean;
  /** Requests in flight at once, over all servers. Default 4. */
  parallel?: number;
  /** Requests in flight at once to one server. Default: `parallel`. */
  perHost?: number;
  /** Further tries after a transient failure (lost connection, timeout, 408/429/5xx). Default 2. */
  retries?: number;
  /** Wait before the first retry, doubled for each next one. Default 500 ms. */
  retryDelayMs?: number;
  /** Redirects followed per URL. Default 10. */
  maxRedirects?: number;
  tls?: HttpTlsOptions;
  /** Silence from the server that fails a request. Default 30 s. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** The first file id, so a caller mixing runs (FTP and HTTP in one `gorgon fetch`) keeps ids unique. Default 1. */
  firstId?: number;
  /** Called for every event; `progress` events come at most every `progressIntervalMs` per file. */
  onProgress?: (event: GetEvent) => void;
  /** Default 100 ms. */
  progressIntervalMs?: number;
  /** Stops the run: connections are closed, `.part` files stay for a later resume. */
  signal?: AbortSignal;
  logger?: Logger;
}

/** One file of a run (the same shape as the FTP grabber's, so one progress display serves both). */
export interface GetFileInfo {
  id: number;
  /** The URL as given. */
  url: string;
  /** `host:port` of its server. */
  server: string;
  /** The path of the URL. */
  remotePath: string;
  /** Absolute path of the finished file. */
  localPath: string;
}

/** What a run reports while it works. */
export type GetEvent =
  | { type: 'start'; file: GetFileInfo; size: number | undefined; offset: number }
  | { type: 'progress'; file: GetFileInfo; received: number; size: number | undefined }
  | { type: 'done'; file: GetFileInfo; bytes: number; resumedFrom: number; size: number | undefined }
  | { type: 'skipped'; file: GetFileInfo; size: number | undefined }
  | { type: 'retry'; url: string; file?: GetFileInfo; attempt: number; message: string }
  | { type: 'failed'; url: string; file?: GetFileInfo; message: string };

/** How one URL ended. */
export interface GetOutcome {
  url: string;
  file?: GetFileInfo;
  status: 'done' | 'skipped' | 'failed';
  /** Bytes received in this run. */
  bytes: number;
  /** For failures: one sentence for people, naming the URL. */
  message?: string;
  error?: unknown;
}

/** The result of {@link getUrls}. */
export interface GetResult {
  outcomes: GetOutcome[];
  failed: GetOutcome[];
  done: number;
  skipped: number;
  bytes: number;
}
