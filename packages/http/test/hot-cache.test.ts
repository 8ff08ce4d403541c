import { describe, expect, it } from 'vitest';
import { CachedFile, fileMeta, HotFileCache } from '../src/hot-cache.js';
import type { StoreFile } from '../src/store.js';

const file = (etag: string, size: number): StoreFile => ({
  kind: 'file',
  size,
  mtimeMs: Date.UTC(2024, 0, 1),
  etag,
  read: async () => 0,
  close: async () => undefined,
});
const entry = (etag: string, size: number, now = 1000) =>
  new CachedFile(fileMeta(file(etag, size), 'application/octet-stream'), Buffer.alloc(size, 1), now);

describe('the open-file cache (hot-cache.ts)', () => {
  it('fresh within validMs only; confirm by ETag renews, a different ETag drops the entry', () => {
    const cache = new HotFileCache(10_000, 1000, 50);
    cache.set('/a', entry('"a1"', 10, 1000));
    expect(cache.fresh('/a', 1049)).toBeDefined();
    expect(cache.fresh('/a', 1050)).toBeUndefined();
    expect(cache.confirm('/a', '"a1"', 1050)?.checkedAt).toBe(1050);
    expect(cache.fresh('/a', 1099)).toBeDefined();
    expect(cache.confirm('/a', '"a2"', 1100)).toBeUndefined();
    expect(cache.fresh('/a', 1100)).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });

  it('counts prepared responses; evicts the least recently confirmed, never the entry in use', () => {
    const cache = new HotFileCache(2500, 1000, 1000);
    const a = entry('"a"', 1000);
    cache.set('/a', a);
    expect(cache.bytes).toBe(1000);
    const ka = a.response('Mon, 01 Jan 2024 00:00:00 GMT', true, 1);
    expect(ka.bytes.subarray(ka.headLength).equals(a.data)).toBe(true);
    expect(cache.bytes).toBe(2000 + ka.headLength);
    // The same date and kind: the prepared buffer is reused, nothing counted twice.
    expect(a.response('Mon, 01 Jan 2024 00:00:00 GMT', true, 1)).toBe(ka);
    expect(cache.bytes).toBe(2000 + ka.headLength);
    const b = entry('"b"', 400);
    cache.set('/b', b); // 2400 + head > 2500: /a (oldest) goes
    expect(cache.fresh('/a', 1000)).toBeUndefined();
    expect(cache.bytes).toBe(400);
    // A response for a new second replaces the old one (its bytes replaced, not added).
    const close1 = b.response('Mon, 01 Jan 2024 00:00:00 GMT', false, 1);
    const close2 = b.response('Mon, 01 Jan 2024 00:00:01 GMT', false, 1);
    expect(close2).not.toBe(close1);
    expect(cache.bytes).toBe(800 + close2.headLength);
    // One entry alone over maxBytes with its responses is kept while in use.
    const big = new HotFileCache(1000, 1000, 1000);
    const c = entry('"c"', 1000);
    big.set('/c', c);
    c.response('Mon, 01 Jan 2024 00:00:00 GMT', true, 0);
    expect(big.fresh('/c', 1000)).toBe(c);
  });

  it('asFile reads the cached bytes at any position', async () => {
    const e = new CachedFile(fileMeta(file('"x"', 5), 'text/plain'), Buffer.from('hello'), 0);
    const f = e.asFile();
    const buf = Buffer.alloc(3);
    expect(await f.read(buf, 0, 3, 2)).toBe(3);
    expect(buf.toString()).toBe('llo');
    expect(f.readNow!(buf, 0, 3, 4)).toBe(1);
  });
});
