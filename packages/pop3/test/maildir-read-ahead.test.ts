import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Producer } from '@gorgon/core';
import { MaildirStore } from '../src/internal.js';

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
