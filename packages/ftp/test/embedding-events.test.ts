import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerEventMap } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import type { FtpCommand } from '@gorgon/ftp';
import { LOGIN, play, testServer } from './helpers.js';
import { cmd, controlClient, dataConnect, epsv, login, readAll, sendAll } from './socket-client.js';

// The embedding surface FTP shares with every protocol (issue 10): events, an embedder's
// commands in the core's table (gate, FEAT, HELP), and the login flow's temporary failure.
let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

const xsum: FtpCommand = {
  verb: 'XSUM',
  args: 'required',
  login: true,
  permission: 'retrieve',
  help: 'XSUM <sp> pathname',
  capability: 'XSUM',
  async run(s, arg) {
    const st = await s.me.fs.stat(s.resolve(arg));
    s.reply({ code: 213, lines: [`${st.size}`] });
  },
};

describe('FTP embedding: events and extra commands', () => {
  it('emits transfer events for downloads, uploads and listings', async () => {
    await using server = testServer();
    const transfers: Array<ServerEventMap['transfer']> = [];
    server.on('transfer', (e) => void transfers.push(e));
    const { port } = await server.listen(0);
    const c = await controlClient(port);
    await login(c);
    let d = await dataConnect(await epsv(c));
    c.sendLine('RETR pub/readme.txt');
    expect((await readAll(d)).toString()).toBe('read me\n');
    expect(await c.line()).toMatch(/^150 /);
    expect(await c.line()).toMatch(/^226 /);
    d = await dataConnect(await epsv(c));
    c.sendLine('STOR up.txt');
    await sendAll(d, Buffer.from('hello'));
    expect(await c.line()).toMatch(/^150 /);
    expect(await c.line()).toMatch(/^226 /);
    d = await dataConnect(await epsv(c));
    c.sendLine('NLST pub');
    await readAll(d);
    expect(await c.line()).toMatch(/^150 /);
    expect(await c.line()).toMatch(/^226 /);
    expect(await cmd(c, 'QUIT')).toMatch(/^221 /);
    await c.closed();
    expect(transfers.map((t) => [t.kind, t.path, t.bytes, t.ok, t.user])).toEqual([
      ['download', '/pub/readme.txt', 8, true, 'alice'],
      ['upload', '/up.txt', 5, true, 'alice'],
      ['list', '/pub', expect.any(Number), true, 'alice'],
    ]);
  });

  it("an embedder's command goes through the same gate, and FEAT and HELP list it", async () => {
    await using server = testServer({ commands: [xsum] });
    await play(
      server,
      `S: 220 Gorgon FTP server ready.
      C: XSUM pub/readme.txt
      S: 530 Please login with USER and PASS.
      C: USER reader
      S: 331 Please specify the password.
      C: PASS books
      S: 230 Login successful.
      C: XSUM
      S: 501 Syntax: XSUM <sp> pathname
      C: XSUM pub/readme.txt
      S: 213 8
      C: HELP XSUM
      S: 214 Syntax: XSUM <sp> pathname
      `,
    ).then(async (client) => {
      client.sendLine('FEAT');
      const feat: string[] = [];
      for (let line = await client.line(); line !== '211 End'; line = await client.line()) feat.push(line);
      expect(feat).toContain(' XSUM');
      expect(feat[0]).toBe('211-Features:');
      client.end();
      await client.closed();
    });
  });

  it('the command event carries the verb, never the argument', async () => {
    await using server = testServer();
    const seen: string[] = [];
    server.on('command', (e) => void seen.push(`${e.verb}/${e.state}`));
    const client = await play(server, `${LOGIN}\nC: NOOP\nS: 200 NOOP ok.`);
    client.end();
    await client.closed();
    expect(seen).toEqual(['USER/user', 'PASS/password', 'NOOP/ready']);
  });
});
