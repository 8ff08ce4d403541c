import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leakGuard } from '@gorgon/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandGlob, fetchFiles, FetchUrlError, FtpClient, type FetchEvent } from '../src/internal.js';
import { startFakeServer } from './client-fake-server.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Deterministic contents of different sizes, a few spanning several chunks. */
function content(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

let dir: string;
let guard: ReturnType<typeof leakGuard>;
beforeEach(async () => {
  guard = leakGuard();
  dir = await mkdtemp(join(tmpdir(), 'gorgon-fetch-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await guard.check(2000);
});

describe('expandGlob', () => {
  it('expands globs in any segment with listings, and names files from the first glob on', async () => {
    const files = { 'pub/a.txt': 'a', 'pub/b.txt': 'b', 'pub/c.bin': 'c', 'pub/x/a.txt': 'xa', 'pub/y/a.txt': 'ya', 'pub/y/b.txt': 'yb', 'pub/.h.txt': 'h' };
    await using server = await startFakeServer({ files });
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: server.port });
    expect(await expandGlob(client, 'pub/*.txt')).toEqual([
      { remotePath: 'pub/a.txt', relativePath: 'a.txt', size: 1, modifiedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) },
      { remotePath: 'pub/b.txt', relativePath: 'b.txt', size: 1, modifiedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) },
    ]);
    expect((await expandGlob(client, 'pub/*/a.txt')).map((f) => [f.remotePath, f.relativePath])).toEqual([
      ['pub/x/a.txt', 'x/a.txt'],
      ['pub/y/a.txt', 'y/a.txt'],
    ]);
    expect((await expandGlob(client, '/p?b/[xy]/[!a]*')).map((f) => f.remotePath)).toEqual(['/pub/y/b.txt']);
    expect(await expandGlob(client, 'pub/a.txt')).toEqual([{ remotePath: 'pub/a.txt', relativePath: 'a.txt' }]);
    expect(await expandGlob(client, 'pub/*.none')).toEqual([]);
  });

  it('uses LIST where there is no MLSD, without trusting its times', async () => {
    await using server = await startFakeServer({ files: { 'd/a.txt': 'aa' }, features: ['SIZE'] });
    await using client = await FtpClient.connect({ host: '127.0.0.1', port: server.port });
    expect(await expandGlob(client, 'd/*')).toEqual([{ remotePath: 'd/a.txt', relativePath: 'a.txt', size: 2 }]);
  });
});

