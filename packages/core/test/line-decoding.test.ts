import { describe, expect, it } from 'vitest';
import { LineSession, type Channel } from '@gorgon/core';
import { memoryChannelPair } from '@gorgon/core/testing';

/** Lines as a LineSession decodes them, whole in one read or split across reads. */
class Recorder extends LineSession {
  readonly lines: string[] = [];
  constructor(channel: Channel, encoding?: BufferEncoding) {
    super(channel, encoding ? { encoding, maxLineLength: 16 } : { maxLineLength: 16 });
  }
  protected override onLine(line: string): void {
    this.lines.push(line);
  }
  protected override onLineTooLong(): void {
    this.lines.push('<too long>');
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('LineSession decoding (whole lines in one read take a shorter path)', () => {
  const input = Buffer.concat([
    Buffer.from('caf\xc3\xa9\r\n', 'latin1'),
    Buffer.from('\xff\xfe bytes\n', 'latin1'),
    Buffer.from('\r\n'),
    Buffer.from(`${'x'.repeat(16)}\r\n${'y'.repeat(17)}\r\n`),
  ]);
  for (const encoding of [undefined, 'latin1', 'utf8', 'hex'] as const) {
    it(`${encoding ?? 'default (utf8)'}: the same lines in one read and one byte at a time`, async () => {
      const want = [
        Buffer.from('caf\xc3\xa9', 'latin1').toString(encoding ?? 'utf8'),
        Buffer.from('\xff\xfe bytes', 'latin1').toString(encoding ?? 'utf8'),
        '',
        Buffer.from('x'.repeat(16)).toString(encoding ?? 'utf8'),
        '<too long>',
      ];
      for (const split of [false, true]) {
        const { channel, client } = memoryChannelPair();
        const session = new Recorder(channel, encoding);
        if (split) for (const byte of input) client.stream.write(Buffer.from([byte]));
        else client.stream.write(input);
        await settle();
        expect(session.lines).toEqual(want);
        session.close({ flush: false });
        client.stream.destroy();
      }
    });
  }
});
