import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, rename } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Where pulled articles go. */
export type PullFormat = 'maildir' | 'mbox';

/** A sink for pulled articles: a Maildir (one file per article) or an mbox (one file). */
export interface ArticleSink {
  /** Stores one article (CRLF lines, as read from the wire). */
  write(article: Buffer): Promise<void>;
}

let serial = 0;

/**
 * A Maildir: each article is written to `tmp/`, fsynced, and renamed into `new/` under a
 * unique name, so a reader never sees a partial article and a crash leaves none.
 * Line ends become LF, as mail readers expect on disk.
 * @see https://cr.yp.to/proto/maildir.html
 */
export async function maildirSink(dir: string): Promise<ArticleSink> {
  await Promise.all(['tmp', 'new', 'cur'].map((d) => mkdir(join(dir, d), { recursive: true })));
  const host = hostname().replace(/[/:]/g, '_');
  return {
    async write(article) {
      const name = `${Date.now()}.P${process.pid}Q${++serial}R${randomBytes(4).toString('hex')}.${host}`;
      const tmp = join(dir, 'tmp', name);
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(toLf(article));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, join(dir, 'new', name));
    },
  };
}

/**
 * An mbox (mboxrd): each article is appended after a `From ` line; body lines that start
 * with `>*From ` get one more `>`, so they can never be read as a separator.
 * @see RFC 4155
 */
export async function mboxSink(file: string): Promise<ArticleSink> {
  return {
    async write(article) {
      const text = toLf(article).toString('latin1');
      const quoted = text.replace(/^(>*From )/gm, '>$1');
      const stamp = new Date().toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4');
      await appendFile(file, Buffer.from(`From gorgon-news ${stamp}\n${quoted}${quoted.endsWith('\n') ? '' : '\n'}\n`, 'latin1'));
    },
  };
}

/** The sink for `format` at `out` (a directory for Maildir, a file for mbox). */
export function openSink(format: PullFormat, out: string): Promise<ArticleSink> {
  return format === 'maildir' ? maildirSink(out) : mboxSink(out);
}

function toLf(article: Buffer): Buffer {
  return Buffer.from(article.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}
