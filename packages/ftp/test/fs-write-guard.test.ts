import { describe, expect, it } from 'vitest';
import { FsError, MemoryFs } from '../src/internal.js';
import { writableOnlyUnder } from '../src/fs-write-guard.js';

const denied = { code: 'denied' } satisfies Partial<FsError>;

describe('writableOnlyUnder: changes only inside the upload area', () => {
  const make = () => writableOnlyUnder(new MemoryFs({ 'README.txt': 'hi', 'pub/a.txt': 'a', 'incoming/.keep': '' }), ['incoming']);

  it('allows uploads, MKD, renames and deletes inside incoming/', async () => {
    const fs = make();
    const file = await fs.openWrite('/incoming/up.txt', { mode: 'replace' });
    await file.write(Buffer.from('x'));
    await file.commit();
    await fs.mkdir('/incoming/sub');
    await fs.rename('/incoming/up.txt', '/incoming/sub/up.txt');
    await fs.unlink('/incoming/sub/up.txt');
    await fs.rmdir('/incoming/sub');
    expect((await fs.list('/incoming')).map((e) => e.name)).toEqual(['.keep']);
  });

  it('refuses every change elsewhere, and to incoming itself, as denied (550)', async () => {
    const fs = make();
    await expect(fs.openWrite('/pub/b.txt', { mode: 'replace' })).rejects.toMatchObject(denied);
    await expect(fs.openWrite('/x.txt', { mode: 'replace' })).rejects.toMatchObject(denied);
    await expect(fs.unlink('/pub/a.txt')).rejects.toMatchObject(denied);
    await expect(fs.mkdir('/new')).rejects.toMatchObject(denied);
    await expect(fs.rmdir('/incoming')).rejects.toMatchObject(denied);
    await expect(fs.rename('/README.txt', '/incoming/README.txt')).rejects.toMatchObject(denied);
    await expect(fs.rename('/incoming/.keep', '/pub/.keep')).rejects.toMatchObject(denied);
    await expect(fs.setMtime('/pub/a.txt', new Date(0))).rejects.toMatchObject(denied);
    // A name that only starts like the area is not in it.
    await expect(fs.mkdir('/incoming-not')).rejects.toMatchObject(denied);
    expect((await fs.stat('/pub/a.txt')).size).toBe(1);
  });
});
