import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AFTER_CR, escapeLines, escapeLinesJs, escapeLinesWasm, escapeMultiline, LINE_START, stateAfter } from '@gorgon/core';

const root = join(import.meta.dirname, '../../..');

/** Bodies rich in what matters: line ends, CRs, dots, and runs of plain bytes (the eight-byte path). */
const piece = fc.oneof(
  fc.constantFrom('\n', '\r', '.', '\r\n', '\n.', '.\n', '..', '\r\r\n'),
  fc.stringMatching(/^[A-Za-z .]{0,40}$/),
  fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a).toString('latin1')),
);
const body = fc.array(piece, { maxLength: 40 }).map((parts) => Buffer.from(parts.join(''), 'latin1'));

/** Escapes `pieces` one after another, carrying the state, with `escape`. */
function inPieces(escapeWith: typeof escapeLinesJs, pieces: Buffer[]): Buffer {
  let state = LINE_START;
  const out: Buffer[] = [];
  for (const p of pieces) {
    out.push(escapeWith(p, state, 0, 0));
    state = stateAfter(p, state);
  }
  return Buffer.concat(out);
}

describe('escapeLines: bare LF to CRLF and dot-stuffing, in WebAssembly and in JavaScript', () => {
  it('the WebAssembly module is available here, and the committed bytes are what the .wat compiles to', () => {
    expect(escapeLinesWasm(Buffer.from('a\n'), LINE_START, 0, 0)?.toString()).toBe('a\r\n');
    execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('both give the bytes of the core escaper, whole and in any split, with head and tail room', () => {
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 4 }), fc.nat(20), fc.nat(8), (raw, cuts, head, tail) => {
        // The core's whole-reply escaper, without what it adds at the end: a line end when the
        // body lacks one, and the ".\r\n" terminator.
        const full = escapeMultiline(raw);
        const endsLine = raw.length === 0 || raw[raw.length - 1] === 0x0a;
        const expected = full.subarray(0, full.length - 3 - (endsLine ? 0 : 2));
        const js = escapeLinesJs(raw, LINE_START, head, tail);
        const wasm = escapeLinesWasm(raw, LINE_START, head, tail)!;
        expect(js.length).toBe(head + expected.length + tail);
        expect(wasm.length).toBe(js.length);
        expect(wasm.subarray(head, head + expected.length).equals(expected)).toBe(true);
        expect(js.subarray(head, head + expected.length).equals(expected)).toBe(true);
        // The same body in pieces, the state carried from one to the next.
        const at = [...new Set(cuts.map((c) => c % (raw.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...at, raw.length].slice(1).map((end, i, ends) => raw.subarray(i === 0 ? 0 : ends[i - 1], end));
        const piecesExpected = escapeLinesJs(raw, LINE_START, 0, 0);
        expect(inPieces((r, s, h, t) => escapeLinesWasm(r, s, h, t)!, pieces).equals(piecesExpected)).toBe(true);
        expect(inPieces(escapeLinesJs, pieces).equals(piecesExpected)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('a CR at the end of one piece and an LF at the start of the next make one line end', () => {
    for (const escapeWith of [escapeLinesJs, (r: Buffer, s: number, h: number, t: number) => escapeLinesWasm(r, s, h, t)!]) {
      expect(escapeWith(Buffer.from('\n.x'), AFTER_CR, 0, 0).toString()).toBe('\n..x');
      expect(escapeWith(Buffer.from('\n.x'), 0, 0, 0).toString()).toBe('\r\n..x');
      expect(escapeWith(Buffer.from('.x'), 0, 0, 0).toString()).toBe('.x');
      expect(escapeWith(Buffer.from(''), LINE_START, 2, 3).length).toBe(5);
    }
  });

  it('a large LF message (several MiB, the module grows its memory) and one over its limit agree', () => {
    const line = Buffer.from('.Received: from mail.example.org by mx.example.net; a line of an LF Maildir\n');
    for (const size of [3 * 1024 * 1024, 9 * 1024 * 1024]) {
      const raw = Buffer.concat(Array.from({ length: Math.ceil(size / line.length) }, () => line));
      const viaDefault = escapeLines(raw, LINE_START, 0, 0);
      expect(viaDefault.equals(escapeLinesJs(raw, LINE_START, 0, 0))).toBe(true);
      expect(viaDefault.length).toBe(raw.length + 2 * (raw.length / line.length));
    }
    expect(escapeLinesWasm(Buffer.alloc(9 * 1024 * 1024), LINE_START, 0, 0)).toBeUndefined();
  });
});
