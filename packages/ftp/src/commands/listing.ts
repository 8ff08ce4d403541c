import { IterableProducer } from '@gorgon/core';
import { sendData } from '../data-transfer.js';
import { baseName, FsError, type FileStat } from '../fs.js';
import { joinBatches, joinLines, LsFormatter, MLST_FACTS, MlsxFormatter } from '../list-format.js';
import { toWire } from '../names.js';
import { escapeLineEnds } from '../path.js';
import { FtpReplyError, replies } from '../replies.js';
import type { FtpSession } from '../session.js';
import type { FtpCommand } from './table.js';
import { requireDataChannel } from './transfer.js';

/**
 * Drops `ls` flags that clients send (`LIST -a`, `NLST -1`, `LIST -la dir`). The path after
 * them keeps its trailing spaces (`LIST -la "dir "` lists `dir `); nothing but blanks is none.
 */
export function stripLsFlags(arg: string): string {
  let rest = arg;
  while (/^[ \t]*-[A-Za-z0-9]+([ \t]|$)/.test(rest)) rest = rest.replace(/^[ \t]*-[A-Za-z0-9]+[ \t]*/, '');
  return rest.trim() === '' ? '' : rest;
}

/**
 * The entries of a directory sorted by name, or the one entry of a file. The directory is
 * listed first and statted only when it is not one (`not-dir`, as every VirtualFs answers for
 * a file): a directory, the usual case, then costs no stat of its own.
 */
async function entries(s: FtpSession, path: string): Promise<{ dir: boolean; list: FileStat[] }> {
  const fs = s.me.fs;
  let list: FileStat[];
  try {
    list = await fs.list(path);
  } catch (err) {
    if (!(err instanceof FsError && err.code === 'not-dir')) throw err;
    const stat = await fs.stat(path);
    if (stat.kind === 'dir') throw err; // changed under us: report what list saw
    return { dir: false, list: [stat] };
  }
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { dir: true, list };
}

/** Sends a listing's text (CRLF-terminated pieces) over the data connection: 150, data, 226. */
function sendText(s: FtpSession, verb: string, path: string, pieces: Iterable<string> | AsyncIterable<string>): void {
  const producer = new IterableProducer(wirePieces(pieces));
  s.beginTransfer(
    verb,
    path,
    replies.openingData('Here comes the directory listing.'),
    async (stream, t) => {
      await sendData(stream, producer, {
        ascii: false, // lines are already CRLF-terminated
        signal: t.controller.signal,
        stalledMs: s.ctx.limits.stalledTransferMs,
        reset: () => s.data.reset(),
        onProgress: (n) => void (t.bytes += n),
      });
      return replies.transferComplete('Directory send OK.');
    },
    async () => void (await producer.close()),
  );
}

