import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MaildropError } from './maildrop.js';
import { ensureMaildir, fsyncDirectory, userMaildir } from './maildir-fs.js';
import { parseMaildirName, uniqueMaildirName } from './maildir-names.js';
import { WireSizeCounter } from './wire-size.js';

/** What {@link deliver} stored. */
export interface Delivery {
  /** The file in new/. */
  path: string;
  /** The uid UIDL will show for it. @see RFC 1939 §7 */
  uid: string;
  /** Octets on disk. */
  rawSize: number;
  /** Octets LIST will report. */
  wireSize: number;
}

/**
 * Delivers one message into `maildirRoot/user` the Maildir way: written to tmp/ (streamed, any
 * size), fsynced, renamed into new/ with `,S=` and `,W=` sizes in its name, and new/ fsynced.
 * When it resolves the message is on disk; when it fails nothing appears in new/.
 * @see https://cr.yp.to/proto/maildir.html
 */
export async function deliver(
  maildirRoot: string,
  user: string,
  message: Buffer | string | AsyncIterable<Buffer | string>,
): Promise<Delivery> {
  const dir = userMaildir(maildirRoot, user);
  if (!dir) throw new MaildropError('invalid-user', `"${user}" is not a usable mailbox name`);
  await ensureMaildir(dir);
  const unique = uniqueMaildirName();
  const tmp = join(dir, 'tmp', unique);
  const counter = new WireSizeCounter();
  let rawSize = 0;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    const chunks = typeof message === 'string' || Buffer.isBuffer(message) ? [message] : message;
    for await (const chunk of chunks) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      counter.update(buf);
      rawSize += buf.length;
      await handle.write(buf);
    }
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  const name = `${unique},S=${rawSize},W=${counter.size}`;
  const path = join(dir, 'new', name);
  await rename(tmp, path);
  await fsyncDirectory(join(dir, 'new'));
  return { path, uid: parseMaildirName(name).uid, rawSize, wireSize: counter.size };
}