describe('fetchFiles', () => {
  it('fetches 24 files from two servers at once, within the connection caps, reusing connections', async () => {
    const tracker = { open: 0, max: 0 };
    const a: Record<string, Buffer> = {};
    const b: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) {
      a[`pub/a${i}.bin`] = content(i, 1000 + i * 37_000);
      b[`data/b${i}.bin`] = content(100 + i, 500 + i * 23_000);
    }
    b['data/notes.txt'] = Buffer.from('not matched');
    await using one = await startFakeServer({ files: a, tracker });
    await using two = await startFakeServer({ files: b, tracker, noEpsv: true });
    const events: FetchEvent[] = [];
    const result = await fetchFiles([`ftp://127.0.0.1:${one.port}/pub/*.bin`, `ftp://127.0.0.1:${two.port}/data/b*.bin`], {
      outDir: dir,
      parallel: 3,
      perHost: 2,
      onProgress: (e) => events.push(e),
    });
    expect(result.failed).toEqual([]);
    expect(result.done).toBe(24);
    for (const [path, data] of [...Object.entries(a), ...Object.entries(b).filter(([p]) => p.endsWith('.bin'))]) {
      expect(sha(await readFile(join(dir, path.slice(path.indexOf('/') + 1)))), path).toBe(sha(data));
    }
    expect(result.bytes).toBe([...Object.values(a), ...Object.entries(b).filter(([p]) => p.endsWith('.bin')).map(([, d]) => d)].reduce((s, d) => s + d.length, 0));
    expect(tracker.max).toBeLessThanOrEqual(3);
    expect(one.maxConcurrent).toBeLessThanOrEqual(2);
    expect(two.maxConcurrent).toBeLessThanOrEqual(2);
    // 24 files over at most two logins per server.
    expect(one.sessions.length).toBeLessThanOrEqual(2);
    expect(two.sessions.length).toBeLessThanOrEqual(2);
    expect(events.filter((e) => e.type === 'listed').map((e) => (e.type === 'listed' ? e.files : 0))).toEqual(expect.arrayContaining([12, 12]));
    expect(events.filter((e) => e.type === 'start')).toHaveLength(24);
    expect(events.filter((e) => e.type === 'done')).toHaveLength(24);
    expect((await readdir(dir)).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('resumes a .part file with REST and sets the time from MLSD', async () => {
    const data = content(7, 300_000);
    await using server = await startFakeServer({ files: { 'big.bin': data } });
    await writeFile(join(dir, 'big.bin.part'), data.subarray(0, 123_456));
    const events: FetchEvent[] = [];
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/big.bin`], { outDir: dir, onProgress: (e) => events.push(e) });
    expect(result.failed).toEqual([]);
    expect(sha(await readFile(join(dir, 'big.bin')))).toBe(sha(data));
    expect(server.sessions[0]!.commands).toContain('REST 123456');
    expect(events.find((e) => e.type === 'start')).toMatchObject({ offset: 123_456, size: 300_000 });
    expect(events.find((e) => e.type === 'done')).toMatchObject({ bytes: 300_000 - 123_456, resumedFrom: 123_456 });
    expect((await stat(join(dir, 'big.bin'))).mtime).toEqual(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
    await expect(stat(join(dir, 'big.bin.part'))).rejects.toThrow();
  });

  it('starts over when the server refuses REST, and copes without SIZE and MDTM', async () => {
    const data = content(9, 90_000);
    await using server = await startFakeServer({
      files: { 'r.bin': data },
      hook: (_s, verb) => (verb === 'REST' || verb === 'SIZE' || verb === 'MDTM' ? '502 Command not implemented.' : undefined),
    });
    await writeFile(join(dir, 'r.bin.part'), data.subarray(0, 5000));
    const events: FetchEvent[] = [];
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/r.bin`], { outDir: dir, onProgress: (e) => events.push(e) });
    expect(result.failed).toEqual([]);
    expect(sha(await readFile(join(dir, 'r.bin')))).toBe(sha(data));
    expect(events.find((e) => e.type === 'done')).toMatchObject({ bytes: 90_000, resumedFrom: 0 });
    expect(server.sessions[0]!.commands.filter((c) => /^(REST|RETR)/.test(c))).toEqual(['REST 5000', 'RETR r.bin']);
  });

  it('fails a file it cannot write locally at once, without retries', async () => {
    await using server = await startFakeServer({ files: { 'x.bin': content(1, 300_000) } });
    await mkdir(join(dir, 'x.bin.part'));
    const events: FetchEvent[] = [];
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/x.bin`], { outDir: dir, retryDelayMs: 5, onProgress: (e) => events.push(e) });
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.message).toMatch(/^x\.bin: local file: EISDIR.*\.$/);
    expect(events.filter((e) => e.type === 'retry')).toEqual([]);
  });

  it('fetches an empty file', async () => {
    await using server = await startFakeServer({ files: { 'd/empty.txt': '', 'd/full.txt': 'x' } });
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/d/*`], { outDir: dir });
    expect(result).toMatchObject({ done: 2, failed: [] });
    expect(await readFile(join(dir, 'empty.txt'), 'utf8')).toBe('');
    expect((await readdir(dir)).sort()).toEqual(['empty.txt', 'full.txt']);
  });

  it('skips a file that is already complete', async () => {
    await using server = await startFakeServer({ files: { 'a.txt': 'same size' } });
    await writeFile(join(dir, 'a.txt'), 'SAME SIZE');
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/a.txt`], { outDir: dir });
    expect(result).toMatchObject({ done: 0, skipped: 1, failed: [] });
    expect(server.sessions[0]!.commands.some((c) => c.startsWith('RETR'))).toBe(false);
  });

  it('retries a cut transfer and resumes where it stopped', async () => {
    const data = content(3, 400_000);
    await using server = await startFakeServer({ files: { 'x.bin': data }, cutOnce: { 'x.bin': 150_000 } });
    const events: FetchEvent[] = [];
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/x.bin`], { outDir: dir, retryDelayMs: 10, onProgress: (e) => events.push(e) });
    expect(result.failed).toEqual([]);
    expect(sha(await readFile(join(dir, 'x.bin')))).toBe(sha(data));
    expect(events.filter((e) => e.type === 'retry')).toHaveLength(1);
    const rest = server.sessions.flatMap((s) => s.commands).filter((c) => c.startsWith('REST '));
    expect(rest).toHaveLength(1);
    expect(Number(rest[0]!.slice(5))).toBeGreaterThan(0);
  });

  it('gives up after --retries and leaves the .part for next time', async () => {
    const data = content(4, 200_000);
    let cuts = 0;
    await using server = await startFakeServer({
      files: { 'x.bin': data },
      hook: (_s, verb) => (verb === 'RETR' && ++cuts <= 10 ? '451 Local error in processing.' : undefined),
    });
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/x.bin`], { outDir: dir, retries: 2, retryDelayMs: 5 });
    expect(cuts).toBe(3);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.message).toBe('x.bin: the server refused RETR (451 Local error in processing.).');
  });

  it('reports each failure in one sentence and goes on with the rest', async () => {
    await using good = await startFakeServer({ files: { 'ok.txt': 'fine' } });
    await using locked = await startFakeServer({ users: { alice: 'right' }, files: { 'p/a': '1', 'p/b': '2' } });
    const closed = await startFakeServer();
    const deadPort = closed.port;
    await closed.close();
    const result = await fetchFiles(
      [
        `ftp://127.0.0.1:${good.port}/ok.txt`,
        `ftp://127.0.0.1:${good.port}/missing.txt`,
        `ftp://127.0.0.1:${good.port}/*.none`,
        `ftp://alice:wrong@127.0.0.1:${locked.port}/p/a`,
        `ftp://alice:wrong@127.0.0.1:${locked.port}/p/b`,
        `ftp://127.0.0.1:${deadPort}/x`,
      ],
      { outDir: dir, retries: 1, retryDelayMs: 5 },
    );
    expect(result.done).toBe(1);
    expect(await readFile(join(dir, 'ok.txt'), 'utf8')).toBe('fine');
    expect(result.failed.map((f) => f.message).sort()).toEqual(
      [
        `cannot connect to 127.0.0.1:${deadPort}: connection refused.`,
        `missing.txt on 127.0.0.1:${good.port}: no such file or no permission (550 Could not get file size.).`,
        `no file on 127.0.0.1:${good.port} matches *.none.`,
        `127.0.0.1:${locked.port} refused the login as alice: wrong user name or password? (530 Login incorrect.).`,
        `127.0.0.1:${locked.port} refused the login as alice: wrong user name or password? (530 Login incorrect.).`,
      ].sort(),
    );
    // A refused login is not retried (retries: 1 would double the sessions), and one refusal
    // fails every file of that server: at most its two parallel first tries.
    expect(locked.sessions.length).toBeLessThanOrEqual(2);
    expect(locked.sessions.every((s) => s.commands.filter((c) => c.startsWith('PASS')).length === 1)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['ok.txt']);
  });

  it('keeps going with fewer connections when a server turns extra ones away (421)', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 8; i++) files[`f${i}`] = `file ${i}`;
    await using server = await startFakeServer({ files, maxConnections: 1 });
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/f*`], { outDir: dir, parallel: 4, retryDelayMs: 5 });
    expect(result.failed).toEqual([]);
    expect(result.done).toBe(8);
  });

  it('saves under host directories, and refuses two files for one local name', async () => {
    await using one = await startFakeServer({ files: { 'a.txt': 'one' } });
    await using two = await startFakeServer({ files: { 'a.txt': 'two' } });
    const urls = [`ftp://127.0.0.1:${one.port}/a.txt`, `ftp://127.0.0.1:${two.port}/a.txt`];
    const split = await fetchFiles(urls, { outDir: dir, hostDirs: true });
    expect(split.failed).toEqual([]);
    expect(await readFile(join(dir, `127.0.0.1_${two.port}`, 'a.txt'), 'utf8')).toBe('two');
    const clash = await fetchFiles(urls, { outDir: join(dir, 'flat') });
    expect(clash.done).toBe(1);
    expect(clash.failed[0]!.message).toMatch(/would be written twice/);
  });

  it('never writes outside the output directory, whatever names a listing gives', async () => {
    const hostile = ['type=file;size=1; ..', 'type=file;size=1; .', 'type=file;size=1; ../../escape.txt', 'type=file;size=1; ok.txt', ''].join('\r\n');
    await using server = await startFakeServer({ files: { 'd/ok.txt': 'k', 'escape.txt': 'e' }, rawListing: { d: hostile } });
    const result = await fetchFiles([`ftp://127.0.0.1:${server.port}/d/*`], { outDir: join(dir, 'inner') });
    expect(result).toMatchObject({ done: 1, failed: [] });
    expect(await readdir(dir)).toEqual(['inner']);
    expect(await readdir(join(dir, 'inner'))).toEqual(['ok.txt']);
  });

  it('stops on abort: connections closed, the partial file kept for a resume', async () => {
    const data = content(5, 2_000_000);
    const controller = new AbortController();
    await using server = await startFakeServer({
      files: { 'slow.bin': data },
      // The transfer starts and then stalls; the run is aborted meanwhile.
      hook: (_s, verb) => (verb === 'RETR' ? '150 Here it comes (slowly).' : undefined),
    });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'slow.bin.part'), data.subarray(0, 1000));
    const run = fetchFiles([`ftp://127.0.0.1:${server.port}/slow.bin`], {
      outDir: dir,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'start') setTimeout(() => controller.abort(), 20);
      },
    });
    const result = await run;
    expect(result.failed.map((f) => f.message)).toEqual(['slow.bin: interrupted before it finished.']);
    expect((await stat(join(dir, 'slow.bin.part'))).size).toBe(1000);
    await expect(stat(join(dir, 'slow.bin'))).rejects.toThrow();
  });

  it('throws FetchUrlError for a bad URL before connecting anywhere', async () => {
    await expect(fetchFiles(['ftp://127.0.0.1/ok', 'gopher://x/y'], { outDir: dir })).rejects.toBeInstanceOf(FetchUrlError);
  });
});
