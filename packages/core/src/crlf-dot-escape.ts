import { WASM_BASE64 } from './crlf-dot-escape-wasm.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * Where a body escaped in pieces stands between two pieces: {@link LINE_START} when the next
 * byte starts a line, {@link AFTER_CR} when the last byte was a CR (so an LF next is not bare).
 */
export type EscapeState = number;
export const LINE_START = 1;
export const AFTER_CR = 2;

/** The state after escaping `raw` from `state`: it depends only on the last byte. */
export function stateAfter(raw: Uint8Array, state: EscapeState): EscapeState {
  const len = raw.length;
  if (len === 0) return state;
  const last = raw[len - 1];
  return last === LF ? LINE_START : last === CR ? AFTER_CR : 0;
}

/**
 * `raw` made ready for a multi-line reply: every bare LF made CRLF and a '.' that starts a line
 * doubled (dot-stuffing). The result is a new buffer sized exactly, the escaped bytes starting
 * at `head` (free bytes before them, for a status line) and `tail` free bytes after them (for
 * the terminator). WebAssembly does it when the runtime has it (about twice as fast on LF mail
 * as the JavaScript below, which remains for runtimes without it and as the tests' reference).
 * `allocate` makes the result's buffer (a `BufferRecycler`'s `take`, for output that is given
 * back once written); by default a new one.
 * @see RFC 1939 §3, RFC 3977 §3.1.1
 */
export function escapeLines(raw: Uint8Array, state: EscapeState, head: number, tail: number, allocate = fresh): Buffer {
  return escapeLinesWasm(raw, state, head, tail, allocate) ?? escapeLinesJs(raw, state, head, tail, allocate);
}

/** Makes a buffer of `size` bytes whose content does not matter (it is all overwritten). */
export type Allocate = (size: number) => Buffer;

/** The default {@link Allocate}: a new buffer. */
const fresh: Allocate = (size) => Buffer.allocUnsafe(size);

/**
 * {@link escapeLines} in JavaScript: the added bytes are counted first (a CR for each bare LF,
 * a dot for each line starting with one), `raw` is copied once to the end part of a buffer sized
 * exactly, and the lines that need a byte are moved left into place with `copyWithin` (memmove,
 * no view per line).
 */
export function escapeLinesJs(raw: Uint8Array, state: EscapeState, head: number, tail: number, allocate = fresh): Buffer {
  const len = raw.length;
  const prevCr = (state & AFTER_CR) !== 0;
  const leadingDot = len > 0 && (state & LINE_START) !== 0 && raw[0] === DOT;
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let extra = leadingDot ? 1 : 0;
  for (let lf = bytes.indexOf(LF); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
    if (lf === 0 ? !prevCr : bytes[lf - 1] !== CR) extra++;
    if (lf + 1 < len && bytes[lf + 1] === DOT) extra++;
  }
  const out = allocate(head + len + extra + tail);
  // The raw bytes go to [base, base + len); each line then moves left by the bytes added
  // before it. The tests read `bytes`, never `out`, whose front is being overwritten.
  const base = head + extra;
  bytes.copy(out, base);
  let at = head;
  let from = base;
  if (leadingDot) out[at++] = DOT;
  if (extra > (leadingDot ? 1 : 0)) {
    for (let lf = bytes.indexOf(LF); lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
      const bare = lf === 0 ? !prevCr : bytes[lf - 1] !== CR;
      const dot = lf + 1 < len && bytes[lf + 1] === DOT;
      if (!bare && !dot) continue;
      const stop = base + (bare ? lf : lf + 1);
      if (at !== from) out.copyWithin(at, from, stop);
      at += stop - from;
      if (bare) {
        out[at++] = CR;
        out[at++] = LF;
      }
      from = base + lf + 1;
      if (dot) out[at++] = DOT;
    }
  }
  const end = base + len;
  if (from < end && at !== from) out.copyWithin(at, from, end);
  return out;
}

/** Bodies above this are escaped in JavaScript: the module's memory stays at most 3 × this. */
const WASM_MAX_INPUT = 8 * 1024 * 1024;
const PAGE = 64 * 1024;

/** What is used of the WebAssembly API (its types are not in this project's libs). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface EscapeModule {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  state: { value: number };
  escape(src: number, len: number, dst: number): number;
}

/** The instance, made on first use; null when the runtime cannot (no WebAssembly). */
let module: EscapeModule | null | undefined;
/** A view of the module's memory, remade when the memory grows (its old buffer detaches). */
let memoryView: Uint8Array | undefined;

function escapeModule(): EscapeModule | null {
  if (module !== undefined) return module;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    if (!api) throw new Error('no WebAssembly');
    module = new api.Instance(new api.Module(Buffer.from(WASM_BASE64, 'base64'))).exports as EscapeModule;
  } catch {
    module = null;
  }
  return module;
}

/**
 * {@link escapeLines} in WebAssembly: `raw` is copied into the module's memory, escaped there
 * into the space after it, and the result copied out into a buffer sized exactly. Undefined
 * when WebAssembly is not available or `raw` is larger than the module handles.
 */
export function escapeLinesWasm(raw: Uint8Array, state: EscapeState, head: number, tail: number, allocate = fresh): Buffer | undefined {
  const len = raw.length;
  if (len > WASM_MAX_INPUT) return undefined;
  const wasm = escapeModule();
  if (!wasm) return undefined;
  // Input at 0, output after it: at most two bytes out for each byte in, and the loop's
  // eight-byte stores may reach 8 bytes past the output's end.
  const needed = 3 * len + 8;
  if (wasm.memory.buffer.byteLength < needed) wasm.memory.grow(Math.ceil((needed - wasm.memory.buffer.byteLength) / PAGE));
  if (memoryView?.buffer !== wasm.memory.buffer) memoryView = new Uint8Array(wasm.memory.buffer);
  const view = memoryView;
  view.set(raw, 0);
  wasm.state.value = state;
  const end = wasm.escape(0, len, len);
  const out = allocate(head + (end - len) + tail);
  out.set(view.subarray(len, end), head);
  return out;
}
