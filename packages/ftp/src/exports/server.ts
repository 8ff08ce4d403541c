/**
 * `@gorgon/ftp/server`: the RFC 959 FTP server (with the RFC 2389/2428/3659/4217 extensions and
 * FTPS) and its virtual filesystems: the interface, a confined disk one and a memory one.
 * @see RFC 959
 * @packageDocumentation
 */
export { createFtpServer, parsePortRange, type AnonymousOptions, type FsFactory, type FtpServer, type FtpServerOptions } from '../server.js';
export type { PortRange } from '../data-channel.js';
export type { FtpLimits } from '../defaults.js';
// Types only: what a custom command (the `commands` option) is, and the session it is given.
export type { FtpCustomCommand as FtpCommand } from '../commands/table.js';
export type { FtpCommandSession, LoginState as FtpState } from '../session.js';
export type { FtpUser } from '../context.js';
export type { FtpReply as FtpServerReply } from '../replies.js';
export { parsePermissions, type Permission } from '../permissions.js';
export { FsError, type FileKind, type FileStat, type FsErrorCode, type ReadableFile, type VirtualFs, type WritableFile, type WriteOptions } from '../fs.js';
export { DiskFs, type DiskFsOptions } from '../fs-disk.js';
export type { UploadSweepResult } from '../fs-disk-sweep.js';
export { MemoryFs, type MemoryTree } from '../fs-memory.js';
