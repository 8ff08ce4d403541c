import { connect as netConnect, createServer as netServer, type Server as NetServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuthenticator, ServerOptionError, type GorgonServer, type ServerEventMap, type TlsServerOptions } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { memoryStreamPair, MemoryClient } from '@gorgon/core/testing';
import { createFingerServer, MemoryUserDirectory, type FingerCommand } from '@gorgon/finger';
import { createFtpServer, MemoryFs, type FtpCommand } from '@gorgon/ftp';
import { createPop3Server, MemoryMaildropStore, type Pop3Command } from '@gorgon/pop3';
import { createNntpServer, MemoryNewsStore, type NntpSession, type NntpState } from '@gorgon/nntp';
import type { CommandSpec } from '@gorgon/core';
import { createHttpServer, MemoryStore, type HttpMethodSpec } from '@gorgon/http';

// The one server shape (issue 10), checked the same way against every protocol's server: the
// same option names and validation error, the same returned object (listen, listenTls, close,
// address, tlsAddress, connections, counters, accept(stream)), the same events and connect
// hook, an embedder's command through a socket, and max line length meaning CRLF excluded.

interface Common {
  logger?: never;
  tls?: TlsServerOptions;
  limits?: Record<string, number>;
  proxyProtocol?: unknown;
  // biome-ignore lint/suspicious/noConfusingVoidType: mirrors the public connect hook type (see ServerHooks)
  hooks?: { connect?: (info: ServerEventMap['connect']) => boolean | void | Promise<boolean | void> };
  on?: { [K in keyof ServerEventMap]?: (e: ServerEventMap[K]) => void };
}

/** What differs between protocols: how to talk to them. Everything else is the same check. */
interface Protocol {
  name: 'finger' | 'pop3' | 'ftp' | 'nntp' | 'http';
  make(options: Common, custom?: boolean): GorgonServer;
  /** Reads the greeting (finger has none). */
  greet(c: MemoryClient): Promise<void>;
  /** A line that gets an ordinary one-line reply, and that reply. */
  probe: { line: string; reply: RegExp };
  /** An embedder's command (`commands` option): the line and its reply. */
  custom: { line: string; reply: RegExp };
  /** The reply to an over-long line. */
  tooLong: RegExp;
  /** The refusal line of a connection the connect hook refused. */
  refused: RegExp;
  /** Lines of a failing and of a succeeding login, with the final reply of each. */
  login?: { bad: string[]; badReply: RegExp; good: string[]; goodReply: RegExp };
}

const auth = () => new MemoryAuthenticator([{ name: 'alice', password: 'wonderland' }]);
const fast = { baseDelayMs: 1, maxDelayMs: 2 };

const pop3Custom: Pop3Command = {
  verb: 'XHELLO',
  args: 'optional',
  states: ['authorization', 'transaction'],
  help: 'XHELLO [name]: says hello',
  capability: 'XHELLO',
  run: (s, arg) => s.reply({ ok: true, text: `hello ${arg || 'you'}` }),
};
const ftpCustom: FtpCommand = {
  verb: 'XHELLO',
  args: 'optional',
  help: 'XHELLO [<sp> name]',
  capability: 'XHELLO',
  run: (s, arg) => s.reply({ code: 200, lines: [`hello ${arg || 'you'}`] }),
};
const nntpCustom: CommandSpec<NntpState, NntpSession> = {
  verb: 'XHELLO',
  args: 'optional',
  help: 'XHELLO [name]',
  capability: 'XHELLO',
  run: (s, arg) => s.reply({ code: 200, text: `hello ${arg || 'you'}` }),
};
const fingerCustom: FingerCommand = {
  verb: 'XHELLO',
  args: 'optional',
  help: 'XHELLO [name]',
  run: (s, arg) => s.reply([`hello ${arg || 'you'}`]),
};

// HTTP's commands are its methods (the request line, then an empty line ends the header section).
const httpCustom: HttpMethodSpec = {
  verb: 'XHELLO',
  args: 'required',
  help: 'XHELLO <target>',
  run: (s) => s.respond(299, 'Content-Type: text/plain\r\n', 'hello world\n'),
};

