import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '@gorgon/core';
import { CliError } from '../src/errors.js';
import { ftpProtocol, ftpSection } from '../src/protocols/ftp.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gorgon-cli-ftp-'));
  dirs.push(d);
  return d;
}

describe('ftp in the suite (gorgon serve --demo, gorgon ftpd)', () => {
  it('demo: anonymous reads, demo/demo writes into incoming/, FTPS on its own port', async () => {
    const data = await temp();
    const section = await ftpProtocol.demo(data);
    expect(section.anonymous).toBe(true);
    expect(section.tlsPort).toBe(2990);
    const daemons = await ftpProtocol.build({ ...section, port: 0, tlsPort: 0 }, { logger: silentLogger, baseDir: data });
    expect(daemons.map((d) => d.name)).toEqual(['ftpd', 'ftpsd']);
    const { port } = await daemons[0]!.server.listen(0, '127.0.0.1');
    const { port: tlsPort } = await daemons[1]!.server.listen(0, '127.0.0.1');
    const cert = await readFile(join(data, 'tls', 'cert.pem'), 'utf8');
    const anon = new Client(5000);
    const demo = new Client(5000);
    try {
      await anon.access({ host: '127.0.0.1', port, user: 'anonymous', password: 'guest@' });
      const parts: Buffer[] = [];
      await anon.downloadTo(
        new Writable({
          write: (c: Buffer, _e, cb) => {
            parts.push(c);
            cb();
          },
        }),
        '/pub/hello.txt',
      );
      expect(Buffer.concat(parts).toString()).toMatch(/^Hello from Gorgon/);
      await expect(anon.uploadFrom(Readable.from([Buffer.from('x')]), '/incoming/anon.txt')).rejects.toThrow(/550/);
      await demo.access({
        host: 'localhost',
        port: tlsPort,
        user: 'demo',
        password: 'demo',
        secure: 'implicit',
        secureOptions: { ca: cert },
      });
      await demo.uploadFrom(Readable.from([Buffer.from('uploaded')]), '/incoming/demo.txt');
      expect(await readFile(join(data, 'ftp', 'root', 'incoming', 'demo.txt'), 'utf8')).toBe('uploaded');
    } finally {
      anon.close();
      demo.close();
      await daemons[0]!.server.close({ timeoutMs: 1000 });
    }
  });

  it('serves a root marked as on a network filesystem (networkRoot, --network-root)', async () => {
    const data = await temp();
    await writeFile(join(data, 'small.txt'), 'small file');
    const section = ftpSection.parse({ root: data, anonymous: true, networkRoot: true, port: 0 });
    expect(section.networkRoot).toBe(true);
    const [daemon] = await ftpProtocol.build(section, { logger: silentLogger, baseDir: data });
    const { port } = await daemon!.server.listen(0, '127.0.0.1');
    const client = new Client(5000);
    try {
      await client.access({ host: '127.0.0.1', port, user: 'anonymous', password: 'guest@' });
      for (let i = 0; i < 2; i++) {
        const parts: Buffer[] = [];
        await client.downloadTo(
          new Writable({
            write: (c: Buffer, _e, cb) => {
              parts.push(c);
              cb();
            },
          }),
          '/small.txt',
        );
        expect(Buffer.concat(parts).toString()).toBe('small file');
      }
    } finally {
      client.close();
      await daemon!.server.close({ timeoutMs: 1000 });
    }
  });

  it('says in one sentence what is wrong with a section', async () => {
    const data = await temp();
    const build = (over: Record<string, unknown>) =>
      ftpProtocol.build(ftpSection.parse({ root: data, anonymous: true, ...over }), { logger: silentLogger, baseDir: data });
    await expect(build({ root: join(data, 'missing') })).rejects.toThrow(CliError);
    await expect(build({ anonymous: false })).rejects.toThrow(/nobody can log in/);
    await expect(build({ pasvRange: '10-20' })).rejects.toThrow(/passive port range/);
    await expect(build({ permissions: 'elrX' })).rejects.toThrow(/unknown permission letter "X"/);
    await expect(build({ masquerade: 'nat.example.com' })).rejects.toThrow(/IPv4/);
    await expect(build({ users: join(data, 'nope.json') })).rejects.toThrow(/does not exist/);
  });
});
