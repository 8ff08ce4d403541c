import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AsyncChat, CoreError, Framer, createListener, type Channel, type Terminator } from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial, splitAt, waitFor } from './helpers.js';

/** Feeds `chunks` through a framer; `next` may change the terminator after each unit. */
function frame(
  terminator: Terminator,
  chunks: readonly Buffer[],
  next?: (unit: Buffer, framer: Framer) => void,
): { units: Buffer[]; rest: Buffer; maxQueued: number } {
  const framer = new Framer(terminator);
  const units: Buffer[] = [];
  let parts: Buffer[] = [];
  let maxQueued = 0;
  const drain = (): void => {
    for (let step = framer.step(); step; step = framer.step()) {
      if (step.data) parts.push(Buffer.from(step.data));
      if (step.found) {
        const unit = Buffer.concat(parts);
        parts = [];
        units.push(unit);
        next?.(unit, framer);
      }
    }
  };
  drain();
  for (const chunk of chunks) {
    framer.push(chunk);
    maxQueued = Math.max(maxQueued, framer.queued);
    drain();
  }
  // At EOF the framer gives up what it held back as a possible partial delimiter.
  const tail = framer.rest();
  if (tail) parts.push(tail);
  return { units, rest: Buffer.concat(parts), maxQueued };
}

const text = (units: Buffer[]): string[] => units.map((u) => u.toString('latin1'));

/** The reference: what splitting the whole input by the delimiter gives. */
function reference(input: string, delimiter: string): { units: string[]; rest: string } {
  const pieces = input.split(delimiter);
  return { units: pieces.slice(0, -1), rest: pieces[pieces.length - 1]! };
}

/** Every way of cutting `input` into two or three pieces. */
function* everySplit(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) yield splitAt(input, [i, j]);
  }
}

/**
 * A literal-reading protocol, as IMAP or NNTP's byte counts do: a line "LIT n" is followed by
 * exactly n raw bytes, then lines again.
 */
function literalPlan(unit: Buffer, framer: Framer): void {
  if (typeof framer.terminator === 'number') framer.setTerminator('\r\n');
  else {
    const match = /^LIT (\d+)$/.exec(unit.toString('latin1'));
    if (match) framer.setTerminator(Number(match[1]));
  }
}
const literalInput = Buffer.from('A1\r\nLIT 7\r\nx\r\ny\r\nzB2\r\nLIT 0\r\nLIT 3\r\n\r\n\r\r\nC3\r\n', 'latin1');
const literalUnits = ['A1', 'LIT 7', 'x\r\ny\r\nz', 'B2', 'LIT 0', '', 'LIT 3', '\r\n\r', '', 'C3'];

