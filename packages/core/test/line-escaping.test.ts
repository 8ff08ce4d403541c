import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createListener,
  crlfLength,
  escapeMultiline,
  isEmptyChunk,
  LineEscapingProducer,
  LineSession,
  SimpleProducer,
  type Chunk,
  type LineEscapingOptions,
  type Producer,
} from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial, splitAt } from './helpers.js';

class Chunks implements Producer {
  readonly #chunks: Buffer[];
  constructor(chunks: Buffer[]) {
    this.#chunks = [...chunks];
  }
  more(): Chunk {
    return this.#chunks.shift() ?? null;
  }
}

async function escapeChunks(chunks: Buffer[], options?: LineEscapingOptions): Promise<string> {
  const producer = new LineEscapingProducer(new Chunks(chunks), options);
  const out: Buffer[] = [];
  for (;;) {
    const chunk = await producer.more();
    if (isEmptyChunk(chunk)) break;
    out.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  expect(await producer.more()).toBeNull();
  return Buffer.concat(out).toString('latin1');
}

/** The reference: every LF ends a line (an optional CR before it is part of the line end). */
function reference(body: string, { dotStuff = true, terminate = true }: LineEscapingOptions = {}): string {
  const pieces = body.split('\n');
  const last = pieces.pop()!;
  const lines = pieces.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
  if (last !== '') lines.push(last);
  const stuffed = lines.map((l) => (dotStuff && l.startsWith('.') ? `.${l}` : l));
  return stuffed.map((l) => `${l}\r\n`).join('') + (terminate ? '.\r\n' : '');
}

describe('LineEscapingProducer', () => {
  it('dot-stuffs, turns bare LF into CRLF, ends an unterminated body, and terminates', async () => {
    const body = '.hidden\nplain\r\n..two\n\n.\r\nlast.';
    expect(await escapeChunks([Buffer.from(body)])).toBe('..hidden\r\nplain\r\n...two\r\n\r\n..\r\nlast.\r\n.\r\n');
    expect(await escapeChunks([])).toBe('.\r\n');
    expect(await escapeChunks([Buffer.from('x\r\n')], { terminate: false })).toBe('x\r\n');
    expect(await escapeChunks([Buffer.from('.x\n')], { dotStuff: false, terminate: false })).toBe('.x\r\n');
  });

  it('gives the same output for every split point of the input', async () => {
    const body = Buffer.from('.a\r\n.\n\r\n..\r\rb\n\r.\nc\r', 'latin1');
    const want = reference(body.toString('latin1'));
    for (let i = 0; i <= body.length; i++) {
      for (let j = i; j <= body.length; j++) {
        expect(await escapeChunks(splitAt(body, [i, j]))).toBe(want);
      }
    }
  });

  it('matches the reference for random bodies and random chunkings', async () => {
    const piece = fc.constantFrom('.', 'a', 'é', '\r', '\n', '\r\n', '..', ' ');
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }).map((p) => p.join('')),
        fc.array(fc.nat({ max: 80 }), { maxLength: 10 }),
        fc.record({ dotStuff: fc.boolean(), terminate: fc.boolean() }),
        async (body, cuts, options) => {
          const bytes = Buffer.from(body);
          const got = await escapeChunks(splitAt(bytes, cuts), options);
          expect(got).toBe(reference(bytes.toString('latin1'), options));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('passes close() on to its source', async () => {
    let closed = false;
    const producer = new LineEscapingProducer({
      more: () => 'x',
      close: () => {
        closed = true;
      },
    });
    await producer.close();
    expect(closed).toBe(true);
    expect(await producer.more()).toBeNull();
  });
});

describe('escapeMultiline', () => {
  it('puts the prefix, the escaped body and the terminator in one buffer', () => {
    const body = Buffer.from('.hidden\nplain\r\n..two\n\n.\r\nlast.');
    expect(escapeMultiline(body, '+OK 5 octets\r\n').toString('latin1')).toBe(
      '+OK 5 octets\r\n..hidden\r\nplain\r\n...two\r\n\r\n..\r\nlast.\r\n.\r\n',
    );
    expect(escapeMultiline(Buffer.alloc(0)).toString()).toBe('.\r\n');
    expect(escapeMultiline(Buffer.from('clean\r\nbody\r\n'), '+OK\r\n').toString()).toBe('+OK\r\nclean\r\nbody\r\n.\r\n');
    expect(escapeMultiline(Buffer.from('.x\n'), '', { dotStuff: false, terminate: false }).toString()).toBe('.x\r\n');
    expect(escapeMultiline(Buffer.from('\n\n'), 'é ').toString()).toBe('é \r\n\r\n.\r\n');
  });

  it('agrees with LineEscapingProducer on any body', async () => {
    const piece = fc.constantFrom('.', 'a', 'é', '\r', '\n', '\r\n', '..', ' ');
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 40 }).map((p) => p.join('')),
        fc.string({ maxLength: 8 }),
        fc.record({ dotStuff: fc.boolean(), terminate: fc.boolean() }),
        async (body, prefix, options) => {
          const data = Buffer.from(body);
          const got = escapeMultiline(data, prefix, options);
          expect(got.toString('latin1')).toBe(Buffer.from(prefix).toString('latin1') + (await escapeChunks([data], options)));
        },
      ),
    );
  });
});

