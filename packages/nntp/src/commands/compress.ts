import { replies } from '../replies.js';
import type { NntpSession } from '../session.js';
import { fail, words, type NntpCommand } from './command.js';

/** Sessions whose connection already carries the compression layer. */
const compressed = new WeakSet<NntpSession>();

/** True once COMPRESS DEFLATE succeeded on this session. */
export function isCompressed(session: NntpSession): boolean {
  return compressed.has(session);
}

/**
 * COMPRESS DEFLATE: 206, then raw DEFLATE both ways (the core's `DeflateStream` under the
 * channel, Z_SYNC_FLUSH after each batch of replies). Input pipelined after the command is
 * discarded unread (RFC 8054 §2.2.2: the command MUST NOT be pipelined). A second COMPRESS is
 * 502; an algorithm other than DEFLATE 503; no argument or several 501. Allowed before and
 * after STARTTLS and AUTHINFO; a later STARTTLS is refused by the session (502), since TLS
 * would then run inside the compressed stream.
 * @see RFC 8054 §2.2
 */
export const compressCommands: NntpCommand[] = [
  {
    verb: 'COMPRESS',
    args: 'required',
    capability: (session: NntpSession) => (compressed.has(session) ? undefined : 'COMPRESS DEFLATE'),
    help: 'COMPRESS DEFLATE: compress the rest of the connection (RFC 8054)',
    async run(session, arg) {
      const w = words(arg);
      if (w.length !== 1) fail(replies.syntaxError);
      if (compressed.has(session)) fail(replies.notPermitted);
      if (w[0]!.toUpperCase() !== 'DEFLATE') fail(replies.notSupported);
      if (session.closing) fail(replies.compressionFailed);
      compressed.add(session);
      session.reply(replies.compressionActive);
      await session.startCompress();
    },
  },
];
