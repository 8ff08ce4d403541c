import { createServer, connect as netConnect, type Socket } from 'node:net';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LineSession, type Channel } from '@gorgon/core';
import { leakGuard, memoryChannelPair, transcript } from '@gorgon/core/testing';

class Greeter extends LineSession {
  constructor(channel: Channel) {
    super(channel);
    this.push('200 Greeter v1.2 ready\r\n');
  }
  protected override onLine(line: string): void {
    if (line === 'QUIT') {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    } else if (line === '') this.push('500 empty\r\n');
    else this.push(`250 ${line}\r\n`);
  }
}

describe('transcript()', () => {
  it('plays client lines and checks server lines exactly, or by /regex/', async () => {
    const client = await transcript(
      (ch) => new Greeter(ch),
      `
      S: /^200 Greeter v\\d+\\.\\d+ ready$/
      C: hello
      S: 250 hello
      C:
      S: 500 empty
      C: QUIT
      S: 221 bye
      `,
      { expectClose: true },
    );
    expect(client.ended).toBe(true);
  });

  it('reports the step that differs', async () => {
    await expect(
      transcript(
        (ch) => new Greeter(ch),
        `
        S: /ready/
        C: hello
        S: 250 goodbye
        `,
      ),
    ).rejects.toThrow('transcript step 3: expected "250 goodbye", got "250 hello"');
  });

  it('fails when a line never comes, when the server does not close, and on a malformed script', async () => {
    await expect(transcript((ch) => new Greeter(ch), 'S: /ready/\nS: 250 more', { timeoutMs: 100 })).rejects.toThrow(
      /transcript step 2 .*timed out/,
    );
    await expect(transcript((ch) => new Greeter(ch), 'S: /ready/', { expectClose: true, timeoutMs: 100 })).rejects.toThrow(
      /the server to close/,
    );
    await expect(transcript((ch) => new Greeter(ch), 'X: nonsense')).rejects.toThrow(/lines start with/);
  });
});

describe('memoryChannelPair()', () => {
  it('gives a server channel and a client that reads lines and bytes', async () => {
    const { channel, client } = memoryChannelPair({ id: 'mem-1' });
    expect(channel.id).toBe('mem-1');
    expect(channel.remoteAddress).toBe('127.0.0.1');
    expect(channel.secure).toBe(false);
    new Greeter(channel);
    expect(await client.line()).toBe('200 Greeter v1.2 ready');
    client.send('ab');
    client.send('c\r\nQUIT\r\n');
    expect(await client.bytes(9)).toEqual(Buffer.from('250 abc\r\n'));
    expect(await client.readToEnd()).toEqual(Buffer.from('221 bye\r\n'));
    await channel.closed;
  });
});

describe('leakGuard()', () => {
  it('detects a server left listening, and passes once it is closed', async () => {
    const guard = leakGuard();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await expect(guard.check(50)).rejects.toThrow(/TCPServerWrap: \d+ -> \d+/);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await guard.check();
  });

  it('detects a socket, a file handle and a timer left open', async () => {
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };

    const guard = leakGuard();
    const socket = netConnect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const handle = await open(fileURLToPath(import.meta.url), 'r');
    const timer = setTimeout(() => {}, 60_000);
    const message = await guard.check(50).then(
      () => 'no leak seen',
      (err: Error) => err.message,
    );
    expect(message).toMatch(/TCPSocketWrap: \d+ -> \d+/);
    expect(message).toMatch(/FileHandle: \d+ -> \d+/);
    expect(message).toContain('Timeout: 1 pending');
    socket.destroy();
    for (const s of accepted) s.destroy();
    await handle.close();
    clearTimeout(timer);
    await guard.check();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("ignores unref'd timers and timers that have fired", async () => {
    const guard = leakGuard();
    setTimeout(() => {}, 60_000).unref();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await guard.check(0);
  });

  it('waits for closes that are still settling', async () => {
    const guard = leakGuard();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    setTimeout(() => server.close(), 30);
    await guard.check(1000);
  });
});
