import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatSizeCache, parseSizeCache } from '../src/maildir-size-cache.js';
import { MaildirStore, SIZE_CACHE_NAME, wireSize } from '../src/internal.js';

// Postfix (and Dovecot) name a message file by the device and inode it was written as
// (`time.V<dev>I<ino>M<usec>.host`, hex), and a rename keeps the inode: when the size cache
// entry was measured on that very inode, the name alone identifies the file, and a restarted
// server does not lstat each message at its first login. Other names are still checked.

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-size-inode-'));
  dir = join(root, 'alice');
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Delivers as Postfix does: written in tmp/, then renamed to a name carrying its inode. */
async function postfix(i: number, body: string): Promise<string> {
  const temp = join(dir, 'tmp', `t${i}`);
  await writeFile(temp, body);
  const { dev, ino } = await stat(temp);
  const base = `${1_700_000_000 + i}.V${dev.toString(16)}I${ino.toString(16)}M${i}.mx.example.org`;
  await rename(temp, join(dir, 'cur', `${base}:2,`));
  return base;
}

async function sizesAfterRestart(options: ConstructorParameters<typeof MaildirStore>[1] = {}): Promise<number[]> {
  const drop = await new MaildirStore(root, options).open('alice');
  const sizes = drop.messages.map((m) => m.size);
  await drop.release();
  return sizes;
}

/** Rewrites the cache entry of `base`: `wire` forged, and what else is given. */
async function forge(base: string, change: { wire: number; raw?: number; mtimeMs?: number; ino?: number }): Promise<void> {
  const path = join(dir, SIZE_CACHE_NAME);
  const cache = parseSizeCache(await readFile(path, 'utf8'))!;
  cache.set(base, { ...cache.get(base)!, ...change });
  await writeFile(path, formatSizeCache(cache));
}

const bodies = ['Subject: a\n\nshort\n', `Subject: b\n\n${'line\n'.repeat(300)}`];
const wire = bodies.map((b) => wireSize(Buffer.from(b)));

describe('size cache entries of names that carry their inode', () => {
  it('are trusted after a restart without an lstat when the inode matches', async () => {
    const a = await postfix(0, bodies[0]!);
    const b = await postfix(1, bodies[1]!);
    expect(await sizesAfterRestart()).toEqual(wire);
    // The file's size and mtime in the entry no longer match it: only a server that did not
    // lstat the file reports the forged size.
    await forge(a, { wire: 11_111, raw: 1, mtimeMs: 1 });
    await forge(b, { wire: 22_222, raw: 2, mtimeMs: 2 });
    expect(await sizesAfterRestart()).toEqual([11_111, 22_222]);
  });

  it('are checked as any other when the entry was measured on another inode, locally or not', async () => {
    const a = await postfix(0, bodies[0]!);
    const b = await postfix(1, bodies[1]!);
    expect(await sizesAfterRestart()).toEqual(wire);
    const real = parseSizeCache(await readFile(join(dir, SIZE_CACHE_NAME), 'utf8'))!;
    // Another inode in the entry: a (forged) size is used only while ino/size/mtime match the file.
    await forge(a, { wire: 11_111, ino: real.get(a)!.ino + 1 });
    await forge(b, { wire: 22_222, ino: real.get(b)!.ino + 1 });
    expect(await sizesAfterRestart()).toEqual(wire);
    for (const local of [true, false]) {
      const ino = real.get(a)!.ino + 1;
      await writeFile(join(dir, SIZE_CACHE_NAME), formatSizeCache([[a, { ...real.get(a)!, ino, wire: 11_111 }]]));
      expect(await sizesAfterRestart({ local }), `local: ${local}`).toEqual(wire);
    }
  });
});
