import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createListener, LineSession, type Channel } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial } from './helpers.js';

/**
 * Lines, plus two raw modes: "LIT n" reads n raw bytes, "BODY" reads until the client closes
 * its side. Every event is recorded.
 */
class Reader extends LineSession {
  static events: string[] = [];
  #raw: Buffer[] = [];
  constructor(channel: Channel) {
    super(channel);
  }
  protected override async onLine(line: string): Promise<void> {
    Reader.events.push(`line ${line}`);
    const literal = /^LIT (\d+)$/.exec(line);
    if (literal) this.readBytes(Number(literal[1]));
    else if (line === 'BODY') this.readUntilClose();
    await Promise.resolve();
    this.push(`ok ${line}\r\n`);
  }
  protected override onRawData(data: Buffer): void {
    this.#raw.push(Buffer.from(data));
  }
  protected override onRawEnd(): void {
    const body = Buffer.concat(this.#raw).toString('latin1');
    this.#raw = [];
    Reader.events.push(`raw ${JSON.stringify(body)}`);
    this.push(`got ${body.length} bytes\r\n`);
    this.readLines();
  }
  protected override handleEnd(): void {
    Reader.events.push('end');
    super.handleEnd();
  }
  protected override handleClose(): void {
    Reader.events.push('close');
  }
}

describe('end of input', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Reader.events = [];
  });
  afterEach(async () => {
    await guard.check();
  });

  it('after a half-close every pipelined line is answered, then handleEnd once, then the close', async () => {
    await using listener = createListener({ name: 'eof' }, (ch) => new Reader(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.send('a\r\nLIT 5\r\n12\r\n3b\r\n');
    client.end();
    expect((await client.readToEnd()).toString()).toBe('ok a\r\nok LIT 5\r\ngot 5 bytes\r\nok b\r\n');
    expect(Reader.events).toEqual(['line a', 'line LIT 5', 'raw "12\\r\\n3"', 'line b', 'end', 'close']);
  });

  it('a last line without a line end at EOF is never executed', async () => {
    const { channel, client } = memoryChannelPair();
    new Reader(channel);
    client.send('first\r\nDELE 1');
    client.end();
    expect((await client.readToEnd()).toString()).toBe('ok first\r\n');
    await channel.closed;
    expect(Reader.events).toEqual(['line first', 'end', 'close']);
  });

  it('a partial CRLF held back at EOF is given up, not waited on forever', async () => {
    const { channel, client } = memoryChannelPair();
    new Reader(channel);
    client.send('first\r\nsecond\r');
    client.end();
    expect((await client.readToEnd()).toString()).toBe('ok first\r\n');
    await channel.closed;
    expect(Reader.events).toEqual(['line first', 'end', 'close']);
  });

  it('readUntilClose: the body is everything until the client shuts down its side; the reply still goes out', async () => {
    await using listener = createListener({ name: 'eof' }, (ch) => new Reader(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.send('BODY\r\nline 1\r\n.\r\nLIT 3\r\n');
    client.send('no line end');
    client.end();
    expect((await client.readToEnd()).toString()).toBe('ok BODY\r\ngot 29 bytes\r\n');
    expect(Reader.events).toEqual(['line BODY', 'raw "line 1\\r\\n.\\r\\nLIT 3\\r\\nno line end"', 'end', 'close']);
  });

  it('a byte count cut short by EOF: the partial data, then handleEnd', async () => {
    const { channel, client } = memoryChannelPair();
    new Reader(channel);
    client.send('LIT 100\r\nonly this');
    client.end();
    expect((await client.readToEnd()).toString()).toBe('ok LIT 100\r\n');
    await channel.closed;
    expect(Reader.events).toEqual(['line LIT 100', 'end', 'close']);
  });
});
