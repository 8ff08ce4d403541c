import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, CoreError, createListener, LineSession, toSecureContext, type Channel } from '@gorgon/core';
import { createDemoCertificate, ensureDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard, memoryChannelPair, MemoryClient } from '@gorgon/core/testing';
import { deferred, dial, upgradeClient, waitFor } from './helpers.js';

let pems: { cert: string; key: string };
let secureContext: tls.SecureContext;

beforeAll(async () => {
  pems = await createDemoCertificate('localhost');
  secureContext = toSecureContext(pems);
});

/**
 * A STARTTLS server: every line executed is recorded. STARTTLS says "go ahead" and upgrades;
 * `SECURE?` reports the channel's state. `slowStart` delays the go-ahead (input piles up).
 */
class Starter extends LineSession {
  static executed: string[] = [];
  static slowStart: Promise<void> | undefined;
  constructor(channel: Channel) {
    super(channel, { inputHighWater: 4096, inputLowWater: 1024 });
    this.push(`220 ready secure=${channel.secure}\r\n`);
  }
  protected override async onLine(line: string): Promise<void> {
    Starter.executed.push(line);
    if (line === 'STARTTLS') {
      if (Starter.slowStart) await Starter.slowStart;
      this.push('220 go ahead\r\n');
      await this.startTls({ isServer: true, secureContext });
      return;
    }
    if (line === 'SECURE?') this.push(`250 secure=${this.channel.secure}\r\n`);
    else this.push(`250 ${line}\r\n`);
  }
  protected override handleError(): void {
    this.close({ flush: false });
  }
}

