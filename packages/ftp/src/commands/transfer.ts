import { receiveData, sendData, TransferError } from '../data-transfer.js';
import { baseName, FsError, parentPath, type WriteOptions } from '../fs.js';
import { FtpReplyError, replies } from '../replies.js';
import type { ActiveTransfer, FtpSession } from '../session.js';
import type { FtpCommand } from './table.js';

/** Checks that a data connection was set up and may carry this transfer. */
export function requireDataChannel(s: FtpSession): void {
  if (s.data.state === 'none') throw new FtpReplyError(replies.cannotOpenData('Use PORT, PASV, EPRT or EPSV first.'));
  if (s.ctx.requireTlsForData && s.prot !== 'P') throw new FtpReplyError(replies.tlsRequiredOnData());
}

function takeRest(s: FtpSession): number {
  const offset = s.restOffset;
  s.restOffset = 0;
  return offset;
}

function options(s: FtpSession, t: ActiveTransfer, ascii: boolean) {
  return {
    ascii,
    signal: t.controller.signal,
    stalledMs: s.ctx.limits.stalledTransferMs,
    reset: () => s.data.reset(),
    onProgress: (n: number) => {
      t.bytes += n;
      s.channel.touch(); // bytes moving on the data connection are activity on the session
    },
  };
}

function modeName(s: FtpSession): string {
  return s.type === 'A' ? 'ASCII' : 'BINARY';
}

async function retrieve(s: FtpSession, arg: string): Promise<void> {
  requireDataChannel(s);
  const offset = takeRest(s);
  const path = s.resolve(arg);
  // One open gives the size too: a stat first would cost two more thread-pool round trips.
  const producer = await s.me.fs.openRead(path, offset);
  if (offset > producer.size) {
    await producer.close?.();
    throw new FtpReplyError(replies.restInvalid('REST offset is past the end of the file.'));
  }
  s.beginTransfer(
    'RETR',
    path,
    replies.openingData(`Opening ${modeName(s)} mode data connection for ${baseName(path)} (${producer.size - offset} bytes).`),
    async (stream, t) => {
      await sendData(stream, producer, options(s, t, s.type === 'A'));
      return replies.transferComplete();
    },
    async () => void (await producer.close?.()),
  );
}

/**
 * Nothing is committed when the client vanished: a client killed mid-upload sends a FIN on both
 * connections, and in stream mode its FIN on the data connection looks like the end of the file
 * (RFC 959 §3.4.1). No timer decides it: the events the loop already has in hand (both FINs
 * usually come in one poll) are handled first, then the control connection's state decides.
 * Two check phases, so one more poll (with a zero timeout) runs in between: a killed client's
 * two FINs leave its kernel microseconds apart and can straddle one poll on a loaded machine.
 * A client killed at the very moment its data ended remains indistinguishable from a finished
 * one in stream mode; docs/ftp.md says so.
 */
async function commitUnlessLost(s: FtpSession, commit: () => Promise<void>): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (!s.controlLost) await new Promise((resolve) => setImmediate(resolve));
  if (s.controlLost) throw new TransferError('connection-lost', 'control connection lost before the upload was acknowledged');
  await commit();
}

async function store(s: FtpSession, path: string, write: WriteOptions, verb: string, opening: string, done: string): Promise<void> {
  const file = await s.me.fs.openWrite(path, write);
  const startAt = write.mode === 'resume' ? (write.offset ?? 0) : 0;
  s.beginTransfer(
    verb,
    path,
    replies.openingData(opening),
    async (stream, t) => {
      await receiveData(stream, file, {
        ...options(s, t, s.type === 'A'),
        maxBytes: s.ctx.limits.maxUploadBytes,
        chunkBytes: s.ctx.limits.writeChunkBytes,
        startAt,
      });
      await commitUnlessLost(s, () => file.commit());
      return replies.transferComplete(done);
    },
    () => file.abort(),
    { upload: true },
  );
}

async function notFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof FsError && err.code === 'not-found') return undefined;
    throw err;
  }
}

/** RETR, STOR, STOU, APPE, ABOR. @see RFC 959 §4.1.3, RFC 3659 §5 (REST STREAM), RFC 1123 §4.1.2.9 */
export const transferCommands: FtpCommand[] = [
  { verb: 'RETR', args: 'required', login: true, permission: 'retrieve', help: 'RETR <sp> pathname', run: retrieve },
  {
    verb: 'STOR',
    args: 'required',
    login: true,
    permission: 'store',
    help: 'STOR <sp> pathname',
    async run(s, arg) {
      requireDataChannel(s);
      const offset = takeRest(s);
      const path = s.resolve(arg);
      if (offset > 0) {
        const st = await notFound(s.me.fs.stat(path));
        if (!st || offset > st.size) throw new FtpReplyError(replies.restInvalid('REST offset is past the end of the file.'));
      }
      const write: WriteOptions = offset > 0 ? { mode: 'resume', offset } : { mode: 'replace' };
      await store(s, path, write, 'STOR', 'Ok to send data.', 'Transfer complete.');
    },
  },
  {
    verb: 'APPE',
    args: 'required',
    login: true,
    permission: 'append',
    help: 'APPE <sp> pathname',
    async run(s, arg) {
      requireDataChannel(s);
      takeRest(s);
      await store(s, s.resolve(arg), { mode: 'append' }, 'APPE', 'Ok to send data.', 'Transfer complete.');
    },
  },
  {
    verb: 'STOU',
    args: 'optional',
    login: true,
    permission: 'store',
    help: 'STOU [<sp> name-prefix]',
    async run(s, arg) {
      requireDataChannel(s);
      takeRest(s);
      const wanted = s.resolve(arg === '' ? 'file' : arg);
      const dir = parentPath(wanted);
      const base = baseName(wanted) || 'file';
      let path: string | undefined;
      for (let i = 0; i < 100 && !path; i++) {
        const candidate = `${dir === '/' ? '' : dir}/${i === 0 ? base : `${base}.${i}`}`;
        if (!(await notFound(s.me.fs.stat(candidate)))) path = candidate;
      }
      if (!path) throw new FtpReplyError(replies.nameNotAllowed('No unique file name available.'));
      const name = baseName(path);
      await store(s, path, { mode: 'replace', exclusive: true }, 'STOU', `FILE: ${name}`, `Transfer complete (unique file name: ${name}).`);
    },
  },
  {
    verb: 'ABOR',
    args: 'none',
    login: true,
    duringTransfer: true,
    help: 'ABOR (abort the running transfer)',
    run: (s) => s.abort(),
  },
];