const protocols: Protocol[] = [
  {
    name: 'finger',
    make: (o, custom) =>
      createFingerServer({
        store: new MemoryUserDirectory([{ login: 'alice', name: 'Alice' }]),
        ...o,
        ...(custom ? { commands: [fingerCustom] } : {}),
      } as never),
    greet: async () => {},
    probe: { line: 'alice', reply: /Login: alice/ },
    custom: { line: 'xhello world', reply: /^hello world$/ },
    tooLong: /^Finger query too long\.$/,
    refused: /^Too many finger connections/,
  },
  {
    name: 'pop3',
    make: (o, custom) =>
      createPop3Server({
        store: new MemoryMaildropStore(),
        auth: auth(),
        throttle: fast,
        ...o,
        ...(custom ? { commands: [pop3Custom] } : {}),
      } as never),
    greet: async (c) => void expect(await c.line()).toMatch(/^\+OK/),
    probe: { line: 'CAPA', reply: /^\+OK/ },
    custom: { line: 'xhello world', reply: /^\+OK hello world$/ },
    tooLong: /^-ERR command line too long$/,
    refused: /^-ERR \[SYS\/TEMP\]/,
    login: { bad: ['USER alice', 'PASS nope'], badReply: /^-ERR \[AUTH\]/, good: ['USER alice', 'PASS wonderland'], goodReply: /^\+OK/ },
  },
  {
    name: 'ftp',
    make: (o, custom) =>
      createFtpServer({
        store: new MemoryFs({}),
        auth: auth(),
        throttle: fast,
        ...o,
        ...(custom ? { commands: [ftpCustom] } : {}),
      } as never),
    greet: async (c) => void expect(await c.line()).toMatch(/^220 /),
    probe: { line: 'SYST', reply: /^215 / },
    custom: { line: 'xhello world', reply: /^200 hello world$/ },
    tooLong: /^500 Command line too long\.$/,
    refused: /^421 /,
    login: { bad: ['USER alice', 'PASS nope'], badReply: /^530 /, good: ['USER alice', 'PASS wonderland'], goodReply: /^230 / },
  },
  {
    name: 'nntp',
    make: (o, custom) =>
      createNntpServer({
        store: new MemoryNewsStore(),
        auth: auth(),
        throttle: fast,
        ...o,
        ...(custom ? { commands: [nntpCustom] } : {}),
      } as never),
    greet: async (c) => void expect(await c.line()).toMatch(/^20[01] /),
    probe: { line: 'DATE', reply: /^111 / },
    custom: { line: 'xhello world', reply: /^200 hello world$/ },
    tooLong: /^501 line too long$/,
    refused: /^400 /,
    login: {
      bad: ['AUTHINFO USER alice', 'AUTHINFO PASS nope'],
      badReply: /^481 /,
      good: ['AUTHINFO USER alice', 'AUTHINFO PASS wonderland'],
      goodReply: /^281 /,
    },
  },
  {
    name: 'http',
    make: (o, custom) => createHttpServer({ store: new MemoryStore(), ...o, ...(custom ? { commands: [httpCustom] } : {}) } as never),
    greet: async () => {},
    probe: { line: 'OPTIONS * HTTP/1.0\r\n', reply: /^HTTP\/1\.1 204 No Content$/ },
    custom: { line: 'XHELLO / HTTP/1.0\r\n', reply: /^HTTP\/1\.1 299 $/ },
    tooLong: /^HTTP\/1\.1 414 URI Too Long$/,
    refused: /^HTTP\/1\.1 503 /,
  },
];

/** Sends `line` and reads one reply line (finger: the first line of the whole reply). */
async function ask(p: Protocol, c: MemoryClient, line: string): Promise<string> {
  c.sendLine(line);
  if (p.name !== 'finger') return c.line();
  return (await c.readToEnd()).toString('latin1').split('\r\n')[0]!;
}

function dial(port: number): MemoryClient {
  return new MemoryClient(netConnect(port, '127.0.0.1'));
}

let tls: { cert: string; key: string };
beforeAll(async () => {
  tls = await createDemoCertificate('localhost');
});

