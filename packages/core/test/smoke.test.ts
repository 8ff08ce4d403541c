import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createListener, LineSession, type Channel } from '@gorgon/core';
import { MemoryClient, transcript } from '@gorgon/core/testing';

class Echo extends LineSession {
  constructor(channel: Channel) {
    super(channel, { maxLineLength: 100 });
    this.push('hello\r\n');
  }
  protected override async onLine(line: string): Promise<void> {
    if (line === 'quit') {
      this.push('bye\r\n');
      this.closeWhenDone();
      return;
    }
    if (line.startsWith('slow')) await new Promise((r) => setTimeout(r, 5));
    this.push(`echo ${line}\r\n`);
  }
  protected override onLineTooLong(): void {
    this.push('too long\r\n');
  }
}

describe('smoke', () => {
  it('transcript in memory', async () => {
    await transcript(
      (ch) => new Echo(ch),
      `
      S: hello
      C: a
      S: echo a
      C: slow b
      S: echo slow b
      C: quit
      S: bye
    `,
      { expectClose: true },
    );
  });
  it('real socket with pipelining', async () => {
    await using listener = createListener({ name: 'echo' }, (ch) => new Echo(ch));
    const { port } = await listener.listen(0);
    const socket = netConnect(port, '127.0.0.1');
    const client = new MemoryClient(socket);
    expect(await client.line()).toBe('hello');
    client.send(`slow 1\r\nx2\nslow 3\r\n${'y'.repeat(500)}\r\nquit\r\n`);
    expect(await client.lines(5)).toEqual(['echo slow 1', 'echo x2', 'echo slow 3', 'too long', 'bye']);
    await client.closed();
  });
});