describe('crlfLength', () => {
  it('counts every bare LF as two octets, a CRLF as two', () => {
    expect(crlfLength(Buffer.from(''))).toBe(0);
    expect(crlfLength(Buffer.from('a\nb\r\nc'))).toBe(7);
    expect(crlfLength(Buffer.from('\n\n'))).toBe(4);
    expect(crlfLength(Buffer.from('\nx'), true)).toBe(2);
    expect(crlfLength(Buffer.from('\nx'), false)).toBe(3);
  });

  it('equals the size of the CRLF-normalised body, also summed over chunks', () => {
    const piece = fc.constantFrom('a', '\r', '\n', '\r\n', '.');
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }).map((p) => p.join('')),
        fc.array(fc.nat({ max: 60 })),
        (body, cuts) => {
          const bytes = Buffer.from(body);
          const normalised = body.replace(/(?<!\r)\n/g, '\r\n');
          expect(crlfLength(bytes)).toBe(Buffer.byteLength(normalised));
          let sum = 0;
          let prevCr = false;
          for (const chunk of splitAt(bytes, cuts)) {
            sum += crlfLength(chunk, prevCr);
            if (chunk.length > 0) prevCr = chunk[chunk.length - 1] === 0x0d;
          }
          expect(sum).toBe(crlfLength(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** RETR-like: "+OK" then the escaped body; the client reads it with the multi-line rules. */
class Retr extends LineSession {
  static body = '';
  protected override onLine(): void {
    this.push('+OK message follows\r\n');
    this.pushWithProducer(new LineEscapingProducer(new SimpleProducer(Retr.body, 7)));
  }
}

describe('LineEscapingProducer on the wire', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Retr.body = 'Subject: x\n\n.\n..dots\r\nend';
  });
  afterEach(async () => {
    await guard.check();
  });

  it('a multi-line body round-trips through a socket and the memory pair', async () => {
    const wanted = ['+OK message follows', 'Subject: x', '', '..', '...dots', 'end', '.'];
    await using listener = createListener({ name: 'retr' }, (ch) => new Retr(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.sendLine('RETR 1');
    expect(await client.lines(wanted.length)).toEqual(wanted);
    client.end();
    await client.closed();

    const memory = memoryChannelPair();
    new Retr(memory.channel);
    memory.client.sendLine('RETR 1');
    expect(await memory.client.lines(wanted.length)).toEqual(wanted);
    memory.client.end();
    await memory.channel.closed;
  });
});
