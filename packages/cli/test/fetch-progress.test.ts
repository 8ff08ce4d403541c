import { PassThrough } from 'node:stream';
import type { FetchEvent, FetchFileInfo } from '@gorgon/ftp';
import { describe, expect, it } from 'vitest';
import { barView, humanBytes, lineView } from '../src/commands/fetch-progress.js';

const file = (id: number, name: string): FetchFileInfo => ({
  id,
  url: `ftp://h:21/pub/*`,
  server: 'h:21',
  remotePath: `pub/${name}`,
  localPath: `/out/${name}`,
});

/** A run: one listing, a resumed file, a retried file, a skipped one and a failure. */
const run: FetchEvent[] = [
  { type: 'listed', url: 'ftp://h:21/pub/*', files: 4 },
  { type: 'start', file: file(1, 'a.bin'), size: 2048, offset: 1024 },
  { type: 'progress', file: file(1, 'a.bin'), received: 1536, size: 2048 },
  { type: 'done', file: file(1, 'a.bin'), bytes: 1024, resumedFrom: 1024, size: 2048 },
  { type: 'start', file: file(2, 'b.bin'), size: 10, offset: 0 },
  { type: 'retry', url: 'ftp://h:21/pub/*', file: file(2, 'b.bin'), attempt: 1, message: 'pub/b.bin: the server refused RETR (426 cut).' },
  { type: 'start', file: file(2, 'b.bin'), size: 10, offset: 4 },
  { type: 'done', file: file(2, 'b.bin'), bytes: 6, resumedFrom: 4, size: 10 },
  { type: 'skipped', file: file(3, 'c.bin'), size: 5 },
  {
    type: 'failed',
    url: 'ftp://h:21/pub/*',
    file: file(4, 'd.bin'),
    message: 'pub/d.bin on h:21: no such file or no permission (550 No.).',
  },
];

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  return { out, text: () => Buffer.concat(parts).toString('utf8') };
}

describe('gorgon fetch progress views', () => {
  it('humanBytes', () => {
    expect([0, 1023, 1024, 1536, 5 * 1024 * 1024].map(humanBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 MiB']);
  });

  it('lines: one line per event, no per-chunk lines', () => {
    const { out, text } = capture();
    const view = lineView({ out, files: 0, base: '/out' });
    for (const e of run) view.event(e);
    view.stop();
    expect(text().split('\n')).toEqual([
      'listed ftp://h:21/pub/*: 4 files',
      'get    h:21 pub/a.bin -> a.bin (resuming at 1.0 KiB)',
      'done   a.bin (1.0 KiB, resumed at 1.0 KiB)',
      'get    h:21 pub/b.bin -> b.bin',
      'retry  1: pub/b.bin: the server refused RETR (426 cut).',
      'get    h:21 pub/b.bin -> b.bin (resuming at 4 B)',
      'done   b.bin (6 B, resumed at 4 B)',
      'skip   c.bin (already complete)',
      'failed d.bin: pub/d.bin on h:21: no such file or no permission (550 No.).',
      '',
    ]);
  });

  it('bars: a total bar counting files and bytes, finished files logged', async () => {
    const { out, text } = capture();
    const view = barView({ out, files: 0, base: '/out', forced: true });
    for (const e of run) view.event(e);
    view.stop();
    await new Promise((r) => setImmediate(r));
    const shown = text();
    expect(shown).toMatch(/total .* 100% 4\/4 files, 1\.0 KiB/);
    for (const line of [
      'done   a.bin (1.0 KiB)',
      'retry  1: pub/b.bin',
      'done   b.bin (6 B)',
      'skip   c.bin (already complete)',
      'failed d.bin: pub/d.bin on h:21',
    ]) {
      expect(shown).toContain(line);
    }
  });
});
