import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '@gorgon/core';
import { ftpdCommand } from '../src/commands/ftpd.js';
import { ftpProtocol, ftpSection } from '../src/protocols/ftp.js';

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Node's FileHandle prototype, whose sync/datasync the disk store calls to flush an upload. */
async function fileHandlePrototype(dir: string): Promise<{ sync(): Promise<void>; datasync(): Promise<void> }> {
  const handle = await open(join(dir, '.probe'), 'w');
  await handle.close();
  return Object.getPrototypeOf(handle) as { sync(): Promise<void>; datasync(): Promise<void> };
}

describe('fsync (gorgon ftpd --no-fsync, config ftp.fsync) reaches the disk store', () => {
  it.each([
    [undefined, true],
    [true, true],
    [false, false],
  ] as const)('fsync %s: an upload is flushed before its 226 %s', async (fsync, flushed) => {
    const data = await mkdtemp(join(tmpdir(), 'gorgon-cli-fsync-'));
    dirs.push(data);
    const demo = await ftpProtocol.demo(data);
    const section = ftpSection.parse({ ...demo, port: 0, tlsPort: undefined, ...(fsync === undefined ? {} : { fsync }) });
    expect(section.fsync).toBe(fsync ?? true);
    const [daemon] = await ftpProtocol.build(section, { logger: silentLogger, baseDir: data });
    const { port } = await daemon!.server.listen(0, '127.0.0.1');
    const proto = await fileHandlePrototype(data);
    const client = new Client(5000);
    try {
      await client.access({ host: '127.0.0.1', port, user: 'demo', password: 'demo' });
      const sync = vi.spyOn(proto, 'sync');
      const datasync = vi.spyOn(proto, 'datasync');
      await client.uploadFrom(Readable.from([Buffer.from('uploaded')]), '/incoming/up.txt');
      expect(sync.mock.calls.length + datasync.mock.calls.length > 0).toBe(flushed);
      expect(await readFile(join(data, 'ftp', 'root', 'incoming', 'up.txt'), 'utf8')).toBe('uploaded');
    } finally {
      client.close();
      await daemon!.server.close({ timeoutMs: 1000 });
    }
  });

  it('the flag is a boolean, on by default, turned off with --no-fsync', () => {
    const build = ftpdCommand.builder as unknown as (y: ReturnType<typeof yargs>) => ReturnType<typeof yargs>;
    const parse = (argv: string[]) => build(yargs(argv)).parseSync() as Record<string, unknown>;
    const base = ['--root', 'r', '--anonymous'];
    expect(parse(base)['fsync']).toBe(true);
    expect(parse([...base, '--no-fsync'])['fsync']).toBe(false);
  });
});
