/**
 * Names as bytes: decodeName/encodeName round-trip every byte string, agree with UTF-8 where it
 * is valid, and escape exactly as Python's "surrogateescape" does. @see RFC 2640 §2.2
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeName, encodeName } from '../src/names.js';

describe('names as bytes (surrogateescape)', () => {
  it('round-trips any bytes and keeps valid UTF-8 as it decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const name = decodeName(buf);
        expect(encodeName(name).equals(buf)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (text) => {
        expect(decodeName(Buffer.from(text, 'utf8'))).toBe(text);
        expect(encodeName(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
      }),
    );
  });

  it.each([
    ['caf\xe9', 'caf\udce9'], // Latin-1 é
    ['\xe0\xa0A', '\udce0\udca0A'], // truncated 3-byte sequence
    ['\xed\xa0\x80', '\udced\udca0\udc80'], // an encoded surrogate is not UTF-8
    ['\xc3\xa9\xff', 'é\udcff'],
    ['\xf0\x9f\x98\x80\x80', '😀\udc80'],
  ])('decodes %j as Python does', (latin1, expected) => {
    expect(decodeName(Buffer.from(latin1, 'latin1'))).toBe(expected);
  });
});