describe('Framer: delimiters', () => {
  it('cuts CRLF lines at every split point of the input', () => {
    const input = Buffer.from('alpha\r\nbeta\r\n\r\ngamma\r\ntail');
    for (const chunks of everySplit(input)) {
      const { units, rest } = frame('\r\n', chunks);
      expect(text(units)).toEqual(['alpha', 'beta', '', 'gamma']);
      expect(rest.toString()).toBe('tail');
    }
  });

  it('matches a multi-byte terminator ("\\r\\n.\\r\\n") split at every byte offset', () => {
    const input = 'one\r\n.\r\ntwo\r\n\r\n.\r\n\r\n.\r.\r\n\r\n.\r\nlast\r\n.';
    const want = reference(input, '\r\n.\r\n');
    expect(want.units.length).toBe(3);
    for (const chunks of everySplit(Buffer.from(input, 'latin1'))) {
      const { units, rest } = frame('\r\n.\r\n', chunks);
      expect(text(units)).toEqual(want.units);
      expect(rest.toString('latin1')).toBe(want.rest);
    }
  });

  it('matches a binary Buffer terminator split at every byte offset', () => {
    const terminator = Buffer.from([0x00, 0xff, 0x00]);
    const input = Buffer.from([1, 0, 0xff, 2, 0, 0xff, 0, 3, 0, 0, 0xff, 0, 0, 0xff, 0, 9]);
    for (const chunks of everySplit(input)) {
      const { units, rest } = frame(terminator, chunks);
      expect(units.map((u) => [...u])).toEqual([[1, 0, 0xff, 2], [3, 0], []]);
      expect([...rest]).toEqual([9]);
    }
  });

  it('keeps back only the unmatched tail of a partial delimiter', () => {
    const framer = new Framer('\r\n.\r\n');
    framer.push(Buffer.from('abcdef\r\n.'));
    expect(framer.step()).toEqual({ data: Buffer.from('abcdef'), found: false });
    expect(framer.queued).toBe(3);
    expect(framer.step()).toBeUndefined();
    framer.push(Buffer.from('\r\n'));
    expect(framer.step()).toEqual({ data: undefined, found: true });
    expect(framer.queued).toBe(0);
  });

  it('never holds a long unterminated unit: queued stays within one read', () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const chunks = Array.from({ length: 160 }, () => chunk); // 10 MiB, no terminator
    const { units, rest, maxQueued } = frame('\r\n', chunks);
    expect(units).toEqual([]);
    expect(rest.length).toBe(160 * chunk.length);
    expect(maxQueued).toBeLessThanOrEqual(chunk.length + 1);
  });
});

describe('Framer: byte counts, read-to-close, terminator changes', () => {
  it('cuts byte-count units at every split point, then hands out the rest as data', () => {
    const input = Buffer.from('abcdefghij');
    for (const chunks of everySplit(input)) {
      const framer = new Framer(4);
      const seen: Array<[string, boolean]> = [];
      for (const chunk of chunks) {
        framer.push(chunk);
        for (let s = framer.step(); s; s = framer.step()) {
          seen.push([s.data?.toString() ?? '', s.found]);
          if (s.found && seen.filter(([, f]) => f).length === 1) framer.setTerminator(3);
        }
      }
      const joined: string[] = [];
      let acc = '';
      for (const [data, found] of seen) {
        acc += data;
        if (found) {
          joined.push(acc);
          acc = '';
        }
      }
      // After the second count the framer reads everything, like asynchat's terminator 0.
      expect(joined).toEqual(['abcd', 'efg']);
      expect(acc).toBe('hij');
    }
  });

  it('reports what is still expected of a byte count', () => {
    const framer = new Framer(10);
    framer.push(Buffer.from('abcd'));
    expect(framer.step()).toEqual({ data: Buffer.from('abcd'), found: false });
    expect(framer.terminator).toBe(6);
    framer.push(Buffer.from('efghijKL'));
    expect(framer.step()).toEqual({ data: Buffer.from('efghij'), found: true });
    expect(framer.terminator).toBe(0);
    expect(framer.queued).toBe(2);
  });

  it('completes a zero-byte count without any input', () => {
    const framer = new Framer(0);
    expect(framer.step()).toEqual({ data: undefined, found: true });
    expect(framer.step()).toBeUndefined();
  });

  it('reads until close with a null terminator: data, never a unit', () => {
    const { units, rest } = frame(null, [Buffer.from('a\r\nb'), Buffer.from('\r\n.\r\n')]);
    expect(units).toEqual([]);
    expect(rest.toString()).toBe('a\r\nb\r\n.\r\n');
  });

  it('switches line → byte count → line at every split point (a literal)', () => {
    for (const chunks of everySplit(literalInput)) {
      const { units, rest } = frame('\r\n', chunks, literalPlan);
      expect(text(units)).toEqual(literalUnits);
      expect(rest.length).toBe(0);
    }
  });

  it('refuses terminators that can never match', () => {
    const framer = new Framer();
    for (const bad of [-1, 1.5, Number.NaN, '', Buffer.alloc(0)]) {
      expect(() => framer.setTerminator(bad)).toThrow(CoreError);
    }
    expect(framer.terminator).toBe('\r\n');
  });

  it('clear() drops everything queued', () => {
    const framer = new Framer('\r\n');
    framer.push(Buffer.from('a\r\nb\r\n'));
    framer.clear();
    expect(framer.queued).toBe(0);
    expect(framer.step()).toBeUndefined();
    framer.push(Buffer.from('c\r\n'));
    expect(framer.step()).toEqual({ data: Buffer.from('c'), found: true });
  });
});

