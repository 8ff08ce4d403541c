import { Channel, memoryStreamPair } from '@gorgon/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ControlConnection,
  FtpClientError,
  ReplyParser,
  formatReply,
  parseEpsvReply,
  parseFeatures,
  parsePasvReply,
  replyGroup,
  type FtpReply,
} from '../src/internal.js';

function parseAll(lines: string[]): FtpReply[] {
  const parser = new ReplyParser();
  const out: FtpReply[] = [];
  for (const line of lines) {
    const reply = parser.push(line);
    if (reply) out.push(reply);
  }
  return out;
}

/** A ControlConnection over the in-memory pair; `feed` writes raw bytes from the "server". */
function control(): { conn: ControlConnection; feed: (data: Buffer) => void; end: () => void } {
  const [clientSide, serverSide] = memoryStreamPair();
  const conn = new ControlConnection(new Channel(clientSide));
  return { conn, feed: (data) => serverSide.write(data), end: () => serverSide.end() };
}

async function readAll(conn: ControlConnection, n: number): Promise<FtpReply[]> {
  const out: FtpReply[] = [];
  for (let i = 0; i < n; i++) out.push(await conn.read(2000));
  return out;
}

describe('ReplyParser (RFC 959 §4.2)', () => {
  it('reads single-line replies, with and without text', () => {
    expect(parseAll(['220 Service ready', '226'])).toEqual([
      { code: 220, lines: ['Service ready'] },
      { code: 226, lines: [''] },
    ]);
  });

  it('reads the RFC 959 §4.2 multi-line example, inner lines that look like replies included', () => {
    const lines = ['123-First line', 'Second line', '  234 A line beginning with numbers', '123 The last line'];
    expect(parseAll(lines)).toEqual([{ code: 123, lines: ['First line', 'Second line', '  234 A line beginning with numbers', 'The last line'] }]);
  });

  it('does not end a multi-line reply on another code, and strips a repeated xyz- prefix', () => {
    const lines = ['211-Status', '200 not the end', '211-ProFTPD style', '211 End'];
    expect(parseAll(lines)).toEqual([{ code: 211, lines: ['Status', '200 not the end', 'ProFTPD style', 'End'] }]);
  });

  it('refuses a line that cannot start a reply', () => {
    expect(() => new ReplyParser().push('hello')).toThrow(FtpClientError);
    expect(() => new ReplyParser().push('620 out of range')).toThrow(/not an FTP reply/);
  });

  it('bounds the lines of one reply', () => {
    const parser = new ReplyParser({ maxLines: 3 });
    parser.push('211-a');
    parser.push('b');
    parser.push('c');
    expect(() => parser.push('d')).toThrow(/passed 3 lines/);
    expect(parser.pending).toBe(false);
  });

  it('groups codes by their first digit', () => {
    expect([150, 226, 331, 421, 550].map(replyGroup)).toEqual(['preliminary', 'completion', 'intermediate', 'transient', 'permanent']);
  });

  it('formatReply indents inner lines that would end the reply early', () => {
    const text = formatReply({ code: 211, lines: ['Features:', '211 trap', 'End'] });
    expect(text).toBe('211-Features:\r\n 211 trap\r\n211 End\r\n');
    expect(parseAll(text.split('\r\n').slice(0, -1))).toEqual([{ code: 211, lines: ['Features:', ' 211 trap', 'End'] }]);
  });
});