/** Listing text for the wire: a piece with a name that came as bytes (not UTF-8) goes as those bytes. */
async function* wirePieces(pieces: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string | Buffer> {
  for await (const piece of pieces) yield toWire(piece);
}

/**
 * The entries of a directory as sorted batches for LIST and MLSD: from `listBatches` when the
 * VirtualFs has it (the first lines go out while later entries are still being statted), else
 * from `entries` in one batch. Undefined for a file (the caller lists the one entry).
 */
async function directoryBatches(s: FtpSession, path: string): Promise<AsyncIterable<FileStat[]> | Iterable<FileStat[]> | undefined> {
  const fs = s.me.fs;
  if (!fs.listBatches) {
    const { dir, list } = await entries(s, path);
    return dir ? [list] : undefined;
  }
  try {
    return await fs.listBatches(path);
  } catch (err) {
    if (!(err instanceof FsError && err.code === 'not-dir')) throw err;
    return undefined;
  }
}

/** LIST, NLST, MLSD, MLST, STAT. @see RFC 959 §4.1.3, RFC 3659 §7 */
export const listingCommands: FtpCommand[] = [
  {
    verb: 'LIST',
    args: 'optional',
    login: true,
    permission: 'list',
    help: 'LIST [<sp> pathname]',
    async run(s, arg) {
      requireDataChannel(s);
      const path = s.resolve(stripLsFlags(arg) || '.');
      const ls = new LsFormatter();
      const batches = await directoryBatches(s, path);
      if (batches) sendText(s, 'LIST', path, joinBatches(batches, (st) => ls.line(st)));
      else sendText(s, 'LIST', path, joinLines([ls.line(await s.me.fs.stat(path))]));
    },
  },
  {
    verb: 'NLST',
    args: 'optional',
    login: true,
    permission: 'list',
    help: 'NLST [<sp> pathname]',
    async run(s, arg) {
      requireDataChannel(s);
      const given = stripLsFlags(arg);
      const path = s.resolve(given || '.');
      const { dir, list } = await entries(s, path);
      // One name per line: a CR in a name goes as CR NUL, an LF as "?" (RFC 2640 §3.1).
      const names = (dir ? list.map((st) => st.name) : [given]).map(escapeLineEnds);
      sendText(s, 'NLST', path, joinLines(names));
    },
  },
  {
    verb: 'MLSD',
    args: 'optional',
    login: true,
    permission: 'list',
    help: 'MLSD [<sp> pathname]',
    async run(s, arg) {
      requireDataChannel(s);
      const path = s.resolve(arg || '.');
      const batches = await directoryBatches(s, path);
      if (!batches) {
        await s.me.fs.stat(path); // a missing path is 550, a file 501
        throw new FtpReplyError(replies.syntax('Not a directory.'));
      }
      const mlsx = new MlsxFormatter(s.mlstFacts, s.me.perms);
      sendText(s, 'MLSD', path, joinBatches(batches, (st) => mlsx.line(st)));
    },
  },
  {
    verb: 'MLST',
    args: 'optional',
    login: true,
    permission: 'list',
    help: 'MLST [<sp> pathname]',
    capability: (s) => `MLST ${MLST_FACTS.map((f) => `${f}${s.mlstFacts.has(f) ? '*' : ''};`).join('')}`,
    async run(s, arg) {
      const path = s.resolve(arg || '.');
      const stat = await s.me.fs.stat(path);
      const type = path === s.cwd && stat.kind === 'dir' ? 'cdir' : undefined;
      s.reply(replies.mlst([`Listing ${path}`, ` ${new MlsxFormatter(s.mlstFacts, s.me.perms).line(stat, path, type)}`, 'End.']));
    },
  },
  {
    verb: 'STAT',
    args: 'optional',
    login: false,
    duringTransfer: true,
    help: 'STAT [<sp> pathname]',
    async run(s, arg) {
      const t = s.transfer;
      if (arg.trim() === '') arg = ''; // "STAT  " is the status, not a listing of "."
      if (t && arg === '') {
        s.reply(replies.fileStatus(`Status: ${t.verb} ${baseName(t.path)}, ${t.bytes} bytes transferred.`));
        return;
      }
      if (arg === '') {
        s.reply(replies.status(statusLines(s)));
        return;
      }
      if (s.state !== 'ready') throw new FtpReplyError(replies.notLoggedIn());
      if (!s.me.perms.has('list')) throw new FtpReplyError(replies.permissionDenied());
      const path = s.resolve(stripLsFlags(arg) || '.');
      const { list } = await entries(s, path);
      const ls = new LsFormatter();
      s.reply(replies.fileStatus(`Status of ${path}:`, ...list.map((st) => ls.line(st)), 'End of status.'));
    },
  },
];

function statusLines(s: FtpSession): string[] {
  const lines = ['Gorgon FTP server status:', `Connected to ${s.channel.remoteAddress}`];
  lines.push(s.user ? `Logged in as ${s.user.name}${s.user.anonymous ? ' (anonymous)' : ''}` : 'Not logged in');
  lines.push(`TYPE: ${s.type === 'A' ? 'ASCII' : 'BINARY'}, STRUcture: File, MODE: Stream`);
  lines.push(`Control connection: ${s.secure ? 'TLS' : 'plain'}; data protection: ${s.prot === 'P' ? 'Private' : 'Clear'}`);
  lines.push(`Data connection: ${s.data.state === 'none' ? 'none' : s.data.state}`);
  lines.push('End of status.');
  return lines;
}
