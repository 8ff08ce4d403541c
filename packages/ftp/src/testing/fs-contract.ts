import { deepEqual, equal, match, notEqual, ok } from 'node:assert/strict';
import { isEmptyChunk, type Producer } from '@gorgon/core';
import type { ContractCheck } from '@gorgon/core/testing';
import { FsError, type VirtualFs } from '../fs.js';

/**
 * Makes a fresh filesystem holding exactly `files` (paths relative to its root, directories
 * implied by the paths), for one check. Called once per check; clean up (temporary
 * directories) in your runner's after-each hook or after {@link runContract}.
 */
export type VirtualFsFactory = (files: Readonly<Record<string, Buffer>>) => VirtualFs | Promise<VirtualFs>;

/** What every check of {@link virtualFsContract} starts from: a small text file in a directory and a 3 MiB file. */
export function contractFiles(): Record<string, Buffer> {
  return { 'pub/a.txt': Buffer.from('alpha\n'), 'b.bin': Buffer.alloc(3 * 1024 * 1024, 7) };
}

async function readAll(p: Producer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await p.more();
    if (isEmptyChunk(chunk)) break;
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** The FsError code a call failed with, or 'ok'. */
async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof FsError) return err.code;
    throw err;
  }
  return 'ok';
}

function partial(actual: object, expected: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(expected)) equal((actual as Record<string, unknown>)[key], value, key);
}

/**
 * The VirtualFs contract as named checks: what the FTP server relies on from any filesystem
 * (stat and list facts, reads from an offset in large chunks, uploads visible only on commit,
 * exclusive commits, the FsError codes the server turns into replies). DiskFs and MemoryFs pass
 * it; so should yours. `chmod` is optional in the interface; its part passes when absent.
 * @see RFC 959 §4.1.3, RFC 3659 §3-§7
 */
export function virtualFsContract(make: VirtualFsFactory): ContractCheck[] {
  const checks: ContractCheck[] = [];
  const check = (name: string, body: (fs: VirtualFs) => Promise<void>): void => {
    checks.push({ name, run: async () => body(await make(contractFiles())) });
  };
  check('stats files and directories', async (fs) => {
    const a = await fs.stat('/pub/a.txt');
    partial(a, { name: 'a.txt', kind: 'file', size: 6 });
    ok(a.mtime instanceof Date);
    equal((await fs.stat('/pub')).kind, 'dir');
    equal((await fs.stat('/')).kind, 'dir');
    equal(await code(fs.stat('/nope')), 'not-found');
    match(await code(fs.stat('/pub/a.txt/x')), /not-dir|not-found/);
  });

  check('lists a directory', async (fs) => {
    const names = (await fs.list('/')).map((s) => s.name).sort();
    deepEqual(names, ['b.bin', 'pub']);
    equal(await code(fs.list('/pub/a.txt')), 'not-dir');
    equal(await code(fs.list('/missing')), 'not-found');
  });

  check('reads from an offset in large chunks', async (fs) => {
    equal((await readAll(await fs.openRead('/pub/a.txt'))).toString(), 'alpha\n');
    equal((await readAll(await fs.openRead('/pub/a.txt', 2))).toString(), 'pha\n');
    const opened = await fs.openRead('/pub/a.txt', 2);
    equal(opened.size, 6);
    await opened.close?.();
    const big = await fs.openRead('/b.bin');
    const first = await big.more();
    equal(Buffer.byteLength(first as Buffer), 1024 * 1024);
    await big.close?.();
    equal(await code(fs.openRead('/pub')), 'is-dir');
  });

  check('replaces a file only on commit; abort leaves the old one', async (fs) => {
    const w = await fs.openWrite('/pub/a.txt', { mode: 'replace' });
    await w.write(Buffer.from('new content'));
    equal((await readAll(await fs.openRead('/pub/a.txt'))).toString(), 'alpha\n');
    await w.commit();
    equal((await readAll(await fs.openRead('/pub/a.txt'))).toString(), 'new content');
    const cut = await fs.openWrite('/pub/a.txt', { mode: 'replace' });
    await cut.write(Buffer.from('partial'));
    await cut.abort();
    equal((await readAll(await fs.openRead('/pub/a.txt'))).toString(), 'new content');
    deepEqual((await fs.list('/pub')).map((s) => s.name), ['a.txt']);
  });

  check('creates new files, appends and resumes', async (fs) => {
    const w = await fs.openWrite('/pub/new.txt', { mode: 'replace' });
    await w.write(Buffer.from('hello '));
    await w.commit();
    const a = await fs.openWrite('/pub/new.txt', { mode: 'append' });
    await a.write(Buffer.from('world'));
    await a.commit();
    equal((await readAll(await fs.openRead('/pub/new.txt'))).toString(), 'hello world');
    const r = await fs.openWrite('/pub/new.txt', { mode: 'resume', offset: 6 });
    await r.write(Buffer.from('there'));
    await r.commit();
    equal((await readAll(await fs.openRead('/pub/new.txt'))).toString(), 'hello there');
    equal(await code(fs.openWrite('/pub', { mode: 'replace' })), 'is-dir');
    equal(await code(fs.openWrite('/nodir/x', { mode: 'replace' })), 'not-found');
  });

  check('writes several buffers in order (writev where offered)', async (fs) => {
    const parts = [Buffer.from('one '), Buffer.alloc(100_000, 0x61), Buffer.from(' three')];
    const w = await fs.openWrite('/pub/parts.bin', { mode: 'replace' });
    if (w.writev) await w.writev(parts);
    else await w.write(Buffer.concat(parts));
    await w.write(Buffer.from('!'));
    await w.commit();
    equal((await readAll(await fs.openRead('/pub/parts.bin'))).equals(Buffer.concat([...parts, Buffer.from('!')])), true);
  });

  check('refuses an exclusive commit over an existing file', async (fs) => {
    const w = await fs.openWrite('/pub/a.txt', { mode: 'replace', exclusive: true });
    await w.write(Buffer.from('x'));
    equal(await code(w.commit()), 'exists');
    equal((await readAll(await fs.openRead('/pub/a.txt'))).toString(), 'alpha\n');
  });

  check('makes, renames and removes entries', async (fs) => {
    await fs.mkdir('/d');
    equal(await code(fs.mkdir('/d')), 'exists');
    await fs.rename('/pub/a.txt', '/d/a2.txt');
    equal(await code(fs.stat('/pub/a.txt')), 'not-found');
    equal((await fs.stat('/d/a2.txt')).size, 6);
    equal(await code(fs.rmdir('/d')), 'not-empty');
    equal(await code(fs.unlink('/d')), 'is-dir');
    await fs.unlink('/d/a2.txt');
    await fs.rmdir('/d');
    equal(await code(fs.stat('/d')), 'not-found');
    equal(await code(fs.unlink('/missing')), 'not-found');
    equal(await code(fs.rename('/missing', '/x')), 'not-found');
  });

  check('sets modification times and modes', async (fs) => {
    const when = new Date(Date.UTC(2001, 8, 9, 1, 46, 40));
    await fs.setMtime('/pub/a.txt', when);
    equal((await fs.stat('/pub/a.txt')).mtime.getTime(), when.getTime());
    if (!fs.chmod) return; // optional in VirtualFs
    await fs.chmod('/pub/a.txt', 0o600);
    equal((await fs.stat('/pub/a.txt')).mode, 0o600);
  });

  check('gives distinct unique ids', async (fs) => {
    const [a, b] = await Promise.all([fs.stat('/pub/a.txt'), fs.stat('/b.bin')]);
    notEqual(a.id, b.id);
  });
  return checks;
}
