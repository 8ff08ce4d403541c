import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineEscapingProducer, isEmptyChunk, type Producer } from '@gorgon/core';
import { TopProducer, WireSizeCounter, wireSize } from '../src/internal.js';

/** Hands out `data` in the given chunk sizes. */
function chunked(data: Buffer, cuts: number[]): Producer & { closed: boolean } {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of [...points, data.length]) {
    parts.push(data.subarray(last, p));
    last = p;
  }
  let i = 0;
  return {
    closed: false,
    more() {
      return i < parts.length ? parts[i++]! : null;
    },
    close() {
      this.closed = true;
    },
  };
}

async function drain(producer: Producer): Promise<Buffer> {
  const out: Buffer[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const chunk = await producer.more();
    if (isEmptyChunk(chunk)) break;
    out.push(Buffer.from(chunk));
  }
  return Buffer.concat(out);
}

/** The reference TOP: header, blank line, n body lines, by splitting into lines. */
function referenceTop(text: string, n: number): string {
  const lines = text.split(/(?<=\n)/);
  const blank = lines.findIndex((l) => l === '\n' || l === '\r\n');
  if (blank === -1) return text;
  return lines.slice(0, blank + 1 + n).join('');
}

describe('TopProducer (RFC 1939 §7)', () => {
  const message = 'A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\nl3\r\nl4';

  it('cuts at every split point exactly like the reference', async () => {
    for (let n = 0; n <= 5; n++) {
      for (let cut = 0; cut <= message.length; cut++) {
        const top = await drain(new TopProducer(chunked(Buffer.from(message), [cut]), n));
        expect(top.toString()).toBe(referenceTop(message, n));
      }
    }
  });

  it('closes the inner producer at the cut', async () => {
    const inner = chunked(Buffer.from(message), [3, 9]);
    await drain(new TopProducer(inner, 0));
    expect(inner.closed).toBe(true);
  });

  it('matches the reference for random messages and random chunking', async () => {
    const line = fc.stringMatching(/^[a-z.]{0,6}$/);
    const eol = fc.constantFrom('\n', '\r\n');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(line, eol), { maxLength: 12 }),
        fc.nat(6),
        fc.array(fc.nat(80), { maxLength: 6 }),
        async (parts, n, cuts) => {
          const text = parts.map(([l, e]) => l + e).join('');
          const top = await drain(new TopProducer(chunked(Buffer.from(text), cuts), n));
          expect(top.toString()).toBe(referenceTop(text, n));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('wire size (RFC 1939 §5: LIST octets equal the bytes RETR sends)', () => {
  it('equals the escaped body length without dot-stuffing and terminator, at any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 5 }), async (bytes, cuts) => {
        const data = Buffer.from(bytes);
        const sent = await drain(new LineEscapingProducer(chunked(data, cuts), { dotStuff: false, terminate: false }));
        const counter = new WireSizeCounter();
        let last = 0;
        for (const c of [...cuts.filter((x) => x < data.length)].sort((a, b) => a - b)) {
          counter.update(data.subarray(last, Math.max(last, c)));
          last = Math.max(last, c);
        }
        counter.update(data.subarray(last));
        expect(counter.size).toBe(sent.length);
        expect(wireSize(data)).toBe(sent.length);
      }),
      { numRuns: 500 },
    );
  });
});