describe('reply payloads', () => {
  it('parses FEAT (RFC 2389 §3.2)', () => {
    const features = parseFeatures({ code: 211, lines: ['Extensions supported:', ' MLST type*;size*;', ' SIZE', ' rest stream', 'End'] });
    expect([...features]).toEqual([
      ['MLST', 'type*;size*;'],
      ['SIZE', ''],
      ['REST', 'stream'],
    ]);
    expect(parseFeatures({ code: 500, lines: ['no'] }).size).toBe(0);
  });

  it('parses PASV with and without parentheses (RFC 1123 §4.1.2.6)', () => {
    expect(parsePasvReply({ code: 227, lines: ['Entering Passive Mode (10,1,2,3,195,80).'] })).toEqual({ host: '10.1.2.3', port: 50000 });
    expect(parsePasvReply({ code: 227, lines: ['=127,0,0,1,4,1'] })).toEqual({ host: '127.0.0.1', port: 1025 });
    expect(() => parsePasvReply({ code: 227, lines: ['Entering Passive Mode (300,1,2,3,4,5)'] })).toThrow(FtpClientError);
    expect(() => parsePasvReply({ code: 227, lines: ['nothing here'] })).toThrow(/PASV reply/);
  });

  it('parses EPSV with any delimiter (RFC 2428 §3)', () => {
    expect(parseEpsvReply({ code: 229, lines: ['Entering Extended Passive Mode (|||6446|)'] })).toBe(6446);
    expect(parseEpsvReply({ code: 229, lines: ['ok (!!!1025!)'] })).toBe(1025);
    expect(() => parseEpsvReply({ code: 229, lines: ['(|||70000|)'] })).toThrow(/EPSV reply/);
  });
});

const textLine = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '1', '2', '-', '9', 'é', '\t'), maxLength: 12 });
const replyArb = fc.record({
  code: fc.integer({ min: 100, max: 599 }),
  lines: fc.array(textLine, { minLength: 1, maxLength: 5 }),
});

/** What the parser must give back for a formatted reply: inner lines as they went on the wire. */
function expected(reply: FtpReply): FtpReply {
  const wire = formatReply(reply).split('\r\n').slice(0, -1);
  if (wire.length === 1) return reply;
  return { code: reply.code, lines: [reply.lines[0]!, ...wire.slice(1, -1), reply.lines[reply.lines.length - 1]!] };
}

describe('ControlConnection framing over a byte stream', () => {
  const stream = [
    { code: 220, lines: ['Welcome', ' to the', '220- fake', 'server'] },
    { code: 331, lines: ['Password?'] },
    { code: 211, lines: ['Features:', ' MLST type*;size*;', ' EPSV', 'End'] },
    { code: 226, lines: [''] },
  ];
  const bytes = Buffer.from(stream.map(formatReply).join(''));

  it('gives the same replies for a split at every byte', async () => {
    for (let at = 0; at <= bytes.length; at++) {
      const { conn, feed } = control();
      feed(bytes.subarray(0, at));
      feed(bytes.subarray(at));
      expect(await readAll(conn, stream.length)).toEqual(stream.map(expected));
      conn.close();
    }
  });

  it('gives the same replies for bare LF line ends', async () => {
    const { conn, feed } = control();
    feed(Buffer.from(bytes.toString('utf8').replace(/\r\n/g, '\n')));
    expect(await readAll(conn, stream.length)).toEqual(stream.map(expected));
    conn.close();
  });

  it('property: any replies, cut into any chunks, come out whole and in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(replyArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), async (replies, cuts) => {
        const wire = Buffer.from(replies.map(formatReply).join(''));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const { conn, feed } = control();
        let from = 0;
        for (const p of [...points, wire.length]) {
          feed(wire.subarray(from, p));
          from = p;
        }
        const got = await readAll(conn, replies.length);
        conn.close();
        expect(got).toEqual(replies.map(expected));
      }),
      { numRuns: 200 },
    );
  });

  it('fails a pending read when the server hangs up, after handing out what arrived', async () => {
    const { conn, feed, end } = control();
    feed(Buffer.from('421 Service not available, closing control connection.\r\n'));
    end();
    expect((await conn.read(1000)).code).toBe(421);
    await expect(conn.read(1000)).rejects.toMatchObject({ kind: 'closed' });
  });

  it('fails with a protocol error on garbage, and times out a silent server', async () => {
    const a = control();
    const pending = a.conn.read(1000);
    a.feed(Buffer.from('HTTP/1.1 400 Bad Request\r\n'));
    await expect(pending).rejects.toMatchObject({ kind: 'protocol' });
    const b = control();
    await expect(b.conn.read(50)).rejects.toMatchObject({ kind: 'timeout' });
    b.conn.close();
  });

  it('refuses an over-long reply line', async () => {
    const { conn, feed } = control();
    const pending = conn.read(1000);
    feed(Buffer.from(`200 ${'x'.repeat(9000)}\r\n`));
    await expect(pending).rejects.toMatchObject({ kind: 'protocol' });
  });
});
