/**
 * Short lines decoded with String.fromCharCode (short-strings.ts) give exactly what Buffer's
 * own decoders give: Latin-1 for any bytes, UTF-8 for ASCII bytes; other bytes are left to
 * utf8Slice by the caller (isAscii).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAscii, latin1Short, SHORT_STRING } from '../src/short-strings.js';

describe('latin1Short and isAscii', () => {
  it('match latin1Slice (and utf8Slice for ASCII) for every length up to 16, anywhere in a buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 40 }), fc.nat({ max: SHORT_STRING }), (bytes, at, length) => {
        const b = Buffer.from(bytes);
        const s = Math.min(at, b.length);
        const e = Math.min(s + length, b.length);
        expect(latin1Short(b, s, e)).toBe(b.toString('latin1', s, e));
        const ascii = b.subarray(s, e).every((x) => x < 0x80);
        expect(isAscii(b, s, e)).toBe(ascii);
        if (ascii) expect(latin1Short(b, s, e)).toBe(b.toString('utf8', s, e));
      }),
      { numRuns: 2000 },
    );
  });

  it('each length 0-16 of ASCII and of high bytes', () => {
    for (let n = 0; n <= SHORT_STRING; n++) {
      const ascii = Buffer.from('ABCDEFGHIJKLMNOPQ'.slice(0, n));
      expect(latin1Short(ascii, 0, n)).toBe(ascii.toString());
      const high = Buffer.alloc(n, 0xe9);
      expect(latin1Short(high, 0, n)).toBe('\u00e9'.repeat(n));
      expect(isAscii(high, 0, n)).toBe(n === 0);
    }
  });

  it('refuses more than 16 bytes', () => {
    expect(() => latin1Short(Buffer.alloc(17), 0, 17)).toThrow(RangeError);
  });
});
