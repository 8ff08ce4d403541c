import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuthenticator, type GorgonServer, type ServerEventMap, type TlsServerOptions } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { MemoryClient } from '@gorgon/core/testing';
import { createFingerServer, MemoryUserDirectory, type FingerCommand } from '@gorgon/finger';
import { createFtpServer, MemoryFs, type FtpCommand } from '@gorgon/ftp';
import { createPop3Server, MemoryMaildropStore, type Pop3Command } from '@gorgon/pop3';
import { createNntpServer, MemoryNewsStore, type NntpSession, type NntpState } from '@gorgon/nntp';
import type { CommandSpec } from '@gorgon/core';
import { createHttpServer, MemoryStore, type HttpMethodSpec } from '@gorgon/http';

// The events the admin listener's metrics hang on (issue 13), checked through real sockets in
// every protocol: `commandDone` (verb, reply class, duration), `refused` (by reason), `tls`
// (implicit and upgrade) and `error` (by kind).

interface Options {
  tls?: TlsServerOptions;
  limits?: Record<string, number>;
  // biome-ignore lint/suspicious/noConfusingVoidType: mirrors the public connect hook type (see ServerHooks)
  hooks?: { connect?: (info: ServerEventMap['connect']) => boolean | void | Promise<boolean | void> };
}

interface Protocol {
  name: 'finger' | 'pop3' | 'ftp' | 'nntp' | 'http';
  make(options: Options): GorgonServer;
  greet(c: MemoryClient): Promise<void>;
  /** A command, its reply, and the verb and class `commandDone` reports for it. */
  good: { line: string; reply: RegExp; verb: string; class: string };
  /** A command the protocol does not know: reported as UNKNOWN, never by its own name. */
  unknown: { line: string; reply: RegExp; class: string };
  /** The command that throws (an embedder's), and the reply to it. */
  throws: { line: string; reply: RegExp };
  /** The STARTTLS-like command and its go-ahead, where the protocol has one. */
  upgrade?: { line: string; reply: RegExp };
}

const boom = (): never => {
  throw new Error('the handler broke');
};
const pop3Boom: Pop3Command = { verb: 'XBOOM', args: 'none', help: 'XBOOM', run: boom };
const ftpBoom: FtpCommand = { verb: 'XBOOM', args: 'none', help: 'XBOOM', run: boom };
const nntpBoom: CommandSpec<NntpState, NntpSession> = { verb: 'XBOOM', args: 'none', help: 'XBOOM', run: boom };
const fingerBoom: FingerCommand = { verb: 'XBOOM', args: 'none', help: 'XBOOM', run: boom };
const httpBoom: HttpMethodSpec = { verb: 'XBOOM', args: 'required', help: 'XBOOM <target>', run: boom };
const auth = () => new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]);

