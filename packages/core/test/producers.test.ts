import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CompositeProducer,
  createListener,
  FileProducer,
  GlobbingProducer,
  HookedProducer,
  isEmptyChunk,
  IterableProducer,
  LineSession,
  SimpleProducer,
  streamProducer,
  type Chunk,
  type Producer,
} from '@gorgon/core';
import { leakGuard, memoryChannelPair } from '@gorgon/core/testing';
import { dial, waitFor } from './helpers.js';

/** Drains a producer the way the FIFO does; returns each chunk. */
async function drain(producer: Producer): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk: Chunk = await producer.more();
    if (isEmptyChunk(chunk)) return chunks;
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
}
const joined = async (producer: Producer): Promise<string> => Buffer.concat(await drain(producer)).toString('latin1');

/** Hands out the given chunks, synchronously; records whether it was closed. */
class ListProducer implements Producer {
  closed = false;
  readonly #chunks: Array<Buffer | string>;
  constructor(chunks: Array<Buffer | string>) {
    this.#chunks = [...chunks];
  }
  more(): Chunk {
    return this.#chunks.shift() ?? null;
  }
  close(): void {
    this.closed = true;
  }
}

let dir: string;
let content: Buffer;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-producers-'));
  content = randomBytes(300_000);
  file = join(dir, 'data.bin');
  await writeFile(file, content);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('producers, drained directly', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
  });
  afterEach(async () => {
    await guard.check();
  });

  it('SimpleProducer hands out fixed-size chunks, then null', async () => {
    const chunks = await drain(new SimpleProducer('abcdefghij', 4));
    expect(chunks.map((c) => c.toString())).toEqual(['abcd', 'efgh', 'ij']);
    expect(await drain(new SimpleProducer(''))).toEqual([]);
  });

  it('FileProducer reads a range in chunks of the given size and closes its handle', async () => {
    const chunks = await drain(new FileProducer(file, { start: 1000, end: 250_000, chunkSize: 4096 }));
    expect(chunks.every((c) => c.length <= 4096)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.length === 4096)).toBe(true);
    expect(Buffer.concat(chunks).equals(content.subarray(1000, 250_000))).toBe(true);
    expect(Buffer.concat(await drain(new FileProducer(file))).equals(content)).toBe(true);
    expect(Buffer.concat(await drain(new FileProducer(file, { start: 299_990 }))).equals(content.subarray(299_990))).toBe(true);
    expect(await drain(new FileProducer(file, { start: 10, end: 10 }))).toEqual([]);
  });

  it('FileProducer sizes its buffers by a small file, and still reads a growing file to EOF', async () => {
    const small = join(dir, 'small.txt');
    await writeFile(small, 'x'.repeat(4096));
    const chunks = await drain(new FileProducer(small));
    expect(Buffer.concat(chunks).length).toBe(4096);
    for (const c of chunks) expect(c.buffer.byteLength).toBeLessThanOrEqual(64 * 1024);

    const growing = join(dir, 'growing.txt');
    await writeFile(growing, 'first');
    const producer = new FileProducer(growing);
    expect(String(await producer.more())).toBe('first');
    await writeFile(growing, 'first+second');
    expect(String(await producer.more())).toBe('+second');
    expect(await producer.more()).toBeNull();
  });

  it('FileProducer over an open FileHandle, closed early', async () => {
    const handle = await open(file, 'r');
    const producer = new FileProducer(handle, { chunkSize: 1000 });
    const first = (await producer.more()) as Buffer;
    expect(first.equals(content.subarray(0, 1000))).toBe(true);
    await producer.close();
    expect(await producer.more()).toBeNull();
    // The leak guard checks the handle was closed.
  });

  it('FileProducer on a missing file fails from more(), and never as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      new FileProducer(join(dir, 'missing-never-read'));
      await expect(new FileProducer(join(dir, 'missing')).more()).rejects.toThrow(/ENOENT/);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('IterableProducer takes sync and async iterables and streams, skipping empty chunks', async () => {
    expect(await joined(new IterableProducer(['a', '', Buffer.from('b'), 'c']))).toBe('abc');
    async function* gen(): AsyncGenerator<string> {
      yield 'x';
      yield '';
      yield 'y';
    }
    expect(await joined(new IterableProducer(gen()))).toBe('xy');
    expect(await joined(streamProducer(Readable.from(['p', 'q'])))).toBe('pq');
    const fromFile = await drain(streamProducer(createReadStream(file, { highWaterMark: 50_000 })));
    expect(Buffer.concat(fromFile).equals(content)).toBe(true);
  });

  it('IterableProducer.close() ends a generator and destroys a stream', async () => {
    let finished = false;
    function* endless(): Generator<string> {
      try {
        for (;;) yield 'z';
      } finally {
        finished = true;
      }
    }
    const producer = new IterableProducer(endless());
    expect(await producer.more()).toBe('z');
    await producer.close();
    expect(finished).toBe(true);
    expect(await producer.more()).toBeNull();

    const stream = createReadStream(file, { highWaterMark: 1000 });
    const fromStream = streamProducer(stream);
    expect(((await fromStream.more()) as Buffer).length).toBe(1000);
    await fromStream.close?.();
    expect(stream.destroyed).toBe(true);
  });

  it('CompositeProducer runs its parts in order and closes the rest when closed', async () => {
    expect(await joined(new CompositeProducer(['head ', new SimpleProducer('body', 2), new ListProducer([]), Buffer.from(' tail')]))).toBe(
      'head body tail',
    );
    const later = new ListProducer(['never']);
    const composite = new CompositeProducer([new ListProducer(['one']), later]);
    expect(await composite.more()).toBe('one');
    await composite.close();
    expect(later.closed).toBe(true);
    expect(await composite.more()).toBeNull();
  });

  it('GlobbingProducer coalesces small chunks into writes of about bufferSize', async () => {
    const pieces = Array.from({ length: 1000 }, (_, i) => `${i},`);
    const chunks = await drain(new GlobbingProducer(new ListProducer(pieces), 512));
    expect(Buffer.concat(chunks).toString()).toBe(pieces.join(''));
    expect(chunks.length).toBeLessThan(pieces.length / 50);
    expect(chunks.slice(0, -1).every((c) => c.length >= 512)).toBe(true);
    const inner = new ListProducer(['a']);
    const glob = new GlobbingProducer(inner);
    await glob.close();
    expect(inner.closed).toBe(true);
  });

  it('HookedProducer reports the byte count once at the end, aborted=false', async () => {
    const calls: Array<[number, boolean]> = [];
    const hooked = new HookedProducer(new ListProducer(['héllo', Buffer.from(' world')]), (bytes, aborted) => calls.push([bytes, aborted]));
    expect(await joined(hooked)).toBe(Buffer.from('héllo world').toString('latin1'));
    expect(await hooked.more()).toBeNull();
    await hooked.close();
    expect(calls).toEqual([[12, false]]);
  });
});

