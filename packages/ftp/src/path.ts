import { posix } from 'node:path';

/** A client path that cannot be used: it holds a NUL byte or an LF. */
export class BadPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadPathError';
  }
}

/**
 * Resolves a client path against the working directory into an absolute virtual path inside
 * the user's root. An absolute path starts at the virtual root, and ".." stops at it (as a
 * chroot does), so no spelling leads above it; symlinks are the VirtualFs's job.
 * @see RFC 959 §3.2 (pathnames), RFC 2577 §5
 */
export function resolvePath(cwd: string, arg: string): string {
  // NUL cannot be in a file name, and no command line can carry an LF. A CR can (sent as CR NUL,
  // RFC 2640 §3.1): replies and listings send it back the same way (escapeLineEnds).
  if (/[\0\n]/.test(arg)) throw new BadPathError('NUL or LF in path');
  const joined = arg.startsWith('/') ? arg : `${cwd}/${arg}`;
  const normal = posix.normalize(`/${joined}`);
  // normalize keeps a leading ".." only for relative paths; rooted ones clamp, trailing "/" goes.
  const trimmed = normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
  return trimmed === '' ? '/' : trimmed;
}

/** Quotes a path for a 257 reply: embedded double quotes are doubled. @see RFC 959 Appendix II */
export function quotePath(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}

const LINE_ENDS = /[\r\n]/;
const LINE_END_CHARS = /\r(?!\0)|\n/g;

/**
 * A name or reply text made safe to send inside one line: a CR becomes CR NUL (RFC 2640 §3.1:
 * "a <CR> character … as part of a pathname … MUST be padded with a <NUL>"), and an LF, which
 * no command can carry back, becomes "?" (as `ls -q` and vsftpd show it). No name can then end
 * a reply line or a listing entry early (RFC 959 §4.2). A CR already followed by NUL is left
 * alone, so text escaped once (a STAT line) passes unchanged through the reply formatter.
 */
export function escapeLineEnds(text: string): string {
  if (!LINE_ENDS.test(text)) return text;
  return text.replace(LINE_END_CHARS, (c) => (c === '\r' ? '\r\0' : '?'));
}