const protocols: Protocol[] = [
  {
    name: 'finger',
    make: (o) =>
      createFingerServer({ store: new MemoryUserDirectory([{ login: 'alice', name: 'Alice' }]), commands: [fingerBoom], ...o } as never),
    greet: async () => {},
    good: { line: 'alice', reply: /Login: alice/, verb: 'QUERY', class: '2xx' },
    unknown: { line: 'ali\x01ce', reply: /./, class: '5xx' },
    throws: { line: 'xboom', reply: /./ },
  },
  {
    name: 'pop3',
    make: (o) => createPop3Server({ store: new MemoryMaildropStore(), auth: auth(), commands: [pop3Boom], ...o } as never),
    greet: async (c) => void expect(await c.line()).toMatch(/^\+OK/),
    good: { line: 'USER alice', reply: /^\+OK/, verb: 'USER', class: '2xx' },
    unknown: { line: 'FROB x', reply: /^-ERR/, class: '5xx' },
    throws: { line: 'XBOOM', reply: /^-ERR/ },
    upgrade: { line: 'STLS', reply: /^\+OK/ },
  },
  {
    name: 'ftp',
    make: (o) => createFtpServer({ store: new MemoryFs({}), auth: auth(), commands: [ftpBoom], ...o } as never),
    greet: async (c) => void expect(await c.line()).toMatch(/^220 /),
    good: { line: 'SYST', reply: /^215 /, verb: 'SYST', class: '2xx' },
    unknown: { line: 'FROB x', reply: /^500 /, class: '5xx' },
    throws: { line: 'XBOOM', reply: /^451 / },
    upgrade: { line: 'AUTH TLS', reply: /^234 / },
  },
  {
    name: 'nntp',
    make: (o) => createNntpServer({ store: new MemoryNewsStore(), auth: auth(), commands: [nntpBoom], ...o } as never),
    greet: async (c) => void expect(await c.line()).toMatch(/^20[01] /),
    good: { line: 'DATE', reply: /^111 /, verb: 'DATE', class: '1xx' },
    unknown: { line: 'FROB x', reply: /^500 /, class: '5xx' },
    throws: { line: 'XBOOM', reply: /^403 / },
    upgrade: { line: 'STARTTLS', reply: /^382 / },
  },
  {
    name: 'http',
    make: (o) => createHttpServer({ store: new MemoryStore(), commands: [httpBoom], ...o } as never),
    greet: async () => {},
    good: { line: 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n', reply: /^HTTP\/1\.1 204 /, verb: 'OPTIONS', class: '2xx' },
    unknown: { line: 'FROB / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n', reply: /^HTTP\/1\.1 501 /, class: '5xx' },
    throws: { line: 'XBOOM / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n', reply: /^HTTP\/1\.1 500 / },
  },
];

/** Sends `line` and reads one reply line (finger, HTTP: the first line of the whole reply). */
async function ask(p: Protocol, c: MemoryClient, line: string): Promise<string> {
  c.sendLine(line);
  if (p.name !== 'finger' && p.name !== 'http') return c.line();
  return (await c.readToEnd()).toString('latin1').split('\r\n')[0]!;
}

function dial(port: number): MemoryClient {
  return new MemoryClient(netConnect(port, '127.0.0.1'));
}

/** Waits until `check` holds (events come from the server's side of the socket). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

let tls: { cert: string; key: string };
beforeAll(async () => {
  tls = await createDemoCertificate('localhost');
});

describe.each(protocols)('events for metrics: $name', (p) => {
  const servers: GorgonServer[] = [];
  const make = (o: Options = {}): GorgonServer => {
    const server = p.make(o);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close({ timeoutMs: 200 })));
  });

  it('commandDone: the verb (UNKNOWN for a verb not in the table), the reply class, a duration', async () => {
    const server = make();
    const done: Array<ServerEventMap['commandDone']> = [];
    server.on('commandDone', (e) => void done.push(e));
    const { port } = await server.listen(0);
    let c = dial(port);
    await p.greet(c);
    expect(await ask(p, c, p.good.line)).toMatch(p.good.reply);
    await until(() => done.length === 1);
    expect(done[0]).toMatchObject({ verb: p.good.verb, reply: p.good.class });
    expect(done[0]!.ms).toBeGreaterThanOrEqual(0);
    expect(done[0]!.id).toMatch(new RegExp(`^${p.name}-`));
    if (p.name === 'finger' || p.name === 'http') c = dial(port); // one query per connection
    expect(await ask(p, c, p.unknown.line)).toMatch(p.unknown.reply);
    await until(() => done.length === 2);
    expect(done[1]).toMatchObject({ verb: p.name === 'finger' ? 'QUERY' : 'UNKNOWN', reply: p.unknown.class });
    c.end();
    await c.closed();
  });

  it('error: a handler that throws is an error event of kind handler-error, with the connection id', async () => {
    const server = make();
    const errors: Array<ServerEventMap['error']> = [];
    server.on('error', (e) => void errors.push(e));
    const { port } = await server.listen(0);
    const c = dial(port);
    await p.greet(c);
    expect(await ask(p, c, p.throws.line)).toMatch(p.throws.reply);
    await until(() => errors.length >= 1);
    expect(errors[0]).toMatchObject({ kind: 'handler-error', level: 'error', message: expect.stringContaining('the handler broke') });
    expect(errors[0]!.id).toMatch(new RegExp(`^${p.name}-`));
    c.end();
    await c.closed();
  });

  it('refused: by the per-address limit and by the connect hook, with the reason', async () => {
    const server = make({ limits: { maxConnectionsPerIp: 1 } });
    const refused: Array<ServerEventMap['refused']> = [];
    server.on('refused', (e) => void refused.push(e));
    const { port } = await server.listen(0);
    const first = dial(port);
    await p.greet(first);
    await until(() => server.connections === 1);
    const second = dial(port);
    await second.readToEnd();
    await until(() => refused.length === 1);
    expect(refused[0]).toEqual({ listener: p.name, remoteAddress: '127.0.0.1', reason: 'max-per-ip' });
    first.end();
    await first.closed();

    const hooked = make({ hooks: { connect: () => false } });
    const byHook: Array<ServerEventMap['refused']> = [];
    hooked.on('refused', (e) => void byHook.push(e));
    const r = dial((await hooked.listen(0)).port);
    await r.readToEnd();
    await until(() => byHook.length === 1);
    expect(byHook[0]).toMatchObject({ reason: 'refused', remoteAddress: '127.0.0.1' });
  });

  it('tls: implicit handshakes that succeed and fail, and the STARTTLS-like upgrade', async () => {
    const server = make({ tls });
    const seen: Array<ServerEventMap['tls']> = [];
    server.on('tls', (e) => void seen.push(e));
    const { port } = await server.listen(0);
    const { port: tlsPort } = await server.listenTls(0);
    const secure = new MemoryClient(tlsConnect({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false }));
    await p.greet(secure);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ kind: 'implicit', ok: true, id: expect.stringMatching(new RegExp(`^${p.name}s-`)) });
    secure.end();
    await secure.closed();
    // Plaintext on the implicit-TLS port: a failed handshake.
    const wrong = new MemoryClient(netConnect(tlsPort, '127.0.0.1'));
    wrong.send('HELLO THERE, THIS IS NOT TLS\r\n\r\n');
    await wrong.closed();
    await until(() => seen.length === 2);
    expect(seen[1]).toMatchObject({ kind: 'implicit', ok: false });
    if (!p.upgrade) return;
    const c = dial(port);
    await p.greet(c);
    expect(await ask(p, c, p.upgrade.line)).toMatch(p.upgrade.reply);
    for (const event of ['data', 'end', 'close']) c.stream.removeAllListeners(event);
    const upgraded = tlsConnect({ socket: c.stream as Socket, ca: tls.cert, servername: 'localhost' });
    await new Promise<void>((r) => upgraded.once('secureConnect', () => r()));
    await until(() => seen.length === 3);
    expect(seen[2]).toMatchObject({ kind: 'upgrade', ok: true, id: expect.stringMatching(new RegExp(`^${p.name}-`)) });
    upgraded.destroy();
  });
});

describe('FTP: a transfer command ends with its final reply, not its 150', () => {
  it('RETR is reported once, as 2xx, after the data arrived', async () => {
    const server = createFtpServer({ store: new MemoryFs({ 'hello.txt': 'hello, world\n' }), auth: auth() });
    try {
      const done: Array<ServerEventMap['commandDone']> = [];
      server.on('commandDone', (e) => void done.push(e));
      const { port } = await server.listen(0);
      const c = dial(port);
      await c.line();
      for (const line of ['USER alice', 'PASS wonderland', 'TYPE I']) {
        c.sendLine(line);
        await c.line();
      }
      c.sendLine('EPSV');
      const epsv = await c.line();
      const dataPort = Number(/\(\|\|\|(\d+)\|\)/.exec(epsv)?.[1]);
      const data = new MemoryClient(netConnect(dataPort, '127.0.0.1'));
      c.sendLine('RETR hello.txt');
      expect(await c.line()).toMatch(/^150 /);
      expect((await data.readToEnd()).toString()).toBe('hello, world\n');
      expect(await c.line()).toMatch(/^226 /);
      await until(() => done.some((e) => e.verb === 'RETR'));
      expect(done.filter((e) => e.verb === 'RETR')).toEqual([expect.objectContaining({ reply: '2xx' })]);
      expect(done.map((e) => `${e.verb} ${e.reply}`)).toEqual(['USER 3xx', 'PASS 2xx', 'TYPE 2xx', 'EPSV 2xx', 'RETR 2xx']);
      c.end();
      await c.closed();
    } finally {
      await server.close({ timeoutMs: 200 });
    }
  });
});
