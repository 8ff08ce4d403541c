import { describe, expect, it } from 'vitest';
import { BufferRecycler, escapeLinesJs, escapeLinesWasm, LentBuffers, LINE_START } from '@gorgon/core';

describe('BufferRecycler', () => {
  it('hands out buffers of the size asked, from size classes at most half as large again', () => {
    const pool = new BufferRecycler();
    for (const size of [16 * 1024, 20_000, 24 * 1024, 24 * 1024 + 1, 100_000, 1024 * 1024, 1024 * 1024 + 5, 3 * 1024 * 1024]) {
      const b = pool.take(size);
      expect(b.length).toBe(size);
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBeGreaterThanOrEqual(size);
      expect(b.buffer.byteLength).toBeLessThanOrEqual(size * 1.5);
    }
  });

  it('gives a buffer given back to the next taker of its size class, once', () => {
    const pool = new BufferRecycler();
    const a = pool.take(40_000);
    pool.give(a.subarray(5, 10)); // any view of it gives it back
    expect(pool.keptBytes).toBe(a.buffer.byteLength);
    pool.give(a); // twice: still kept once
    expect(pool.keptBytes).toBe(a.buffer.byteLength);
    const b = pool.take(36_000); // the same class (48 KiB)
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(36_000);
    expect(pool.keptBytes).toBe(0);
    const c = pool.take(36_000); // none left: a new one
    expect(c.buffer).not.toBe(a.buffer);
    expect(pool.take(100_000).buffer).not.toBe(a.buffer); // another class never gets it
  });

  it('leaves to the collector what it did not make and what is over its bound', () => {
    const pool = new BufferRecycler(64 * 1024);
    pool.give(Buffer.alloc(10)); // Node's shared 8 KiB pool
    pool.give(Buffer.alloc(40_000)); // not a size it makes
    pool.give(Buffer.alloc(8 * 1024 * 1024)); // too large to keep
    expect(pool.keptBytes).toBe(0);
    const small = pool.take(100); // outside the classes: a plain buffer, never kept
    pool.give(small);
    expect(pool.keptBytes).toBe(0);
    const [x, y] = [pool.take(48 * 1024), pool.take(48 * 1024)];
    pool.give(x);
    pool.give(y); // 96 KiB would pass the 64 KiB bound
    expect(pool.keptBytes).toBe(48 * 1024);
  });
});

describe('LentBuffers', () => {
  it('gives back to its recycler only the chunks it lent, each once', () => {
    const pool = new BufferRecycler();
    const lent = new LentBuffers(pool);
    const a = lent.lend(pool.take(20_000));
    const other = pool.take(20_000); // taken, not lent here
    lent.release('a string chunk');
    lent.release(other);
    expect(pool.keptBytes).toBe(0);
    lent.release(a.subarray(0, 100)); // a view of what went out (a short read)
    expect(pool.keptBytes).toBe(24 * 1024);
    expect(pool.take(20_000).buffer).toBe(a.buffer);
    lent.release(a); // already back: not given a second time
    expect(pool.keptBytes).toBe(0);
  });
});

describe('escapeLines into a buffer of the caller', () => {
  it('both escapers write their output into what `allocate` gives, at its size', () => {
    const raw = Buffer.from('one\n.two\nthree');
    for (const escapeWith of [escapeLinesJs, (...args: Parameters<typeof escapeLinesJs>) => escapeLinesWasm(...args)!]) {
      const sizes: number[] = [];
      const made: Buffer[] = [];
      const out = escapeWith(raw, LINE_START, 2, 3, (size) => {
        sizes.push(size);
        const b = Buffer.alloc(size + 10).subarray(0, size);
        made.push(b);
        return b;
      });
      expect(sizes).toEqual([2 + 'one\r\n..two\r\nthree'.length + 3]);
      expect(out).toBe(made[0]);
      expect(out.subarray(2, out.length - 3).toString()).toBe('one\r\n..two\r\nthree');
    }
  });
});
