import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '@gorgon/core';
import { ftpProtocol, ftpSection } from '../src/protocols/ftp.js';
import { pop3Protocol, pop3Section } from '../src/protocols/pop3.js';

// The users-file authenticators the protocols make, with the options they were given.
const made = vi.hoisted(() => [] as Array<{ path: string; options: unknown }>);
vi.mock('@gorgon/core', async (importOriginal) => {
  const core = await importOriginal<typeof import('@gorgon/core')>();
  class RecordingAuthenticator extends core.UsersFileAuthenticator {
    constructor(path: string, options?: ConstructorParameters<typeof core.UsersFileAuthenticator>[1]) {
      super(path, options);
      made.push({ path, options });
    }
  }
  return { ...core, UsersFileAuthenticator: RecordingAuthenticator };
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  made.length = 0;
});

describe('authCacheSeconds (--auth-cache) reaches the users-file authenticator', () => {
  it.each([
    ['pop3', undefined, 60_000],
    ['pop3', 0, 0],
    ['ftp', undefined, 60_000],
    ['ftp', 5, 5_000],
  ] as const)('%s with authCacheSeconds %s: cacheTtlMs %s', async (protocol, seconds, ttl) => {
    const data = await mkdtemp(join(tmpdir(), 'gorgon-cli-cache-'));
    dirs.push(data);
    const over = seconds === undefined ? {} : { authCacheSeconds: seconds };
    if (protocol === 'pop3') {
      const demo = await pop3Protocol.demo(data);
      await pop3Protocol.build(pop3Section.parse({ ...demo, ...over }), { logger: silentLogger, baseDir: data });
    } else {
      const demo = await ftpProtocol.demo(data);
      await ftpProtocol.build(ftpSection.parse({ ...demo, tlsPort: undefined, ...over }), { logger: silentLogger, baseDir: data });
    }
    expect(made).toHaveLength(1);
    expect(made[0]!.options).toEqual({ cacheTtlMs: ttl });
  });
});
