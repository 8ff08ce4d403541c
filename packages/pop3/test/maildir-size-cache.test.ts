import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatSizeCache, parseSizeCache } from '../src/maildir-size-cache.js';
import { MaildirStore, SIZE_CACHE_NAME, wireSize } from '../src/internal.js';

// Maildirs as Postfix and procmail write them carry no ,S=/,W= sizes: the sizes measured once
// are kept in a cache file in the Maildir, so a restarted server does not read every message
// again, and are trusted only while the file is the one measured.

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gorgon-size-cache-'));
  dir = join(root, 'alice');
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Foreign messages (no sizes in the names, LF line ends), in delivery order. */
const bodies = ['Subject: a\n\nshort\n', `Subject: b\n\n${'line\n'.repeat(300)}`, 'Subject: c\n\nno final newline'];
const names = bodies.map((_, i) => `${1_700_000_000 + i}.V801I${i}M${i}.mx.example.org`);
const wire = bodies.map((b) => wireSize(Buffer.from(b)));

async function writeForeign(): Promise<void> {
  for (let i = 0; i < bodies.length; i++) await writeFile(join(dir, 'cur', `${names[i]}:2,`), bodies[i]!);
}

async function sizesAfterRestart(options: ConstructorParameters<typeof MaildirStore>[1] = {}): Promise<number[]> {
  const drop = await new MaildirStore(root, options).open('alice');
  const sizes = drop.messages.map((m) => m.size);
  await drop.release();
  return sizes;
}

const cachePath = (): string => join(dir, SIZE_CACHE_NAME);

/** Rewrites the cache with `wire` replaced by `fake` for message `i` (its identity kept). */
async function forgeWire(i: number, fake: number): Promise<void> {
  const cache = parseSizeCache(await readFile(cachePath(), 'utf8'))!;
  cache.set(names[i]!, { ...cache.get(names[i]!)!, wire: fake });
  await writeFile(cachePath(), formatSizeCache(cache));
}

describe('the Maildir size cache', () => {
  it('is written at the first login and used after a restart instead of reading the messages', async () => {
    await writeForeign();
    expect(await sizesAfterRestart()).toEqual(wire);
    const cache = parseSizeCache(await readFile(cachePath(), 'utf8'));
    expect([...cache!.keys()].sort()).toEqual([...names].sort());
    // Written atomically: no temporary file left beside it.
    expect((await readdir(dir)).filter((n) => n.includes(SIZE_CACHE_NAME))).toEqual([SIZE_CACHE_NAME]);
    // A forged size with the file's identity intact is what a new process reports: the proof
    // that it did not read the message again.
    await forgeWire(1, 12_345);
    expect(await sizesAfterRestart()).toEqual([wire[0], 12_345, wire[2]]);
  });

  it('a message changed under the same name (size, or mtime) is measured again', async () => {
    await writeForeign();
    await sizesAfterRestart();
    await forgeWire(0, 12_345);
    await forgeWire(2, 12_345);
    // Message 1 edited in place (another length), message 3 touched (same bytes, new mtime).
    await writeFile(join(dir, 'cur', `${names[0]}:2,`), 'Subject: a\n\nlonger now\n');
    const later = new Date(Date.now() + 5000);
    await utimes(join(dir, 'cur', `${names[2]}:2,`), later, later);
    expect(await sizesAfterRestart()).toEqual([wireSize(Buffer.from('Subject: a\n\nlonger now\n')), wire[1], wire[2]]);
  });

  it.each([
    ['garbage', 'not a cache at all\n'],
    ['another header', 'gorgon-pop3-sizes 99\n'],
    ['cut short (no final line end)', 'gorgon-pop3-sizes 1\n1 2 3 4 x'],
    ['a malformed line', 'gorgon-pop3-sizes 1\n1 2 3 4 ok\nnonsense\n'],
    ['a binary blob', '\u0000\u0001\u00ff'.repeat(100)],
  ])('a corrupt cache (%s) is ignored and replaced', async (_what, text) => {
    await writeForeign();
    await writeFile(cachePath(), text);
    expect(await sizesAfterRestart()).toEqual(wire);
    expect(parseSizeCache(await readFile(cachePath(), 'utf8'))?.size).toBe(3);
  });

  it('a FIFO or a symlink at the cache path is neither waited on nor followed', async () => {
    await writeForeign();
    const outside = await mkdtemp(join(tmpdir(), 'gorgon-size-cache-out-'));
    try {
      // A valid-looking cache elsewhere, claiming absurd sizes for these very files.
      await new MaildirStore(root).open('alice').then((d) => d.release());
      await forgeWire(0, 12_345);
      await writeFile(join(outside, 'cache'), await readFile(cachePath()));
      await rm(cachePath());
      await symlink(join(outside, 'cache'), cachePath());
      expect(await sizesAfterRestart()).toEqual(wire);
      await rm(cachePath());
      expect(spawnSync('mkfifo', [cachePath()]).status).toBe(0);
      expect(await sizesAfterRestart()).toEqual(wire);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('keeps only the messages still there, and is not written with sizeCacheFile: false', async () => {
    await writeForeign();
    const store = new MaildirStore(root);
    const drop = await store.open('alice');
    await drop.commit(new Set([0]));
    await writeFile(join(dir, 'new', '1700000009.V801I9M9.mx.example.org'), 'Subject: d\n\nnew\n');
    await (await store.open('alice')).release();
    expect([...parseSizeCache(await readFile(cachePath(), 'utf8'))!.keys()].sort()).toEqual([names[1], names[2], '1700000009.V801I9M9.mx.example.org']);
    await rm(cachePath());
    expect(await sizesAfterRestart({ sizeCacheFile: false })).toHaveLength(3);
    expect(await readdir(dir)).not.toContain(SIZE_CACHE_NAME);
  });

  it('a measured small message is read at once (its size on disk stands for ,S=)', async () => {
    await writeForeign();
    const drop = await new MaildirStore(root).open('alice');
    expect(String(drop.readNow!(0))).toBe(bodies[0]);
    await drop.release();
  });

  it('formats and parses names with spaces and commas, and leaves out names it could not read back', () => {
    const k = { ino: 123456789, raw: 10, mtimeMs: 1_700_000_000_123.4567, wire: 12 };
    const text = formatSizeCache([
      ['1.a b,c.host', k],
      ['2.line\nbreak.host', k],
    ]);
    expect(parseSizeCache(text)).toEqual(new Map([['1.a b,c.host', k]]));
  });
});
