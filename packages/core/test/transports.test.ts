import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Channel, connect, createListener, formatAddress, LineSession } from '@gorgon/core';
import { leakGuard, MemoryClient } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

class Echo extends LineSession {
  constructor(channel: Channel) {
    super(channel);
    this.push(`hello ${channel.remoteAddress}\r\n`);
  }
  protected override onLine(line: string): void {
    if (line === 'QUIT') {
      this.push('bye\r\n');
      this.closeWhenDone();
      return;
    }
    this.push(`echo ${line}\r\n`);
  }
}

/** The client half: sends lines, keeps what comes back. */
class Collector extends LineSession {
  readonly lines: string[] = [];
  protected override onLine(line: string): void {
    this.lines.push(line);
  }
}

describe('transports', () => {
  let guard: ReturnType<typeof leakGuard>;
  let dir: string;
  beforeEach(async () => {
    guard = leakGuard();
    dir = await mkdtemp(join(tmpdir(), 'gorgon-unix-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await guard.check();
  });

  it('a Unix domain socket listener, with a raw client and with connect({ path })', async () => {
    const path = join(dir, 'echo.sock');
    await using listener = createListener({ name: 'unix', maxConnectionsPerIp: 2 }, (ch) => new Echo(ch));
    expect(await listener.listen(path)).toBe(path);
    expect(formatAddress(listener.address())).toBe(path);
    const client = new MemoryClient(netConnect(path));
    expect(await client.line()).toBe('hello local');
    client.sendLine('over unix');
    expect(await client.line()).toBe('echo over unix');

    const channel = await connect({ path });
    const collector = new Collector(channel);
    collector.push('ping\r\nQUIT\r\n');
    await channel.closed;
    expect(collector.lines).toEqual(['hello local', 'echo ping', 'bye']);

    client.sendLine('QUIT');
    expect(await client.line()).toBe('bye');
    await client.closed();
  });

  it("a chat over an arbitrary Duplex: a child process, stdin and stdout (the seed's file_dispatcher)", async () => {
    // The child upper-cases every line it reads and exits at EOF.
    const child = spawn(process.execPath, [
      '-e',
      "require('readline').createInterface({ input: process.stdin }).on('line', (l) => process.stdout.write(l.toUpperCase() + '\\r\\n'))",
    ]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
    const channel = new Channel(stream);
    expect(channel.remoteAddress).toBe('local');
    const chat = new Collector(channel);
    chat.push('first line\r\nsecond\r\n');
    await waitFor(() => chat.lines.length === 2, 'the child to answer');
    chat.push('third\r\n');
    await waitFor(() => chat.lines.length === 3, 'the third answer');
    chat.closeWhenDone(); // ends the child's stdin: it exits, its stdout ends
    await channel.closed;
    expect(await exited).toBe(0);
    expect(chat.lines).toEqual(['FIRST LINE', 'SECOND', 'THIRD']);
  });

  it('connect() fails with a CoreError when nobody listens, and after connectTimeoutMs', async () => {
    const path = join(dir, 'nobody.sock');
    await expect(connect({ path })).rejects.toMatchObject({ code: 'connect-failed' });
    // A server that accepts but never answers the ClientHello: the TLS connect can only time out.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    await expect(connect({ port, tls: { servername: 'localhost' }, connectTimeoutMs: 50 })).rejects.toMatchObject({ code: 'timeout' });
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('a channel made before its owner attaches keeps the input for it', async () => {
    await using listener = createListener({ name: 'late' }, (ch) => {
      // The session is made a little later (after an async lookup, say).
      setTimeout(() => new Echo(ch), 20);
    });
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.sendLine('early bird');
    expect(await client.lines(2)).toEqual(['hello 127.0.0.1', 'echo early bird']);
    client.sendLine('QUIT');
    await client.closed();
  });
});
