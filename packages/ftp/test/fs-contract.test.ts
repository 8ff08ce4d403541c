import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isEmptyChunk, type Producer } from '@gorgon/core';
import { DiskFs, TEMP_PREFIX } from '../src/fs-disk.js';
import { DirectoryLister, LISTED_FIELDS } from '../src/fs-disk-lister.js';
import { MemoryFs } from '../src/fs-memory.js';
import { FsError, type VirtualFs } from '../src/fs.js';
import { virtualFsContract, type VirtualFsFactory } from '@gorgon/ftp/testing';

async function readAll(p: Producer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await p.more();
    if (isEmptyChunk(chunk)) break;
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FsError) return err.code;
    throw err;
  }
  return 'ok';
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function diskFs(files: Readonly<Record<string, Buffer>>, options: { listerThread?: boolean } = {}): Promise<VirtualFs> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-fs-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [path, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data);
  }
  return new DiskFs(dir, options);
}

// The suite an embedder runs on their own filesystem (@gorgon/ftp/testing), on the shipped ones.
describe.each<[string, VirtualFsFactory]>([
  ['memory', (files) => new MemoryFs({ ...files })],
  ['disk', (files) => diskFs(files)],
  ['disk, listing on the thread pool', (files) => diskFs(files, { listerThread: false })],
])('VirtualFs contract: %s', (_name, make) => {
  for (const check of virtualFsContract(make)) it(check.name, check.run);
});

describe('DiskFs confinement', () => {
  async function jail(): Promise<{ fs: DiskFs; root: string; outside: string }> {
    const base = await mkdtemp(join(tmpdir(), 'gorgon-jail-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(join(outside, 'secret'), 'top secret');
    await symlink(join(outside, 'secret'), join(root, 'link'));
    await symlink(outside, join(root, 'dirlink'));
    await symlink(join(outside, 'nothing-yet'), join(root, 'dangling'));
    await writeFile(join(root, 'inside.txt'), 'ok');
    await symlink(join(root, 'inside.txt'), join(root, 'goodlink'));
    return { fs: new DiskFs(root), root, outside };
  }

  it('refuses symlinks that point outside the root, on every operation', async () => {
    const { fs, outside } = await jail();
    expect(await code(fs.stat('/link'))).toBe('denied');
    expect(await code(fs.openRead('/link'))).toBe('denied');
    expect(await code(fs.list('/dirlink'))).toBe('denied');
    expect(await code(fs.openRead('/dirlink/secret'))).toBe('denied');
    expect(await code(fs.openWrite('/dirlink/new', { mode: 'replace' }))).toBe('denied');
    expect(await code(fs.openWrite('/link', { mode: 'append' }))).toBe('denied');
    expect(await code(fs.openWrite('/dangling', { mode: 'replace' }))).toBe('denied');
    expect(await code(fs.mkdir('/dirlink/sub'))).toBe('denied');
    expect(await code(fs.setMtime('/link', new Date()))).toBe('denied');
    expect(await readdir(outside)).toEqual(['secret']);
  });

  it('follows symlinks that stay inside and marks outside ones in listings', async () => {
    const { fs } = await jail();
    expect((await fs.stat('/goodlink')).size).toBe(2);
    const byName = new Map((await fs.list('/')).map((s) => [s.name, s.kind]));
    expect(byName.get('goodlink')).toBe('file');
    expect(byName.get('link')).toBe('other');
    expect(byName.get('dirlink')).toBe('other');
  });

  it('hides temporary upload files and refuses NUL bytes', async () => {
    const { fs, root } = await jail();
    await writeFile(join(root, `${TEMP_PREFIX}abc`), 'tmp');
    expect((await fs.list('/')).map((s) => s.name)).not.toContain(`${TEMP_PREFIX}abc`);
    expect(await code(fs.stat('/a\0b'))).toBe('invalid-path');
  });

  it('lists 10,000 entries', async () => {
    const base = await mkdtemp(join(tmpdir(), 'gorgon-big-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => writeFile(join(base, `f${i}`), 'x')));
    await symlink(tmpdir(), join(base, 'out-link'));
    await symlink(join(base, 'f1'), join(base, 'in-link'));
    for (const listerThread of [true, false]) {
      const list = await new DiskFs(base, { listerThread }).list('/');
      expect(list).toHaveLength(10_002);
      const byName = new Map(list.map((s) => [s.name, s]));
      expect(byName.get('out-link')?.kind).toBe('other');
      expect(byName.get('in-link')?.kind).toBe('file');
      expect(list.filter((s) => s.kind === 'file' && s.size === 1)).toHaveLength(10_001);
      // Listed entries make their Date and id on first read: the same as a stat of the file
      // (Node rounds fractional milliseconds; the helper threads' listing must agree).
      const one = byName.get('f7')!;
      const direct = await new DiskFs(base).stat('/f7');
      expect(one.mtime.getTime()).toBe(direct.mtime.getTime());
      expect(one.mtime).toBe(one.mtime);
      expect(one.id).toBe(direct.id);
      if (listerThread) expect(one.mtimeMs).toBe(direct.mtime.getTime());
    }
  });

  it('lister threads answer every slice in order, marking vanished names, directories and symlinks', async () => {
    const base = await mkdtemp(join(tmpdir(), 'gorgon-lister-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    const names: string[] = [];
    for (let i = 0; i < 50; i++) {
      const name = `e${String(i).padStart(2, '0')}`;
      names.push(name);
      if (i % 10 === 3) continue; // never created: vanished since readdir
      if (i % 10 === 5) await mkdir(join(base, name));
      else await writeFile(join(base, name), 'x'.repeat(i));
    }
    await symlink(join(base, 'e00'), join(base, 'zlink'));
    names.push('zlink');
    const lister = new DirectoryLister({ threads: 3 });
    // Several requests at once share the threads; each gets its own answer.
    const [a, b] = await Promise.all([lister.stat(base, names), lister.stat(base, names.slice(10, 20))]);
    const kinds = (stats: Float64Array): number[] => Array.from({ length: stats.length / LISTED_FIELDS }, (_, i) => stats[i * LISTED_FIELDS]!);
    expect(kinds(a)).toEqual(names.map((n, i) => (n === 'zlink' ? 3 : i % 10 === 3 ? -1 : i % 10 === 5 ? 1 : 0)));
    expect(kinds(b)).toEqual(kinds(a).slice(10, 20));
    expect(a[7 * LISTED_FIELDS + 1]).toBe(7); // size
    expect(await lister.stat(base, [])).toHaveLength(0);
  });
});