describe('Framer: property tests', () => {
  const piece = fc.constantFrom('a', 'b', '.', ' ', '\r', '\n', '\r\n', 'é', '\u{1F600}', '\0');
  const lineText = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
  const cuts = fc.array(fc.nat({ max: 400 }), { maxLength: 30 });

  it.each(['\r\n', '\n', '\r\n.\r\n', 'END'])('random chunkings of random lines give the reference split (%j)', (delimiter) => {
    fc.assert(
      fc.property(fc.array(lineText, { maxLength: 25 }), lineText, cuts, (lines, tail, offsets) => {
        const input = lines.map((l) => l + delimiter).join('') + tail;
        const want = reference(input, delimiter);
        const { units, rest } = frame(delimiter, splitAt(Buffer.from(input), offsets));
        expect(units.map((u) => u.toString())).toEqual(want.units);
        expect(rest.toString()).toBe(want.rest);
      }),
      { numRuns: 300 },
    );
  });

  // Lines up to 32 bytes are looked for byte by byte and longer ones with indexOf, switching
  // with the length of the line before: lengths on both sides of 32, mixed, in any chunking.
  it('LF lines of 0-100 bytes, short and long mixed, at random chunkings give the reference split', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\r', '\0'), maxLength: 100 });
    const near = fc.nat({ max: 6 }).map((n) => 'x'.repeat(29 + n)); // 29-35 bytes
    fc.assert(
      fc.property(
        fc.array(fc.oneof(line, near), { maxLength: 40 }),
        line,
        fc.array(fc.nat({ max: 2000 }), { maxLength: 30 }),
        (lines, tail, offsets) => {
          const input = lines.map((l) => `${l}\n`).join('') + tail;
          const want = reference(input, '\n');
          const { units, rest } = frame('\n', splitAt(Buffer.from(input), offsets));
          expect(units.map((u) => u.toString())).toEqual(want.units);
          expect(rest.toString()).toBe(want.rest);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random chunkings of literal-carrying input give the same units', () => {
    const unit = fc.oneof(
      fc
        .string({ maxLength: 10 })
        .filter((s) => !s.includes('\r\n') && !s.startsWith('LIT '))
        .map((s) => ({ line: s })),
      fc.uint8Array({ maxLength: 20 }).map((bytes) => ({ literal: Buffer.from(bytes) })),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 15 }), cuts, (plan, offsets) => {
        const want: string[] = [];
        const parts: Buffer[] = [];
        for (const u of plan) {
          if ('line' in u) {
            parts.push(Buffer.from(`${u.line}\r\n`));
            want.push(Buffer.from(u.line).toString('latin1'));
          } else {
            parts.push(Buffer.from(`LIT ${u.literal.length}\r\n`), u.literal);
            want.push(`LIT ${u.literal.length}`, u.literal.toString('latin1'));
          }
        }
        const { units } = frame('\r\n', splitAt(Buffer.concat(parts), offsets), literalPlan);
        expect(text(units)).toEqual(want);
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * An AsyncChat that echoes every unit as "<length> <hex>" and follows `literalPlan`, or runs
 * with a fixed terminator. A `null` terminator gets its unit at EOF.
 */
class UnitEcho extends AsyncChat {
  #parts: Buffer[] = [];
  readonly #literals: boolean;
  constructor(channel: Channel, terminator: Terminator, literals = false) {
    super(channel);
    this.setTerminator(terminator);
    this.#literals = literals;
  }
  protected override collectIncomingData(data: Buffer): void {
    this.#parts.push(Buffer.from(data));
  }
  protected override foundTerminator(): void {
    const unit = Buffer.concat(this.#parts);
    this.#parts = [];
    this.push(`${unit.length} ${unit.toString('hex')}\r\n`);
    if (this.#literals) {
      if (typeof this.terminator === 'number') this.setTerminator('\r\n');
      else {
        const match = /^LIT (\d+)$/.exec(unit.toString('latin1'));
        if (match) this.setTerminator(Number(match[1]));
      }
    }
  }
}
const echoed = (unit: string): string => `${Buffer.byteLength(unit, 'latin1')} ${Buffer.from(unit, 'latin1').toString('hex')}`;

describe('AsyncChat framing over the memory pair and real sockets', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  it('memory pair: a literal split at every offset gives the same units', async () => {
    for (let cut = 0; cut <= literalInput.length; cut++) {
      const { channel, client } = memoryChannelPair();
      new UnitEcho(channel, '\r\n', true);
      client.send(literalInput.subarray(0, cut));
      await new Promise((resolve) => setImmediate(resolve));
      client.send(literalInput.subarray(cut));
      expect(await client.lines(literalUnits.length)).toEqual(literalUnits.map(echoed));
      client.end();
      await channel.closed;
    }
  });

  it('real socket: "\\r\\n.\\r\\n" split at every byte offset, the server having read the first part', async () => {
    await using listener = createListener({ name: 'units' }, (ch) => new UnitEcho(ch, '\r\n.\r\n'));
    const { port } = await listener.listen(0);
    const client = dial(port);
    const input = Buffer.from('body\r\n..\r\nmore\r\n.\r\n', 'latin1');
    let sent = 0;
    for (let cut = 0; cut <= input.length; cut++) {
      client.send(input.subarray(0, cut));
      sent += cut;
      await waitFor(() => listener.counters.bytesIn === sent, 'the first part to arrive');
      client.send(input.subarray(cut));
      sent += input.length - cut;
      expect(await client.line()).toBe(echoed('body\r\n..\r\nmore'));
    }
    client.end();
    await client.closed();
  });

  it('real socket: a literal (line, byte count, line) split at every offset', async () => {
    await using listener = createListener({ name: 'units' }, (ch) => new UnitEcho(ch, '\r\n', true));
    const { port } = await listener.listen(0);
    const client = dial(port);
    let sent = 0;
    for (let cut = 0; cut <= literalInput.length; cut += 3) {
      client.send(literalInput.subarray(0, cut));
      sent += cut;
      await waitFor(() => listener.counters.bytesIn === sent, 'the first part to arrive');
      client.send(literalInput.subarray(cut));
      sent += literalInput.length - cut;
      expect(await client.lines(literalUnits.length)).toEqual(literalUnits.map(echoed));
    }
    client.end();
    await client.closed();
  });

  it('real socket: a byte-count terminator given as a number', async () => {
    await using listener = createListener({ name: 'units' }, (ch) => new UnitEcho(ch, 3));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.send('abcdefgh');
    // 3 bytes make the unit; the count is then spent and the rest reads like terminator 0.
    expect(await client.line()).toBe(echoed('abc'));
    client.end();
    await client.closed();
  });

  it('null terminator: the unit is everything until the peer closes (socket and memory)', async () => {
    const body = Buffer.from('line one\r\n.\r\n\0binary\xff', 'latin1');
    await using listener = createListener({ name: 'units' }, (ch) => new UnitEcho(ch, null));
    const { port } = await listener.listen(0);
    const client = dial(port);
    for (const part of splitAt(body, [3, 9, 14])) client.send(part);
    client.end(); // half-close: the reply still comes back
    expect(await client.line()).toBe(echoed(body.toString('latin1')));
    await client.closed();

    const memory = memoryChannelPair();
    new UnitEcho(memory.channel, null);
    memory.client.send(body);
    memory.client.end();
    expect(await memory.client.line()).toBe(echoed(body.toString('latin1')));
    await memory.client.closed();
    await memory.channel.closed;
  });
});