/** Serves producers by command; the listener tests drive it. */
class Server extends LineSession {
  static hook: Array<[number, boolean]> = [];
  protected override onLine(line: string): void {
    switch (line) {
      case 'FILE':
        this.pushWithProducer(new FileProducer(file, { start: 100, end: 200_100, chunkSize: 16_384 }));
        return;
      case 'MIX':
        this.push('+OK\r\n');
        this.pushWithProducer(new CompositeProducer(['[', new GlobbingProducer(new ListProducer(['a', 'b', 'c'])), ']']));
        this.push('\r\n');
        return;
      case 'FOREVER':
        this.pushWithProducer(
          new HookedProducer(
            new IterableProducer(
              (function* () {
                for (;;) yield Buffer.alloc(64 * 1024, 0x66);
              })(),
            ),
            (bytes, aborted) => Server.hook.push([bytes, aborted]),
          ),
        );
        return;
      case 'THROW':
      case 'REJECT': {
        let n = 0;
        const sync = line === 'THROW';
        this.pushWithProducer({
          more: (): Chunk | Promise<Chunk> => {
            if (n++ < 2) return `part${n}\r\n`;
            if (sync) throw new Error('disk on fire');
            return Promise.reject(new Error('disk on fire'));
          },
        });
        this.push('never sent\r\n');
        return;
      }
      default:
        this.push(`? ${line}\r\n`);
    }
  }
}

describe('producers through a connection', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    Server.hook = [];
  });
  afterEach(async () => {
    await guard.check();
  });

  it('a file range and a composite arrive intact and in order (real socket)', async () => {
    await using listener = createListener({ name: 'prod' }, (ch) => new Server(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.send('FILE\r\nMIX\r\nNOPE\r\n');
    expect((await client.bytes(200_000)).equals(content.subarray(100, 200_100))).toBe(true);
    expect(await client.lines(3)).toEqual(['+OK', '[abc]', '? NOPE']);
    client.end();
    await client.closed();
  });

  it('the same over the memory pair', async () => {
    const { channel, client } = memoryChannelPair();
    new Server(channel);
    client.send('MIX\r\nFILE\r\n');
    expect(await client.lines(2)).toEqual(['+OK', '[abc]']);
    expect((await client.bytes(200_000)).equals(content.subarray(100, 200_100))).toBe(true);
    client.end();
    await channel.closed;
  });

  it('HookedProducer is told aborted=true when the client goes away mid-transfer', async () => {
    await using listener = createListener({ name: 'prod' }, (ch) => new Server(ch));
    const { port } = await listener.listen(0);
    const client = dial(port);
    client.sendLine('FOREVER');
    await client.bytes(1024 * 1024);
    client.socket.destroy();
    await waitFor(() => Server.hook.length > 0, 'the hook');
    expect(Server.hook).toHaveLength(1);
    const [bytes, aborted] = Server.hook[0]!;
    expect(aborted).toBe(true);
    expect(bytes).toBeGreaterThanOrEqual(1024 * 1024);
  });

  it.each(['THROW', 'REJECT'])('a producer that fails mid-way (%s) closes that connection; the server goes on', async (verb) => {
    await using listener = createListener({ name: 'prod' }, (ch) => new Server(ch));
    const { port } = await listener.listen(0);
    const bystander = dial(port);
    bystander.sendLine('hello');
    expect(await bystander.line()).toBe('? hello');
    const client = dial(port);
    client.sendLine(verb);
    const received = (await client.readToEnd()).toString();
    expect(received).toBe('part1\r\npart2\r\n');
    expect(listener.counters.errors).toBe(1);
    bystander.sendLine('still there');
    expect(await bystander.line()).toBe('? still there');
    bystander.end();
    await bystander.closed();
  });

  it('a producer queued on a closed connection is released, not drained', async () => {
    const { channel, client } = memoryChannelPair();
    const session = new Server(channel);
    client.end();
    await channel.closed;
    const late = new ListProducer(['x']);
    session.pushWithProducer(late);
    expect(late.closed).toBe(true);
  });
});
