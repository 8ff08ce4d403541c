import { connect as netConnect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProtocolServer, LineSession, ServerEvents, silentLogger, type Channel, type GorgonServer } from '@gorgon/core';
import { leakGuard } from '@gorgon/core/testing';
import { dial } from './helpers.js';

/** Greets with its server's banner and echoes lines; QUIT says goodbye. */
class Echo extends LineSession {
  readonly #banner: string;
  constructor(channel: Channel, banner: string) {
    super(channel);
    this.#banner = banner;
    this.push(`200 ${banner}\r\n`);
  }
  protected override onLine(line: string): void {
    if (line === 'QUIT') {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    } else this.push(`250 ${this.#banner} ${line}\r\n`);
  }
  protected override handleShutdown(): void {
    this.push('421 shutting down\r\n');
    this.closeWhenDone();
  }
}

function echoServer(banner: string): GorgonServer {
  return createProtocolServer({
    name: 'echo',
    logger: silentLogger,
    limits: {
      maxLineLength: 512,
      idleTimeoutMs: 0,
      totalTimeoutMs: 0,
      loginTimeoutMs: 0,
      maxConnections: 0,
      maxConnectionsPerIp: 0,
      maxAuthFailures: 3,
      maxUnknownCommands: 10,
      closeTimeoutMs: 5000,
      shutdownTimeoutMs: 5000,
    },
    secureContext: undefined,
    events: new ServerEvents(silentLogger),
    rejectReply: () => '421 busy\r\n',
    createSession: (channel) => {
      new Echo(channel, banner);
    },
  });
}

/** Connects once: 'refused' or the greeting line. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    let text = '';
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('data', (b: Buffer) => {
      text += b.toString();
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
  });
}

describe('listener handoff and retirement (reload without downtime)', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  it('new connections go to the new server on the same port; the old session goes on; retire waits for it', async () => {
    const old = echoServer('old');
    const { port } = await old.listen(0);
    const open = dial(port);
    expect(await open.line()).toBe('200 old');

    const next = echoServer('new');
    const handoff = old.handOff();
    expect(handoff).not.toBeNull();
    expect(await next.listen(handoff!)).toMatchObject({ port });
    expect(old.handOff()).toBeNull(); // it has nothing left to give
    let retired = false;
    const retiring = old.retire().then(() => (retired = true));

    expect(await greeting(port)).toBe('200 new');
    open.sendLine('hello');
    expect(await open.line()).toBe('250 old hello');
    expect(retired).toBe(false);
    expect(old.connections).toBe(1);
    open.sendLine('QUIT');
    expect(await open.line()).toBe('221 bye');
    await open.closed();
    await retiring;
    expect(old.connections).toBe(0);
    await next.close();
  });

  it('refuses no connection while the socket moves back and forth under a client connecting in a loop', async () => {
    let current = echoServer('s0');
    const { port } = await current.listen(0);
    const retired: Array<Promise<void>> = [];
    let stop = false;
    const results: string[] = [];
    const client = (async () => {
      while (!stop) results.push(await greeting(port));
    })();
    for (let i = 1; i <= 20; i++) {
      while (results.length < i * 3) await new Promise((r) => setTimeout(r, 1));
      const next = echoServer(`s${i}`);
      await next.listen(current.handOff()!);
      retired.push(current.retire());
      current = next;
    }
    stop = true;
    await client;
    await Promise.all(retired);
    await current.close();
    expect(results.filter((r) => !/^200 s\d+$/.test(r))).toEqual([]);
    expect(new Set(results).size).toBeGreaterThan(10);
  });

  it('close() during retirement says goodbye to the sessions left', async () => {
    const old = echoServer('old');
    const { port } = await old.listen(0);
    const open = dial(port);
    expect(await open.line()).toBe('200 old');
    const next = echoServer('new');
    await next.listen(old.handOff()!);
    const retiring = old.retire();
    await old.close({ timeoutMs: 2000 });
    expect(await open.line()).toBe('421 shutting down');
    await open.closed();
    await retiring;
    await next.close();
  });

  it('handoff.close() unbinds a socket nobody takes', async () => {
    const old = echoServer('old');
    const { port } = await old.listen(0);
    const handoff = old.handOff()!;
    expect(handoff.taken).toBe(false);
    await handoff.close();
    expect(await greeting(port)).toBe('ECONNREFUSED');
    await old.retire();
    await expect(echoServer('late').listen(handoff)).rejects.toThrow(/already taken/);
  });

  it('a held handoff keeps connections waiting (not refused) until the new server takes it', async () => {
    const old = echoServer('old');
    const { port } = await old.listen(0);
    const handoff = old.handOff()!;
    const waiting = greeting(port);
    await new Promise((r) => setTimeout(r, 50));
    const next = echoServer('new');
    await next.listen(handoff);
    expect(await waiting).toBe('200 new');
    await old.retire();
    await next.close();
  });
});
