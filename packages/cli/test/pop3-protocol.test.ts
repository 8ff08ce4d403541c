import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword, silentLogger } from '@gorgon/core';
import { MemoryClient } from '@gorgon/core/testing';
import { CliError } from '../src/errors.js';
import { pop3Protocol, pop3Section } from '../src/protocols/pop3.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gorgon-cli-pop3-'));
  dirs.push(d);
  return d;
}

async function retrieve(client: MemoryClient, n: number): Promise<string[]> {
  client.sendLine(`RETR ${n}`);
  expect(await client.line(5000)).toMatch(/^\+OK \d+ octets$/);
  const lines: string[] = [];
  for (let line = await client.line(5000); line !== '.'; line = await client.line(5000)) lines.push(line);
  return lines;
}

describe('pop3 in the suite (gorgon serve --demo, gorgon pop3d)', () => {
  it('demo: demo/demo with three messages (one with dot lines), APOP offered, pop3s on its own port, idempotent', async () => {
    const data = await temp();
    const section = await pop3Protocol.demo(data);
    await pop3Protocol.demo(data); // a second start must not deliver the demo mail again
    expect(section).toMatchObject({ port: 1110, tlsPort: 1995, mechanisms: ['user', 'plain', 'apop'] });
    expect(section.demoNote).toContain('demo / demo');
    expect(await readdir(join(data, 'pop3', 'maildirs', 'demo', 'new'))).toHaveLength(3);
    const daemons = await pop3Protocol.build({ ...section, port: 0, tlsPort: 0 }, { logger: silentLogger, baseDir: data });
    expect(daemons.map((d) => d.name)).toEqual(['pop3d', 'pop3sd']);
    const { port } = await daemons[0]!.server.listen(0, '127.0.0.1');
    const { port: tlsPort } = await daemons[1]!.server.listen(0, '127.0.0.1');
    const cert = await readFile(join(data, 'tls', 'cert.pem'), 'utf8');
    try {
      const plain = new MemoryClient(connect(port, '127.0.0.1'));
      expect(await plain.line(5000)).toMatch(/^\+OK Gorgon POP3 server ready <.+>$/);
      plain.sendLine('USER demo');
      await plain.line(5000);
      plain.sendLine('PASS demo');
      expect(await plain.line(10_000)).toMatch(/^\+OK maildrop has 3 messages/);
      const dotted = await retrieve(plain, 2);
      expect(dotted).toContain('..this line starts with one dot');
      expect(dotted).toContain('..');
      plain.sendLine('QUIT');
      await plain.closed(5000);

      const socket = tls.connect({ port: tlsPort, host: '127.0.0.1', servername: 'localhost', ca: cert });
      const secure = new MemoryClient(socket);
      expect(await secure.line(5000)).toMatch(/^\+OK/);
      secure.sendLine('USER demo');
      await secure.line(5000);
      secure.sendLine('PASS demo');
      expect(await secure.line(10_000)).toMatch(/^\+OK maildrop has 3 messages/);
      expect((await retrieve(secure, 1))[2]).toBe('Subject: Welcome to Gorgon POP3');
      secure.sendLine('QUIT');
      await secure.closed(5000);
    } finally {
      await daemons[0]!.server.close({ timeoutMs: 1000 });
    }
  });

  it('says in one sentence what is wrong with a section', async () => {
    const data = await temp();
    const users = join(data, 'users.json');
    await writeFile(users, JSON.stringify({ users: [{ name: 'a', password: await hashPassword('x') }] }));
    const build = (extra: object) =>
      pop3Protocol.build(pop3Section.parse({ maildirs: join(data, 'mail'), users, ...extra }), { logger: silentLogger, baseDir: data });
    await expect(build({ users: join(data, 'nope.json') })).rejects.toThrow(CliError);
    await expect(build({ users: join(data, 'nope.json') })).rejects.toThrow(/does not exist/);
    await expect(build({ cert: join(data, 'cert.pem') })).rejects.toThrow(/both --cert and --key/);
    await expect(build({ cert: join(data, 'c.pem'), key: join(data, 'k.pem') })).rejects.toThrow(/cannot read the certificate/);
    expect(() => pop3Section.parse({ maildirs: 'm', users: 'u', mechanisms: ['cram-md5'] })).toThrow();
    expect(() => pop3Section.parse({ maildirs: 'm', users: 'u', expire: 5 })).toThrow();
    expect(() => pop3Section.parse({ users: 'u' })).toThrow();
    const plainOnly = await build({});
    expect(plainOnly.map((d) => d.name)).toEqual(['pop3d']);
  });
});