describe.each(protocols)('the one server shape: $name', (p) => {
  const servers: GorgonServer[] = [];
  const make = (o: Common = {}, custom = false): GorgonServer => {
    const server = p.make(o, custom);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close({ timeoutMs: 200 })));
  });

  it('has the same members as every other protocol', () => {
    const server = make();
    for (const member of ['listen', 'listenTls', 'close', 'address', 'tlsAddress', 'accept', 'on', 'off'] as const) {
      expect(typeof server[member], member).toBe('function');
    }
    expect(server.connections).toBe(0);
    expect(server.counters).toMatchObject({ connections: 0, active: 0, rejected: 0, commands: 0 });
    expect(server.address()).toBeNull();
    expect(server.tlsAddress()).toBeNull();
    expect(typeof server[Symbol.asyncDispose]).toBe('function');
  });

  it('validates options the same way, with one sentence naming the option', () => {
    const bad: Array<[Common | Record<string, unknown>, RegExp]> = [
      [{ limits: { maxLineLength: 0 } }, /limits\.maxLineLength must be a whole number of at least 1, got 0\.$/],
      [{ limits: { idleTimeoutMs: 1.5 } }, /limits\.idleTimeoutMs must be a whole number/],
      [{ limits: { maxLineLenght: 80 } }, /limits\.maxLineLenght is not a limit/],
      [{ proxyProtocol: { trusted: '10.0.0.0/8' } }, /proxyProtocol\.trusted must be a list/],
      [{ proxyProtocol: { trusted: [], timeoutMs: 0 } }, /proxyProtocol\.timeoutMs must be a whole number/],
      [{ logger: {} }, /option logger must be a Logger/],
      [{ hooks: { connect: 'yes' } }, /option hooks\.connect must be a function/],
      [{ commands: [{ verb: 'X Y', args: 'none', help: '', run: () => {} }] }, /option commands\[0\]\.verb/],
    ];
    for (const [options, message] of bad) {
      let thrown: unknown;
      try {
        p.make(options as Common);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, JSON.stringify(options)).toBeInstanceOf(ServerOptionError);
      expect((thrown as Error).message).toMatch(new RegExp(`^${p.name} server option `));
      expect((thrown as Error).message).toMatch(message);
    }
  });

  it('listen, address, connections, counters, close', async () => {
    const server = make();
    const { port } = await server.listen(0);
    expect(server.address()?.port).toBe(port);
    const c = dial(port);
    await p.greet(c);
    for (let i = 0; i < 100 && server.connections === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(server.connections).toBe(1);
    expect(await ask(p, c, p.probe.line)).toMatch(p.probe.reply);
    expect(server.counters.connections).toBe(1);
    expect(server.counters.commands).toBeGreaterThanOrEqual(1);
    c.end();
    await c.closed();
    await server.close();
    expect(server.connections).toBe(0);
  });

  it('listenTls and tlsAddress: implicit TLS, counted with the plain listener', async () => {
    const server = make({ tls });
    await server.listen(0);
    const { port } = await server.listenTls(0);
    expect(server.tlsAddress()?.port).toBe(port);
    const c = new MemoryClient(tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }));
    await p.greet(c);
    expect(await ask(p, c, p.probe.line)).toMatch(p.probe.reply);
    expect(server.counters.connections).toBe(1);
    c.end();
    await c.closed();
    await expect(make().listenTls(0)).rejects.toThrow(/needs the tls option/);
  });

  it('accept(stream) serves any Duplex with the same counters and close()', async () => {
    const server = make();
    const [serverSide, clientSide] = memoryStreamPair({ allowHalfOpen: [true, false] });
    server.accept(serverSide, { remoteAddress: '192.0.2.1' });
    const c = new MemoryClient(clientSide);
    await p.greet(c);
    expect(server.connections).toBe(1);
    expect(await ask(p, c, p.probe.line)).toMatch(p.probe.reply);
    expect(server.counters.connections).toBe(1);
    await server.close({ timeoutMs: 500 });
    await c.closed();
    expect(server.connections).toBe(0);
    expect(() => server.accept(memoryStreamPair()[0])).toThrow(/closed/);
  });

  it('accept(socket) serves a Unix socket accepted by the embedder, and listen(path) binds one', async () => {
    const dir = await mkdtemp(join(tmpdir(), `gorgon-shape-${p.name}-`));
    const server = make();
    const own: NetServer = netServer((socket) => server.accept(socket, { remoteAddress: 'unix' }));
    try {
      await new Promise<void>((r) => own.listen(join(dir, 'own.sock'), () => r()));
      let c = new MemoryClient(netConnect(join(dir, 'own.sock')));
      await p.greet(c);
      expect(await ask(p, c, p.probe.line)).toMatch(p.probe.reply);
      c.end();
      await c.closed();
      expect(await server.listen(join(dir, 'bound.sock'))).toBe(join(dir, 'bound.sock'));
      c = new MemoryClient(netConnect(join(dir, 'bound.sock')));
      await p.greet(c);
      expect(await ask(p, c, p.probe.line)).toMatch(p.probe.reply);
      c.end();
      await c.closed();
      expect(server.counters.connections).toBe(2);
    } finally {
      await new Promise((r) => own.close(r));
      await server.close({ timeoutMs: 200 });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('emits connect, command, login, transfer and close; the connect hook can refuse', async () => {
    const seen: string[] = [];
    const server = make({ on: { connect: (e) => void seen.push(`connect ${e.via}`), close: () => void seen.push('close') } }, true);
    server.on('command', (e) => void seen.push(`command ${e.verb}`));
    server.on('login', (e) => void seen.push(`login ${e.user}`));
    server.on('loginFailed', (e) => void seen.push(`loginFailed ${e.reason}`));
    server.on('transfer', (e) => void seen.push(`transfer ${e.kind}`));
    const [a, b] = memoryStreamPair({ allowHalfOpen: [true, false] });
    server.accept(a);
    const c = new MemoryClient(b);
    await p.greet(c);
    if (p.login) {
      for (const line of p.login.bad) c.sendLine(line);
      await c.lines(p.login.bad.length - 1);
      expect(await c.line()).toMatch(p.login.badReply);
      for (const line of p.login.good) c.sendLine(line);
      await c.lines(p.login.good.length - 1);
      expect(await c.line()).toMatch(p.login.goodReply);
    }
    expect(await ask(p, c, p.custom.line)).toMatch(p.custom.reply);
    c.end();
    await c.closed();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen[0]).toBe('connect accept');
    expect(seen).toContain('command XHELLO');
    expect(seen.at(-1)).toBe('close');
    if (p.login) expect(seen).toEqual(expect.arrayContaining(['loginFailed credentials', 'login alice']));
    if (p.name === 'finger') expect(seen).toContain('transfer query');

    const refusing = make({ hooks: { connect: async (info) => info.remoteAddress !== '127.0.0.1' } });
    const { port } = await refusing.listen(0);
    const r = dial(port);
    expect((await r.readToEnd()).toString('latin1')).toMatch(p.refused);
    expect(refusing.counters.rejected).toBe(1);
  });

  it("an embedder's command through a socket (commands option, the core's CommandSpec)", async () => {
    const server = make({}, true);
    const { port } = await server.listen(0);
    const c = dial(port);
    await p.greet(c);
    expect(await ask(p, c, p.custom.line)).toMatch(p.custom.reply);
    c.end();
    await c.closed();
  });

  it('maxLineLength counts the line without its CRLF', async () => {
    const server = make({ limits: { maxLineLength: 24 } });
    const { port } = await server.listen(0);
    // Exactly 24 bytes before the CRLF: accepted (whatever the protocol makes of it).
    let c = dial(port);
    await p.greet(c);
    expect(await ask(p, c, `${p.probe.line} ${'x'.repeat(23 - p.probe.line.length)}`)).not.toMatch(p.tooLong);
    c.end();
    // 25 bytes: the protocol's over-long-line reply.
    c = dial(port);
    await p.greet(c);
    expect(await ask(p, c, 'x'.repeat(25))).toMatch(p.tooLong);
    c.end();
  });
});