describe('TLS', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Starter.executed = [];
    Starter.slowStart = undefined;
  });
  afterEach(async () => {
    await guard.check();
  });

  it('STARTTLS: input pipelined after the command is never executed; commands work over TLS', async () => {
    await using listener = createListener({ name: 'starttls' }, (ch) => new Starter(ch));
    const { port } = await listener.listen(0);
    const plain = dial(port);
    expect(await plain.line()).toBe('220 ready secure=false');
    plain.send('STARTTLS\r\nINJECTED\r\n');
    expect(await plain.line()).toBe('220 go ahead');
    expect(plain.buffered.length).toBe(0);
    const secure = new MemoryClient(await upgradeClient(plain.socket, pems.cert));
    secure.sendLine('SECURE?');
    expect(await secure.line()).toBe('250 secure=true');
    secure.sendLine('NOOP');
    expect(await secure.line()).toBe('250 NOOP');
    expect(Starter.executed).toEqual(['STARTTLS', 'SECURE?', 'NOOP']);
    expect([...listener.channels][0]!.secure).toBe(true);
    secure.end();
    await secure.closed();
    await waitFor(() => listener.connections === 0, 'the session to close');
    expect(Starter.executed).not.toContain('INJECTED');
  });

  it('STARTTLS over a socket paused by a plaintext flood: nothing injected runs, the server survives', async () => {
    const gate = deferred();
    Starter.slowStart = gate.promise;
    await using listener = createListener({ name: 'starttls' }, (ch) => new Starter(ch));
    const { port } = await listener.listen(0);
    const plain = dial(port);
    expect(await plain.line()).toBe('220 ready secure=false');
    plain.send(`STARTTLS\r\n${'INJECTED\r\n'.repeat(20_000)}`);
    await waitFor(() => [...listener.channels][0]?.stream.isPaused() === true, 'the server to pause reading');
    gate.resolve();
    expect(await plain.line()).toBe('220 go ahead');
    // The flood left in the kernel is not a ClientHello: the handshake fails and the server
    // closes that connection. What matters is that none of it ran as a command.
    const upgraded = await upgradeClient(plain.socket, pems.cert).catch((err: unknown) => err);
    if (upgraded instanceof tls.TLSSocket) upgraded.destroy();
    plain.socket.destroy();
    await waitFor(() => listener.connections === 0, 'the session to close');
    expect(Starter.executed).toEqual(['STARTTLS']);

    // The listener is unharmed.
    const next = dial(port);
    expect(await next.line()).toBe('220 ready secure=false');
    next.sendLine('STARTTLS');
    expect(await next.line()).toBe('220 go ahead');
    const secure = new MemoryClient(await upgradeClient(next.socket, pems.cert));
    secure.sendLine('SECURE?');
    expect(await secure.line()).toBe('250 secure=true');
    secure.end();
    await secure.closed();
  });

  it('STARTTLS over the in-memory pair', async () => {
    const { channel, client } = memoryChannelPair();
    new Starter(channel);
    expect(await client.line()).toBe('220 ready secure=false');
    client.send('STARTTLS\r\nINJECTED\r\n');
    expect(await client.line()).toBe('220 go ahead');
    const secure = new MemoryClient(await upgradeClient(client.stream, pems.cert));
    secure.sendLine('SECURE?');
    expect(await secure.line()).toBe('250 secure=true');
    expect(Starter.executed).toEqual(['STARTTLS', 'SECURE?']);
    secure.end();
    await channel.closed;
  });

  it('a failed STARTTLS handshake closes the connection and frees the slot', async () => {
    await using listener = createListener({ name: 'starttls' }, (ch) => new Starter(ch));
    const { port } = await listener.listen(0);
    const plain = dial(port);
    expect(await plain.line()).toBe('220 ready secure=false');
    plain.sendLine('STARTTLS');
    expect(await plain.line()).toBe('220 go ahead');
    plain.send('this is not a ClientHello\r\n'.repeat(10));
    await plain.closed();
    await waitFor(() => listener.connections === 0, 'the slot to be freed');
    expect(Starter.executed).toEqual(['STARTTLS']);
  });

  it('implicit TLS listener: every connection starts with a handshake', async () => {
    await using listener = createListener({ name: 'pop3s', tls: pems }, (ch) => new Starter(ch));
    const { port } = await listener.listen(0);
    const socket = tls.connect({ port, host: '127.0.0.1', ca: pems.cert, servername: 'localhost' });
    const client = new MemoryClient(socket);
    expect(await client.line()).toBe('220 ready secure=true');
    client.sendLine('hello');
    expect(await client.line()).toBe('250 hello');
    const channel = [...listener.channels][0]!;
    expect(channel.secure).toBe(true);
    expect(channel.remoteAddress).toBe('127.0.0.1');
    client.end();
    await client.closed();
  });

  it('implicit TLS listener: a plaintext client is closed and the slot freed', async () => {
    await using listener = createListener({ name: 'pop3s', tls: pems }, (ch) => new Starter(ch));
    const { port } = await listener.listen(0);
    const plain = dial(port);
    plain.send('USER alice\r\n');
    await plain.closed();
    await waitFor(() => listener.connections === 0, 'the slot to be freed');
    expect(Starter.executed).toEqual([]);
  });

  it('ensureDemoCertificate writes cert.pem and a 0600 key.pem once, then reuses them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gorgon-cert-'));
    try {
      const first = await ensureDemoCertificate(join(dir, 'tls'));
      expect(first.certPath).toBe(join(dir, 'tls', 'cert.pem'));
      expect((await stat(first.keyPath)).mode & 0o777).toBe(0o600);
      const again = await ensureDemoCertificate(join(dir, 'tls'));
      expect(again.cert).toBe(first.cert);
      expect(again.key).toBe(first.key);
      const context = toSecureContext(again);
      await using listener = createListener({ name: 'demo', tls: { secureContext: context } }, (ch) => new Starter(ch));
      const { port } = await listener.listen(0);
      const client = new MemoryClient(tls.connect({ port, host: '127.0.0.1', ca: again.cert, servername: 'localhost' }));
      expect(await client.line()).toBe('220 ready secure=true');
      client.end();
      await client.closed();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('client side: connect({ tls }) and a client-side STARTTLS', async () => {
    /** Collects the lines a server sends; the client half of a protocol. */
    class Collector extends LineSession {
      readonly lines: string[] = [];
      protected override onLine(line: string): void {
        this.lines.push(line);
      }
      upgrade(): Promise<void> {
        return this.startTls({ isServer: false, ca: pems.cert, servername: 'localhost' });
      }
    }
    await using implicit = createListener({ name: 'pop3s', tls: pems }, (ch) => new Starter(ch));
    const { port: tlsPort } = await implicit.listen(0);
    const channel = await connect({ port: tlsPort, tls: { ca: pems.cert, servername: 'localhost' } });
    expect(channel.secure).toBe(true);
    const viaTls = new Collector(channel);
    await waitFor(() => viaTls.lines.length === 1, 'the greeting');
    viaTls.push('ping\r\n');
    await waitFor(() => viaTls.lines.length === 2, 'the reply');
    expect(viaTls.lines).toEqual(['220 ready secure=true', '250 ping']);
    viaTls.close();
    await channel.closed;

    // A client that refuses our certificate: its server-side session must not linger.
    await expect(connect({ port: tlsPort, tls: { servername: 'localhost' } })).rejects.toThrow(CoreError);
    await waitFor(() => implicit.connections === 0, 'the refused connection to close', 2000);

    await using plainListener = createListener({ name: 'starttls' }, (ch) => new Starter(ch));
    const { port } = await plainListener.listen(0);
    const upgrading = new Collector(await connect({ port }));
    await waitFor(() => upgrading.lines.length === 1, 'the greeting');
    upgrading.push('STARTTLS\r\n');
    await waitFor(() => upgrading.lines.length === 2, 'the go-ahead');
    await upgrading.upgrade();
    expect(upgrading.channel.secure).toBe(true);
    upgrading.push('SECURE?\r\n');
    await waitFor(() => upgrading.lines.length === 3, 'the reply over TLS');
    expect(upgrading.lines).toEqual(['220 ready secure=false', '220 go ahead', '250 secure=true']);
    upgrading.close();
    await upgrading.channel.closed;
  });
});
