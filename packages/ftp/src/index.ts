/**
 * @gorgon/ftp: an RFC 959 FTP server with extensions and FTPS, virtual filesystems, and the
 * multi-file grabber client. The root re-exports `@gorgon/ftp/server` and `@gorgon/ftp/client`;
 * the VirtualFs contract suite is in `@gorgon/ftp/testing`.
 * @packageDocumentation
 */
export * from './exports/server.js';
export * from './exports/client.js';