describe('an authenticator that throws is a temporary failure, never a wrong password', () => {
  const broken = { authenticate: async () => Promise.reject(new Error('LDAP down')) };
  it.each([
    [
      'pop3',
      () => createPop3Server({ store: new MemoryMaildropStore(), auth: broken, limits: { maxAuthFailures: 1 } }),
      /^-ERR \[SYS\/TEMP\]/,
    ],
    ['ftp', () => createFtpServer({ store: new MemoryFs({}), auth: broken, limits: { maxAuthFailures: 1 } }), /^421 /],
  ] as const)('%s', async (name, make, reply) => {
    const server: GorgonServer = make();
    const failed: string[] = [];
    server.on('loginFailed', (e) => void failed.push(e.reason));
    const [a, b] = memoryStreamPair({ allowHalfOpen: [true, false] });
    server.accept(a);
    const c = new MemoryClient(b);
    await c.line();
    c.sendLine('USER alice');
    await c.line();
    c.sendLine('PASS wonderland');
    expect(await c.line()).toMatch(reply);
    expect(failed).toEqual(['unavailable']);
    if (name === 'pop3') {
      // Not counted toward maxAuthFailures (1 here): the session is still open for a retry.
      c.sendLine('CAPA');
      expect(await c.line()).toMatch(/^\+OK/);
    }
    await server.close({ timeoutMs: 200 });
  });
});

describe("a protocol's own options fail the same way", () => {
  it.each([
    [
      'pop3',
      () => createPop3Server({ store: new MemoryMaildropStore(), auth: auth(), mechanisms: ['kerberos' as never] }),
      /^pop3 server option mechanisms /,
    ],
    [
      'pop3',
      () => createPop3Server({ store: new MemoryMaildropStore(), auth: auth(), loginDelaySeconds: -1 }),
      /^pop3 server option loginDelaySeconds /,
    ],
    ['pop3', () => createPop3Server({ auth: auth() } as never), /^pop3 server option store must be a MaildropStore/],
    [
      'ftp',
      () => createFtpServer({ store: new MemoryFs({}), passivePorts: '10-20' }),
      /^ftp server option passivePorts is not valid: passive port range/,
    ],
    [
      'ftp',
      () => createFtpServer({ store: new MemoryFs({}), defaultPermissions: 'elrX' }),
      /^ftp server option defaultPermissions is not valid: unknown permission letter "X"/,
    ],
    ['ftp', () => createFtpServer({}), /^ftp server option store or root is required/],
    [
      'finger',
      () => createFingerServer({ store: new MemoryUserDirectory([]), forwarding: { enabled: true, port: 70000 } }),
      /^finger server option forwarding\.port must be at most 65535/,
    ],
  ] as const)('%s: %s', (_name, make, message) => {
    expect(make).toThrow(ServerOptionError);
    expect(make).toThrow(message);
  });
});
