/**
 * Every module of the package in one place, for the package's own tests only: not in the
 * exports map, not public API (the public entries are src/exports/ and src/testing/).
 * @internal
 */

export { FtpClient, type DownloadOptions, type UploadOptions } from './client.js';
export { FtpError, FtpClientError, type FtpClientErrorKind } from './client-errors.js';
export { ControlConnection, type ControlConnectionOptions } from './client-control.js';
export { DataConnection, type DataConnectionOptions, type DataTlsOptions } from './client-data.js';
export { resolveClientOptions, type FtpClientOptions, type FtpSecurity, type FtpTlsOptions, type PassiveMode } from './client-options.js';
export { choosePassiveAddress } from './client-passive.js';
export {
  ReplyParser,
  formatReply,
  parseEpsvReply,
  parseFeatures,
  parsePasvReply,
  replyGroup,
  replyText,
  type FtpReply,
  type PassiveAddress,
  type ReplyGroup,
  type ReplyParserLimits,
} from './client-reply.js';
export {
  parseDosListLine,
  parseList,
  parseMlsd,
  parseMlsdLine,
  parseMlsdTime,
  parseNlst,
  parseUnixListLine,
  type FtpEntry,
  type FtpEntryType,
} from './client-list.js';
export { fetchFiles } from './fetch.js';
export { FetchRun } from './fetch-scheduler.js';
export { fetchFile, PART_SUFFIX, type FileFetchResult, type FileJob, type FileProgress } from './fetch-file.js';
export { expandGlob, globToRegExp, type RemoteFile } from './fetch-glob.js';
export { FetchUrlError, isGlob, parseFetchUrl, type FetchTarget, type FetchUrlDefaults } from './fetch-url.js';
export { certificateProblem, describeFetchError, isRetryable, isServerWide, type ErrorContext } from './fetch-errors.js';
export type { FetchEvent, FetchFileInfo, FetchOptions, FetchOutcome, FetchResult } from './fetch-types.js';
export {
  createFtpServer,
  ftpAttributes,
  parsePortRange,
  type AnonymousOptions,
  type FsFactory,
  type FtpServer,
  type FtpServerOptions,
} from './server.js';
export { FtpSession, type LoginState } from './session.js';
export type { FtpCommand } from './commands/table.js';
export { defaultFtpLimits, type FtpLimits } from './defaults.js';
export {
  FsError,
  type FileKind,
  type FileStat,
  type FsErrorCode,
  type ReadableFile,
  type VirtualFs,
  type WritableFile,
  type WriteOptions,
} from './fs.js';
export { DiskFs, type DiskFsOptions } from './fs-disk.js';
export type { UploadSweepResult } from './fs-disk-sweep.js';
export {
  COOL_DOWN_MS,
  kLoopWriteClock,
  LoopWriteGate,
  readDirtyFigures,
  SLOW_WRITE_MS,
  type DirtyFigures,
  type LoopWriteClock,
} from './fs-disk-loop-writes.js';
export { decodeName, encodeName } from './names.js';
export { MemoryFs, type MemoryTree } from './fs-memory.js';
export {
  formatReply as formatServerReply,
  replies,
  reply as serverReply,
  FtpReplyError,
  type FtpReply as FtpServerReply,
} from './replies.js';
export { formatLsLine, formatMlsxLine, formatTime, parseTime } from './list-format.js';
export { ALL_PERMISSIONS, READ_PERMISSIONS, formatPermissions, parsePermissions, type Permission } from './permissions.js';
export { resolvePath } from './path.js';
export type { PortRange } from './data-channel.js';
