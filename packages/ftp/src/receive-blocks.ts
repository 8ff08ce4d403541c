import * as net from 'node:net';
import * as tls from 'node:tls';
import { endedCleanly } from './data-channel.js';
import type { WritableFile } from './fs.js';
import { TransferError } from './transfer-error.js';

// Uploads over plain TCP, read by the kernel straight into a few reused blocks that then go to
// the file whole. Reading a socket the usual way allocates a fresh 64 KiB buffer per read; at
// 1 GB/s that is 16,000 buffers a second, each kept until its bytes are written, so many
// survive into the old generation and the upload paid a mark-sweep collection every few
// hundred megabytes (20–25 % of the server's time in a 1 GiB STOR, 2.4 s of CPU per GB against
// pure-ftpd's 0.53, which reads into one buffer).

/** Node's fields behind net.Socket's `onread` option (the buffer, its callback, its generator). */
interface UserBufferFields {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

let fields: UserBufferFields | null | undefined;

/**
 * Node's private fields behind the `onread` option, found by value on two sockets made with
 * it. Node 20 takes `onread` only for sockets it creates with `new net.Socket` / `net.connect`,
 * not for those a net.Server accepts (passive data connections); an accepted socket reads into
 * the caller's buffers once it has the same fields and its handle is told to (`useUserBuffer`,
 * what `onread` does at connect). Null, and uploads take the ordinary path, when a Node
 * version no longer has them.
 */
function userBufferFields(): UserBufferFields | null {
  if (fields !== undefined) return fields;
  fields = null;
  try {
    const buffer = Buffer.alloc(1);
    const callback = (): boolean => true;
    const generator = (): Buffer => buffer;
    // The constructor takes `onread` as net.connect does, though @types/node lists it only there.
    const fixed = new net.Socket({ onread: { buffer, callback } } as net.SocketConstructorOpts);
    const generated = new net.Socket({ onread: { buffer: generator, callback } } as net.SocketConstructorOpts);
    const find = (socket: net.Socket, value: unknown): symbol | undefined =>
      Object.getOwnPropertySymbols(socket).find((key) => (socket as unknown as Record<symbol, unknown>)[key] === value);
    const found = { buffer: find(fixed, buffer), callback: find(fixed, callback), generator: find(generated, generator) };
    fixed.destroy();
    generated.destroy();
    if (found.buffer && found.callback && found.generator && new Set([found.buffer, found.callback, found.generator]).size === 3) {
      fields = found as UserBufferFields;
    }
  } catch {
    // no such fields: the ordinary path
  }
  return fields;
}

interface UserBufferHandle {
  reading: boolean;
  useUserBuffer(buffer: Uint8Array): void;
}

function handleOf(socket: net.Socket): UserBufferHandle | undefined {
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  return handle && typeof handle.useUserBuffer === 'function' ? (handle as UserBufferHandle) : undefined;
}

/** Whether an upload on `stream` can be read into reused blocks: a plain TCP socket, on a Node that allows it. */
export function canReadIntoBlocks(stream: unknown): stream is net.Socket {
  return (
    stream instanceof net.Socket &&
    !(stream instanceof tls.TLSSocket) &&
    !stream.destroyed &&
    handleOf(stream) !== undefined &&
    userBufferFields() !== null
  );
}

/** The first block is small, so a small upload does not allocate a large one. */
const FIRST_BLOCK = 64 * 1024;
/** A block with less room than this left is full: reads into a small tail cost a syscall each. */
const MIN_READ = 16 * 1024;
/** Large blocks at most per upload: the one being filled and the ones queued for or in the write. */
const BLOCKS = 4;

/** Options of {@link receiveIntoBlocks} (those of receiveData, binary mode). */
export interface BlockReceiveOptions {
  signal: AbortSignal;
  stalledMs: number;
  onProgress(bytes: number): void;
  maxBytes: number;
  /** Size of the large blocks (writes are about this size). */
  chunkBytes: number;
  startAt: number;
}

/**
 * receiveData for a binary upload over plain TCP (see {@link canReadIntoBlocks}): the kernel
 * reads into the free part of the current block; a full block joins the write queue (one write
 * in flight, several queued blocks in one writev) and reading goes on in the next. With every
 * block filled or being written, reading pauses until a write returns one: memory per upload
 * is bounded by `BLOCKS` × `chunkBytes`. The end rules are receiveData's: EOF commits only
 * after {@link endedCleanly}, and a reset, an error, a stall or an abort fails the transfer.
 */
export function receiveIntoBlocks(socket: net.Socket, file: WritableFile, options: BlockReceiveOptions): Promise<number> {
  const f = userBufferFields()!;
  const handle = handleOf(socket)!;
  const chunk = Math.max(options.chunkBytes, FIRST_BLOCK);
  const field = socket as unknown as Record<symbol, unknown>;
  return new Promise<number>((resolve, reject) => {
    // Own memory each (allocUnsafeSlow: never a slice of Node's shared pool), so a block is reused whole.
    let block: Buffer = Buffer.allocUnsafeSlow(FIRST_BLOCK);
    let filled = 0;
    let large = 0;
    const free: Buffer[] = [];
    let queued: Buffer[] = [];
    let writing: Buffer[] | undefined;
    let received = 0;
    let paused = false;
    let ended = false;
    let done = false;

    /** The next empty block, or undefined when every large block is in use. */
    const takeBlock = (): Buffer | undefined => {
      const b = free.pop();
      if (b) return b;
      if (large >= BLOCKS) return undefined;
      large++;
      return Buffer.allocUnsafeSlow(chunk);
    };
    /** Queues the current block's bytes and moves to an empty block; false if none is left after it. */
    const nextBlock = (): boolean => {
      queued.push(block.subarray(0, filled));
      // Only the copy of early bytes can find none (reading pauses before): one more block then.
      block = takeBlock() ?? Buffer.allocUnsafeSlow(chunk);
      filled = 0;
      // Pause while no block would be left for the one after this: reading resumes when a write returns one.
      if (free.length === 0 && large >= BLOCKS) return false;
      return true;
    };
    const settle = (err?: unknown): void => {
      if (done) return;
      done = true;
      cleanup();
      if (err === undefined) {
        resolve(received);
        return;
      }
      socket.destroy();
      reject(err);
    };
    const pump = (): void => {
      if (writing || done) return;
      if (queued.length === 0) {
        if (ended) settle();
        return;
      }
      const batch = queued;
      queued = [];
      writing = batch;
      writeBatch(file, batch).then(
        () => {
          writing = undefined;
          // The full-size blocks go back to the pool (the small first block is dropped).
          for (const part of batch) if (part.buffer.byteLength === chunk) free.push(Buffer.from(part.buffer, 0, chunk));
          if (paused && !done) {
            paused = false;
            socket.resume();
          }
          pump();
        },
        (err: unknown) => settle(new TransferError('storage', (err as Error).message, { cause: err })),
      );
    };
    /** Counts `n` bytes just placed at `filled`; false to pause reading. */
    const took = (n: number): boolean => {
      filled += n;
      received += n;
      options.onProgress(n);
      if (options.maxBytes > 0 && options.startAt + received > options.maxBytes) {
        settle(new TransferError('too-large', `upload passed ${options.maxBytes} bytes`));
        return false;
      }
      let more = true;
      if (block.length - filled < MIN_READ) more = nextBlock();
      pump();
      return more;
    };
    const onRead = (n: number): boolean => {
      if (done) return true; // after the end or a failure: dropped
      if (took(n)) return true;
      paused = !done;
      return false;
    };
    const target = (): Buffer => block.subarray(filled);

    const onEnd = (): void => {
      // As receiveData: the socket closes by itself after its end (no half-open), so the end is
      // what counts from here; and it is the end of the file only after a clean close.
      cleanup();
      void endedCleanly(socket).then((clean) => {
        if (done) return;
        if (!clean) {
          settle(new TransferError('connection-lost', 'data connection ended without a clean close (reset, or no TLS close_notify)'));
          return;
        }
        if (filled > 0) {
          queued.push(block.subarray(0, filled));
          filled = 0;
        }
        ended = true;
        pump();
      });
    };
    const onClose = (): void => settle(new TransferError('connection-lost', 'data connection closed before the end'));
    const onError = (err: Error): void => settle(new TransferError('connection-lost', err.message, { cause: err }));
    const onTimeout = (): void => settle(new TransferError('stalled', `no progress for ${options.stalledMs} ms`));
    const onAbort = (): void => settle(new TransferError('aborted', 'transfer aborted'));
    const cleanup = (): void => {
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
      socket.off('timeout', onTimeout);
      options.signal.removeEventListener('abort', onAbort);
    };
    if (options.signal.aborted) return onAbort();

    // Bytes read before the switch (the client may send before 150) are copied in first.
    const early: Buffer[] = [];
    for (let c: Buffer | null = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) early.push(c);
    // From here every read goes into `target()`: the fields and the handle switch together.
    field[f.buffer] = target();
    field[f.callback] = onRead;
    field[f.generator] = target;
    handle.useUserBuffer(field[f.buffer] as Buffer);
    for (const c of early) {
      for (let at = 0; at < c.length && !done; ) {
        const n = c.copy(block, filled, at);
        at += n;
        if (!took(n)) paused = true; // copied in: the pause only holds the socket back
      }
    }
    field[f.buffer] = target();
    handle.useUserBuffer(field[f.buffer] as Buffer);

    socket.once('end', onEnd);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.once('timeout', onTimeout);
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (socket.readableEnded) onEnd();
    else if (socket.destroyed) onClose();
    else if (!paused) socket.resume();
    else socket.pause();
  });
}

/** Writes the blocks in order: one writev when the file has it, else one write each. */
async function writeBatch(file: WritableFile, batch: Buffer[]): Promise<void> {
  if (batch.length === 1) return file.write(batch[0]!);
  if (file.writev) return file.writev(batch);
  for (const part of batch) await file.write(part);
}
