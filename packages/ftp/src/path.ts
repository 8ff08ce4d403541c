import { posix } from 'node:path';

/** A client path that cannot be used: it holds a NUL byte or is empty. */
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
  // NUL cannot be in a file name; CR and LF could split a reply that echoes the path.
  if (/[\0\r\n]/.test(arg)) throw new BadPathError('NUL, CR or LF in path');
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
