// Short lines decoded without a call into C++. Commands are mostly under 16 bytes ("RETR 12",
// "TYPE I", "NOOP"), and at that size Buffer's utf8Slice/latin1Slice cost about three times
// what String.fromCharCode with the bytes as arguments does (58 against 20 ns for 8 bytes in a
// loop on the benchmark machine): the crossing into C++ dominates, not the copy. Each length
// has its own call so that no array is made for the arguments.

/** Longest line {@link latin1Short} takes. */
export const SHORT_STRING = 16;

/** Whether every byte of `b[s, e)` is ASCII (below 0x80). */
export function isAscii(b: Uint8Array, s: number, e: number): boolean {
  let or = 0;
  for (let i = s; i < e; i++) or |= b[i]!;
  return or < 0x80;
}

/**
 * `b[s, e)` as Latin-1 (one character per byte), for at most {@link SHORT_STRING} bytes: the
 * same string as `latin1Slice`, and as `utf8Slice` when the bytes are ASCII.
 */
export function latin1Short(b: Uint8Array, s: number, e: number): string {
  const c = String.fromCharCode;
  // biome-ignore format: one line per length reads as the table it is
  switch (e - s) {
    case 0: return '';
    case 1: return c(b[s]!);
    case 2: return c(b[s]!, b[s + 1]!);
    case 3: return c(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    case 9: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!);
    case 10: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!);
    case 11: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!);
    case 12: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!);
    case 13: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!);
    case 14: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!);
    case 15: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!);
    case 16: return c(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!, b[s + 8]!, b[s + 9]!, b[s + 10]!, b[s + 11]!, b[s + 12]!, b[s + 13]!, b[s + 14]!, b[s + 15]!);
    default: throw new RangeError(`latin1Short takes at most ${SHORT_STRING} bytes`);
  }
}
