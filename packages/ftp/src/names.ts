/**
 * Names are bytes: FTP decodes command lines and names on disk with the core's surrogateescape
 * mapping (see `@gorgon/core`'s byte-names), which the HTTP server shares for paths on disk.
 * @see RFC 2640 §2.2 (UTF-8 pathnames), §3.1 (servers that keep names as raw bytes)
 */
export { decodeLatin1Line, decodeName, encodeName, hasEscapes, hostPath, toWire } from '@gorgon/core';
