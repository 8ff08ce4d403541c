import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompositeProducer, escapeMultiline, GlobbingProducer, LineEscapingProducer, type Chunk, type Producer } from '@gorgon/core';
import { MultilineReplyProducer } from '../src/multiline-reply-producer.js';

/** A producer handing out `chunks` one per call, some asynchronously. */
function chunksOf(chunks: Array<Buffer | string>): Producer {
  let i = 0;
  return {
    more(): Chunk | Promise<Chunk> {
      const c = chunks[i++] ?? null;
      return i % 2 === 0 ? Promise.resolve(c) : c;
    },
  };
}

async function drain(p: Producer): Promise<{ bytes: Buffer; writes: number }> {
  const out: Buffer[] = [];
  for (;;) {
    const c = await p.more();
    if (c === null || c === undefined || c.length === 0) break;
    out.push(typeof c === 'string' ? Buffer.from(c) : c);
  }
  return { bytes: Buffer.concat(out), writes: out.length };
}

/** What the session sent before: the core's glob of status line + escaped body. */
const core = (status: string, chunks: Array<Buffer | string>): Producer =>
  new GlobbingProducer(new CompositeProducer([status, new LineEscapingProducer(chunksOf(chunks))]), 64 * 1024);

const bodyByte = fc.constantFrom(0x0a, 0x0d, 0x2e, 0x41, 0x20);
const chunk = fc
  .uint8Array({ maxLength: 12 })
  .chain((a) => fc.array(bodyByte, { minLength: a.length, maxLength: a.length }))
  .map((b) => Buffer.from(b));

describe('MultilineReplyProducer', () => {
  it('sends the same bytes as the core escaping producer behind a glob, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(chunk, { maxLength: 8 }), async (chunks) => {
        const mine = await drain(new MultilineReplyProducer('+OK 5 octets\r\n', chunksOf(chunks)));
        const theirs = await drain(core('+OK 5 octets\r\n', chunks));
        expect(mine.bytes.toString('latin1')).toBe(theirs.bytes.toString('latin1'));
      }),
      { numRuns: 4000 },
    );
  });

  it('whole(): the reply for a body in memory, as the core escapeMultiline makes it', () => {
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 8 }), (chunks) => {
        const body = Buffer.concat(chunks);
        expect(MultilineReplyProducer.whole('+OK 7 octets\r\n', body).toString('latin1')).toBe(
          escapeMultiline(body, '+OK 7 octets\r\n').toString('latin1'),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('escapes LF messages, long ones in several pieces, and sends a small reply in one write', async () => {
    const lf = Buffer.from(`${'.dot\nline\n'.repeat(20_000)}last`);
    const split = [lf.subarray(0, 70_001), lf.subarray(70_001, 150_000), lf.subarray(150_000)];
    const mine = await drain(new MultilineReplyProducer('+OK\r\n', chunksOf(split)));
    const theirs = await drain(core('+OK\r\n', split));
    expect(mine.bytes.equals(theirs.bytes)).toBe(true);
    expect(mine.bytes.subarray(-14).toString()).toBe('ine\r\nlast\r\n.\r\n');
    // Short lines need more added bytes than the first guess leaves room for: counted, then escaped.
    const blank = [Buffer.from('\n'.repeat(5000)), Buffer.from('.\n.'.repeat(3000))];
    expect(
      (await drain(new MultilineReplyProducer('+OK\r\n', chunksOf(blank)))).bytes.equals((await drain(core('+OK\r\n', blank))).bytes),
    ).toBe(true);
    const small = await drain(new MultilineReplyProducer('+OK 9 octets\r\n', chunksOf(['a\n', '.b\r', '\n'])));
    expect(small).toEqual({ bytes: Buffer.from('+OK 9 octets\r\na\r\n..b\r\n.\r\n'), writes: 1 });
    expect((await drain(new MultilineReplyProducer('+OK\r\n', chunksOf([])))).bytes.toString()).toBe('+OK\r\n.\r\n');
  });

  it('ends a large reply in its last piece when the body says it is exhausted (no write for the terminator alone)', async () => {
    const big = Buffer.from('line\n'.repeat(30_000));
    let given = false;
    const body = {
      get exhausted() {
        return given;
      },
      more: () => {
        if (given) return null;
        given = true;
        return big;
      },
    };
    const out = await drain(new MultilineReplyProducer('+OK\r\n', body));
    expect(out.writes).toBe(1);
    expect(out.bytes.equals((await drain(core('+OK\r\n', [big]))).bytes)).toBe(true);
    // Without the hint, the terminator follows in a piece of its own.
    expect((await drain(new MultilineReplyProducer('+OK\r\n', chunksOf([big])))).writes).toBe(2);
  });

  it('closes the body when closed', async () => {
    let closed = false;
    const p = new MultilineReplyProducer('+OK\r\n', {
      more: () => 'x',
      close: () => {
        closed = true;
      },
    });
    await p.close();
    expect(closed).toBe(true);
    expect(await p.more()).toBeNull();
  });
});
