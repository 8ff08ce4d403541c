import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryAuthenticator } from '@gorgon/core';
import { transcript } from '@gorgon/core/testing';
import { createFtpServer, MemoryFs, type FtpServer, type FtpServerOptions } from '@gorgon/ftp';

/** A memory filesystem with a few files and directories. */
export function demoFs(): MemoryFs {
  return new MemoryFs({
    'pub/readme.txt': 'read me\n',
    'pub/data.bin': Buffer.alloc(1000, 1),
    'pub/docs/': '',
    'private/secret.txt': 'secret\n',
  });
}

/** Users: alice (all permissions), reader (elr). */
export function demoAuth(): MemoryAuthenticator {
  return new MemoryAuthenticator([
    { name: 'alice', password: 'wonderland' },
    { name: 'reader', password: 'books', attributes: { ftp: { perms: 'elr' } } },
  ]);
}

/** A server over a memory filesystem with fast failure delays, for transcripts and sockets. */
export function testServer(options: Partial<FtpServerOptions> = {}): FtpServer {
  // A test's own store replaces the demo one, under its new name or its deprecated one (fs).
  const { fs, ...rest } = options;
  return createFtpServer({ store: fs ?? demoFs(), auth: demoAuth(), throttle: { baseDelayMs: 1, maxDelayMs: 2 }, ...rest });
}

/** Plays a transcript against a fresh session of `server`. */
export function play(server: FtpServer, script: string, options: { expectClose?: boolean } = {}) {
  return transcript((ch) => server.accept(ch), script, options);
}

/** The login lines most transcripts start with. */
export const LOGIN = `
  S: 220 Gorgon FTP server ready.
  C: USER alice
  S: 331 Please specify the password.
  C: PASS wonderland
  S: 230 Login successful.
`;

/**
 * A disk root with symlinks planted in `pub/` to a directory (`escape`) and a file
 * (`secret-link`) outside it. The caller removes `base` (pushed to `dirs`) after the test.
 */
export async function plantedRoot(dirs: string[], prefix: string): Promise<{ root: string; outside: string }> {
  const base = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(base);
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'pub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(outside, join(root, 'pub', 'escape'));
  await symlink(join(outside, 'secret.txt'), join(root, 'pub', 'secret-link'));
  return { root, outside };
}
