import { isMessageId } from '../article.js';
import { acceptArticle, logRefused } from '../accept.js';
import { replies } from '../replies.js';
import type { NntpSession } from '../session.js';
import { fail, words, type NntpCommand } from './command.js';

/** Refuses a feed command to a client not configured as a feeder (502). */
function requireFeeder(session: NntpSession): void {
  if (!session.mayFeed) fail(session.user === undefined ? replies.authRequired : replies.notPermitted);
}

/** A single message-id argument (501 otherwise). */
function oneId(arg: string): string {
  const w = words(arg);
  if (w.length !== 1) fail(replies.syntaxError);
  return w[0]!;
}

/** Article posting and transfer. @see RFC 3977 §6.3; RFC 4644 §2 */
export const postingCommands: NntpCommand[] = [
  {
    verb: 'POST',
    args: 'none',
    capability: 'POST',
    help: 'POST: send an article, end with a line of "." (RFC 3977 §6.3.1)',
    run(session) {
      // RFC 4643 §2.2: 480 when logging in could allow it (rpost and INN clients then send AUTHINFO), else 440.
      if (!session.mayPostAnywhere)
        fail(session.user === undefined && session.ctx.auth ? replies.authRequired : replies.postingNotPermitted);
      session.reply(replies.sendArticlePost);
      session.receiveArticle(async (text, refused) => {
        if (text === undefined) {
          logRefused(session, refused ?? 'rejected', { transit: false, kind: 'reject' });
          return session.reply(replies.postingFailed(refused ?? 'rejected'));
        }
        const r = await acceptArticle(session, text, false);
        session.reply(r.ok ? replies.posted : replies.postingFailed(r.reason));
      });
    },
  },
  {
    verb: 'IHAVE',
    args: 'required',
    capability: 'IHAVE',
    help: 'IHAVE message-id: offer an article (RFC 3977 §6.3.2)',
    async run(session, arg) {
      requireFeeder(session);
      const id = oneId(arg);
      if (!isMessageId(id)) fail(replies.syntaxError);
      if ((await session.ctx.store.history(id)) !== 'absent') fail(replies.notWanted);
      if (session.ctx.inFlight.has(id)) fail(replies.transferLater);
      session.reply(replies.sendArticleTransfer);
      session.receiveArticle(async (text, refused) => {
        if (text === undefined) {
          logRefused(session, refused ?? 'rejected', { messageId: id, transit: true, kind: 'reject' });
          return session.reply(replies.transferRejected(refused ?? 'rejected'));
        }
        const r = await acceptArticle(session, text, true, id);
        if (r.ok) return session.reply(replies.transferred);
        session.reply(
          r.kind === 'duplicate'
            ? replies.notWanted
            : r.kind === 'later' || r.kind === 'unavailable'
              ? replies.transferLater
              : replies.transferRejected(r.reason),
        );
      });
    },
  },
  {
    verb: 'CHECK',
    args: 'required',
    help: 'CHECK message-id: would you take it? (RFC 4644 §2.4)',
    async run(session, arg) {
      requireFeeder(session);
      const id = oneId(arg);
      if (!isMessageId(id)) return session.reply(replies.checkNotWanted(id.slice(0, 250).replace(/[^\x21-\x7e]/g, '?')));
      if (session.ctx.inFlight.has(id)) return session.reply(replies.checkLater(id));
      const seen = await session.ctx.store.history(id);
      session.reply(seen === 'absent' ? replies.checkSend(id) : replies.checkNotWanted(id));
    },
  },
  {
    verb: 'TAKETHIS',
    args: 'required',
    help: 'TAKETHIS message-id, then the article at once (RFC 4644 §2.5)',
    run(session, arg) {
      // The article follows whatever happens: read it to its end before answering.
      const w = words(arg);
      const id = w[0] ?? '';
      const feeder = session.mayFeed;
      session.receiveArticle(async (text, refused) => {
        const safe = id.slice(0, 250).replace(/[^\x21-\x7e]/g, '?');
        if (!feeder) return session.reply(replies.authRequired);
        if (w.length !== 1 || !isMessageId(id) || text === undefined) {
          session.ctx.stats.articlesRejected++;
          logRefused(session, refused ?? 'bad message-id', { messageId: safe, transit: true, kind: 'reject' });
          return session.reply(replies.takeRejected(safe));
        }
        // Answered in its place once committed; the next article is read meanwhile, so a
        // stream's articles share one group commit of the store.
        // RFC 4644 §2.5: 439 also for a duplicate; a 'later' (another feed is sending it) is 431-like but TAKETHIS has only 239/439.
        return session.replyLater(
          acceptArticle(session, text, true, id).then((r) => {
            if (r.ok) return replies.takeAccepted(id);
            if (r.kind !== 'unavailable') return replies.takeRejected(id);
            // 439 would make the feeder drop it for good: say 400 and close (after the replies
            // already due), and the feeder offers it again on its next connection.
            session.closeWhenDone();
            return replies.storageUnavailable(r.reason);
          }),
        );
      });
    },
  },
];
