import { mkdtemp, rm, unlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Producer } from '@gorgon/core';
import { MaildirStore, smallReadAheadBytes } from '../src/internal.js';

// While a large message is sent, the next one is opened and its first 256 KiB read ahead
// (lock-step clients fetch in order): what RETR hands out is still the whole file, in order.

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-read-ahead-'));
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(root, 'alice', sub), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function drain(p: Producer): Promise<{ bytes: Buffer; pieces: number[] }> {
  const out: Buffer[] = [];
  for (;;) {
    const c = await p.more();
    if (c === null || c === undefined || c.length === 0) break;
    out.push(Buffer.from(c));
  }
  return { bytes: Buffer.concat(out), pieces: out.map((b) => b.length) };
}

describe('Maildir read-ahead of large messages', () => {
  it('serves each message whole, the next one starting with the bytes read ahead', async () => {
    const sizes = [100_000, 300_000, 1_500_000, 200_000];
    const bodies = sizes.map((n, i) => Buffer.alloc(n, String.fromCharCode(0x61 + i)));
    for (let i = 0; i < bodies.length; i++) await writeFile(join(root, 'alice', 'cur', `${1_700_000_000 + i}.P1Q${i}.host:2,`), bodies[i]!);
    const drop = await new MaildirStore(root).open('alice');
    const got = [];
    for (let i = 0; i < bodies.length; i++) got.push(await drain(await drop.read(i)));
    for (let i = 0; i < bodies.length; i++) expect(got[i]!.bytes.equals(bodies[i]!), `message ${i + 1}`).toBe(true);
    // Message 3 came as 256 KiB read ahead, then the rest (one read of at most 1 MiB, then the tail).
    expect(got[2]!.pieces).toEqual([256 * 1024, 1024 * 1024, 1_500_000 - 256 * 1024 - 1024 * 1024]);
    await drop.release();
  });
});

/** A small message file in cur/, its size in its name (as an MTA or Gorgon's delivery writes it). */
async function small(user: string, i: number, body: string): Promise<string> {
  const path = join(root, user, 'cur', `${1_700_000_000 + i}.P1Q${i}.host,S=${Buffer.byteLength(body)}:2,`);
  await writeFile(path, body);
  return path;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Maildir read-ahead of small messages', () => {
  it('reads the next small message once a RETR is answered, serves it from memory, and gives the memory back', async () => {
    const bodies = ['Subject: 1\r\n\r\none\r\n', 'Subject: 2\r\n\r\ntwo\r\n', 'Subject: 3\r\n\r\nthree\r\n', 'Subject: 4\r\n\r\nfour\r\n'];
    const paths = [];
    for (let i = 0; i < bodies.length; i++) paths.push(await small('alice', i, bodies[i]!));
    const drop = await new MaildirStore(root).open('alice');
    expect(String(drop.readNow!(0))).toBe(bodies[0]);
    expect(smallReadAheadBytes()).toBe(0); // not before this turn's reply went out
    await turn();
    expect(smallReadAheadBytes()).toBe(Buffer.byteLength(bodies[1]!));
    // Served from what was read ahead: the file has gone from the disk since.
    await unlink(paths[1]!);
    expect(String(drop.readNow!(1))).toBe(bodies[1]);
    await turn();
    expect(smallReadAheadBytes()).toBe(Buffer.byteLength(bodies[2]!));
    // A client that skips a message: what was read ahead is dropped, the message asked for read.
    expect(String(drop.readNow!(3))).toBe(bodies[3]);
    expect(smallReadAheadBytes()).toBe(0);
    await turn();
    expect(smallReadAheadBytes()).toBe(0); // message 4 is the last
    expect(String(drop.readNow!(2))).toBe(bodies[2]);
    await turn();
    expect(smallReadAheadBytes()).toBe(Buffer.byteLength(bodies[3]!));
    await drop.release();
    expect(smallReadAheadBytes()).toBe(0);
  });

  it('a next message that vanished or is no longer a file is left to its RETR, which reports it', async () => {
    await small('alice', 0, 'Subject: 1\r\n\r\none\r\n');
    const second = await small('alice', 1, 'Subject: 2\r\n\r\ntwo\r\n');
    const drop = await new MaildirStore(root).open('alice');
    await unlink(second); // after the listing, before the read-ahead
    drop.readNow!(0);
    await turn();
    expect(smallReadAheadBytes()).toBe(0);
    expect(drop.readNow!(1)).toBeUndefined(); // read() then looks for it and says it is gone
    await expect(drop.read(1)).rejects.toMatchObject({ code: 'gone' });
    await drop.release();
  });

  it('many sessions that stop after a RETR hold at most 8 MiB ahead between them', async () => {
    const body = `Subject: x\r\n\r\n${'y'.repeat(64_000)}\r\n`;
    const drops = [];
    for (let u = 0; u < 140; u++) {
      const user = `u${u}`;
      for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(root, user, sub), { recursive: true });
      await small(user, 0, body);
      await small(user, 1, body);
      const drop = await new MaildirStore(root).open(user);
      drop.readNow!(0);
      drops.push(drop);
    }
    await turn();
    const held = smallReadAheadBytes();
    expect(held).toBeGreaterThan(7 * 1024 * 1024);
    expect(held).toBeLessThanOrEqual(8 * 1024 * 1024);
    for (const drop of drops) expect(String(drop.readNow!(1))).toBe(body); // read ahead or not, the same bytes
    for (const drop of drops) await drop.release();
    expect(smallReadAheadBytes()).toBe(0);
  });
});

describe('MessageFileProducer buffers', () => {
  it('reads into recycled buffers once the consumer releases each chunk, and into a new one per read otherwise', async () => {
    const { open } = await import('node:fs/promises');
    const { MessageFileProducer } = await import('../src/message-file-producer.js');
    const { MultilineReplyProducer } = await import('../src/multiline-reply-producer.js');
    const { escapeMultiline } = await import('@gorgon/core');
    const path = join(root, 'big');
    const line = Buffer.from('.a line of an LF Maildir, dot-stuffed when sent\n');
    const body = Buffer.concat(Array.from({ length: Math.ceil((3.5 * 1024 * 1024) / line.length) }, () => line));
    await writeFile(path, body);
    for (const release of [true, false]) {
      const handle = await open(path, 'r');
      const producer = new MessageFileProducer(handle, body.length);
      const memories = new Set<ArrayBufferLike>();
      const got: Buffer[] = [];
      for (;;) {
        const chunk = (await producer.more()) as Buffer | null;
        if (!chunk) break;
        memories.add(chunk.buffer);
        // Released, a copy (the memory is read into again); kept, the chunk itself, which no
        // later read may overwrite.
        got.push(release ? Buffer.from(chunk) : chunk);
        if (release) producer.released(chunk);
      }
      expect(Buffer.concat(got).equals(body)).toBe(true);
      // 3.5 MiB in reads of at most 1 MiB: released, the 1 MiB buffer is read into three times
      // (the last half MiB is another size); otherwise each read has its own.
      expect(memories.size).toBe(release ? 2 : 4);
    }
    // Through the escaping reply, which releases each chunk once escaped: the bytes of the core escaper.
    const handle = await open(path, 'r');
    const reply = new MultilineReplyProducer('+OK\r\n', new MessageFileProducer(handle, body.length));
    const out = (await drain(reply)).bytes;
    expect(out.equals(escapeMultiline(body, '+OK\r\n'))).toBe(true);
  });
});
