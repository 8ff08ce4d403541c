import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createListener, LineSession, type Channel } from '@gorgon/core';
import { MemoryClient, memoryChannelPair } from '@gorgon/core/testing';

/** Answers `one` with a single reply and closes; `many` queues replies first, then says goodbye. */
class OneShot extends LineSession {
  constructor(channel: Channel) {
    super(channel, { maxLineLength: 100 });
  }
  protected override onLine(line: string): void | Promise<void> {
    if (line === 'one') return this.closeWhenDone('the answer\r\n');
    if (line === 'many') {
      for (let i = 0; i < 3; i++) this.push(`line ${i}\r\n`);
      return this.closeWhenDone(Buffer.from('bye\r\n'));
    }
    if (line === 'later') {
      // A reply known later is still queued when the goodbye comes: it goes out first.
      this.pushLater(new Promise((resolve) => setTimeout(() => resolve('late\r\n'), 20)));
      return this.closeWhenDone('bye\r\n');
    }
    this.closeWhenDone('');
  }
}

describe('closeWhenDone(last)', () => {
  it('writes the last reply after everything queued, then closes', async () => {
    for (const [query, expected] of [
      ['one', ['the answer']],
      ['many', ['line 0', 'line 1', 'line 2', 'bye']],
      ['later', ['late', 'bye']],
      ['empty', []],
    ] as const) {
      const { channel, client } = memoryChannelPair();
      new OneShot(channel);
      client.send(`${query}\r\n`);
      await client.closed(5000);
      const text = client.buffered.toString();
      expect(text === '' ? [] : text.trimEnd().split('\r\n')).toEqual(expected);
    }
  });

  it('over TCP: the reply arrives whole and the connection ends, input after it unread', async () => {
    await using listener = createListener({ name: 'one' }, (ch) => new OneShot(ch));
    const { port } = await listener.listen(0);
    for (let i = 0; i < 20; i++) {
      const client = new MemoryClient(netConnect(port, '127.0.0.1'));
      client.send('one\r\nmany\r\n');
      expect(await client.line()).toBe('the answer');
      await client.closed();
      expect(client.buffered.toString()).toBe('');
    }
    // The server's side closes once it has seen the client's FIN too.
    for (let i = 0; i < 200 && listener.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(listener.connections).toBe(0);
  });
});
