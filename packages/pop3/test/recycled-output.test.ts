import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { open } from 'node:fs/promises';
import { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { escapeMultiline, MemoryAuthenticator, OutputChannel, outputBuffers } from '@gorgon/core';
import { createPop3Server, MaildirStore } from '../src/internal.js';
import { MessageFileProducer } from '../src/message-file-producer.js';
import { MultilineReplyProducer } from '../src/multiline-reply-producer.js';

// Large messages go out in buffers the process recycles (the core's `outputBuffers`): the
// file's reads and their escaped copies are given back once written and taken again by the next
// reply, this session's or another's. A buffer given back while a socket still holds it would
// put one user's mail into another's reply: here several sessions whose readers stall at
// different times (so their writes wait in the socket while the others go on) must each get
// exactly their own messages.

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-recycled-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const USERS = ['ann', 'ben', 'cid'];
/** Sizes of each user's messages, above the 64 KiB read synchronously: every one is streamed. */
const SIZES = [1_500_000, 700_000, 2_000_000, 300_000, 1_200_000, 2_500_000];

/** A message whose every line names its user, message and line: LF line ends, some lines dot-led. */
function message(user: string, n: number, size: number): Buffer {
  const lines: string[] = [`Subject: ${user} ${n}`, ''];
  let bytes = 0;
  for (let i = 0; bytes < size; i++) {
    const line = `${i % 7 === 0 ? '.' : ''}${user} message ${n} line ${i} ${'x'.repeat(i % 50)}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Logs in, pipelines RETR of every message and QUIT, and reads it all, stalling as told. */
function fetchAll(port: number, user: string, stallMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const got: Buffer[] = [];
    let stalled = false;
    socket.on('data', (chunk: Buffer) => {
      got.push(chunk);
      if (!stalled && got.length === 3) {
        // Past the login replies: stop reading while the others go on, then read slowly.
        stalled = true;
        socket.pause();
        setTimeout(() => socket.resume(), stallMs);
      }
    });
    socket.on('end', () => resolve(Buffer.concat(got)));
    socket.on('error', reject);
    const retrs = SIZES.map((_, i) => `RETR ${i + 1}\r\n`).join('');
    socket.write(`USER ${user}\r\nPASS secret\r\n${retrs}QUIT\r\n`);
  });
}

/** Logs in, pipelines every RETR, and resets the connection (SO_LINGER 0) once `after` bytes came. */
function resetMidway(port: number, user: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let got = 0;
    socket.on('data', (chunk: Buffer) => {
      got += chunk.length;
      if (got >= after && !socket.destroyed) {
        socket.resetAndDestroy();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.write(`USER ${user}\r\nPASS secret\r\n${SIZES.map((_, i) => `RETR ${i + 1}\r\n`).join('')}`);
  });
}

describe('recycled output buffers under concurrent sessions', () => {
  it('each session gets exactly its own messages, whole, while others reuse the buffers', async () => {
    const bodies = new Map<string, Buffer[]>();
    for (const user of USERS) {
      const cur = join(root, user, 'cur');
      await mkdir(cur, { recursive: true });
      for (const sub of ['new', 'tmp']) await mkdir(join(root, user, sub));
      const mine = SIZES.map((size, i) => message(user, i + 1, size));
      bodies.set(user, mine);
      for (let i = 0; i < mine.length; i++) await writeFile(join(cur, `${1_700_000_000 + i}.P1Q${i}.host:2,S`), mine[i]!);
    }
    await using srv = createPop3Server({
      store: new MaildirStore(root),
      auth: new MemoryAuthenticator([...USERS, 'dan'].map((name) => ({ name, password: 'secret' }))),
      throttle: { baseDelayMs: 0, maxDelayMs: 0 },
    });
    const { port } = await srv.listen(0, '127.0.0.1');
    const keptBefore = outputBuffers.keptBytes;
    // A fourth session, a copy of ann's maildrop under another name, is reset in the middle of
    // its transfer: what its socket held is dropped, and the buffers go back only once the
    // socket is done with them, not into the others' replies.
    await cp(join(root, 'ann'), join(root, 'dan'), { recursive: true });
    const [streams, resetAt] = await Promise.all([
      Promise.all(USERS.map((user, i) => fetchAll(port, user, 50 + 150 * i))),
      resetMidway(port, 'dan', 3_000_000),
    ]);
    expect(resetAt).toBeGreaterThanOrEqual(3_000_000);

    for (let u = 0; u < USERS.length; u++) {
      const stream = streams[u]!;
      let at = 0;
      const line = (): string => {
        const end = stream.indexOf('\r\n', at);
        expect(end, `a line at ${at}`).toBeGreaterThanOrEqual(0);
        const text = stream.subarray(at, end).toString('latin1');
        at = end + 2;
        return text;
      };
      for (let i = 0; i < 3; i++) expect(line()).toMatch(/^\+OK/); // greeting, USER, PASS
      for (const body of bodies.get(USERS[u]!)!) {
        expect(line()).toMatch(/^\+OK/);
        const expected = escapeMultiline(body);
        const got = stream.subarray(at, at + expected.length);
        expect(got.equals(expected), `${USERS[u]}: message starting "${body.subarray(0, 16).toString()}"`).toBe(true);
        at += expected.length;
      }
      expect(line()).toMatch(/^\+OK/); // QUIT
      expect(at).toBe(stream.length);
    }
    // The buffers were recycled indeed: some came back to the pool.
    expect(outputBuffers.keptBytes).toBeGreaterThan(keptBefore);
    // The reset session's maildrop was let go (its lock released), and the server goes on.
    await expect.poll(() => srv.connections, { timeout: 5000 }).toBe(0);
    const dan = await new MaildirStore(root).open('dan');
    expect(dan.messages).toHaveLength(SIZES.length); // no QUIT: nothing deleted
    await dan.release();
  });
});

/** A stream that keeps each chunk written as it is (no copy) and calls back only when told. */
function holdingStream(): { stream: Duplex; held: Buffer[]; release: () => void } {
  const held: Buffer[] = [];
  const waiting: Array<() => void> = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      held.push(chunk);
      waiting.push(callback);
    },
  });
  return {
    stream,
    held,
    release: () => {
      for (const callback of waiting.splice(0)) callback();
    },
  };
}

describe('a reply piece goes back to the recycler only once its write has called back', () => {
  it('a second reply made while the first is still being written does not get its memory', async () => {
    const [a, b] = [message('ann', 1, 200_000), message('ben', 1, 200_000)];
    await writeFile(join(root, 'a'), a);
    await writeFile(join(root, 'b'), b);
    const reply = async (path: string, size: number): Promise<MultilineReplyProducer> =>
      new MultilineReplyProducer('+OK\r\n', new MessageFileProducer(await open(path, 'r'), size));
    // ann's reply goes to a socket that has not finished writing it (no callback yet)…
    const slow = holdingStream();
    const first = new OutputChannel(slow.stream);
    first.push(await reply(join(root, 'a'), a.length));
    await expect.poll(() => slow.held.length).toBeGreaterThan(0);
    // …while ben's reply of the same size is made and written in full.
    const fast = holdingStream();
    const second = new OutputChannel(fast.stream);
    second.push(await reply(join(root, 'b'), b.length));
    await expect.poll(() => fast.held.length).toBeGreaterThan(0);
    expect(fast.held[0]!.buffer).not.toBe(slow.held[0]!.buffer);
    fast.release();
    // ann's bytes, still held by her socket, are hers.
    const expected = escapeMultiline(a, '+OK\r\n');
    expect(slow.held[0]!.equals(expected.subarray(0, slow.held[0]!.length))).toBe(true);
    slow.release();
    for (const done of [first, second]) {
      done.channel.close({ flush: false });
    }
  });
});
