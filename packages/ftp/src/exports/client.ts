/**
 * `@gorgon/ftp/client`: an FTP/FTPS client (`FtpClient`) and the multi-file grabber
 * (`fetchFiles`: many URLs and globs, several connections, resume, retries, progress events).
 * @see RFC 959, RFC 2428, RFC 3659, RFC 4217
 * @packageDocumentation
 */
export { FtpClient, type DownloadOptions, type UploadOptions } from '../client.js';
export { FtpError, FtpClientError, type FtpClientErrorKind } from '../client-errors.js';
export type { FtpClientOptions, FtpSecurity, FtpTlsOptions, PassiveMode, ResolvedFtpClientOptions } from '../client-options.js';
export type { FtpReply } from '../client-reply.js';
export type { FtpEntry, FtpEntryType } from '../client-list.js';
export { fetchFiles } from '../fetch.js';
export { FetchUrlError } from '../fetch-url.js';
export { certificateProblem } from '../fetch-errors.js';
export type { FetchEvent, FetchFileInfo, FetchOptions, FetchOutcome, FetchResult } from '../fetch-types.js';
