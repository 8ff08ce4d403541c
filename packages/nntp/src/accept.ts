import { randomBytes } from 'node:crypto';
import { ArticleError, checkArticle, finishArticle, parseArticle } from './article.js';
import { errorText } from '@gorgon/core';
import type { NntpSession } from './session.js';

/** How an arriving article is judged. */
export type Acceptance = { ok: true; messageId: string } | { ok: false; kind: RefusalKind; reason: string };

/**
 * Why an article was not taken: refused for good, already had, being received elsewhere now, or
 * the store could not write it (a full disk, an I/O error: offer it again later).
 */
export type RefusalKind = 'reject' | 'duplicate' | 'later' | 'unavailable';

/** A store failure's reason for the reply and the log: its errno code when there is one. */
function storeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'no space left on the spool';
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `spool write failed: ${code}`;
  return 'spool write failed';
}

/**
 * Validates and stores one article: POST (`transit` false) or IHAVE/TAKETHIS (`transit` true,
 * `expectedId` the id the command named: the article's Message-ID must match it).
 * Duplicates are found in the history and in the articles being accepted right now.
 * @see RFC 3977 §6.3.1, §6.3.2; RFC 4644 §2.5; RFC 5537 §3.5, §3.6
 */
export async function acceptArticle(session: NntpSession, text: string, transit: boolean, expectedId?: string): Promise<Acceptance> {
  const ctx = session.ctx;
  const now = Date.now();
  let messageId: string | undefined;
  try {
    const parsed = parseArticle(text);
    const groups = checkArticle(parsed, {
      transit,
      now,
      maxFutureSkewMs: ctx.limits.maxFutureSkewMs,
      maxArticleAgeMs: ctx.limits.maxArticleAgeMs,
    });
    const finished = finishArticle(parsed, {
      pathHost: ctx.pathHost,
      transit,
      now,
      newId: () => `<${now.toString(36)}.${randomBytes(6).toString('hex')}@${ctx.pathHost}>`,
    });
    messageId = finished.messageId;
    if (expectedId !== undefined && expectedId !== messageId) throw new ArticleError('Message-ID does not match the command');
    if (transit) {
      // Path loop: our own name already in the path we were given (RFC 5537 §3.2).
      const path = parsed.fields.find((f) => f.name.toLowerCase() === 'path')?.value ?? '';
      if (path.split('!').includes(ctx.pathHost)) throw new ArticleError('already seen (Path)', 'duplicate');
    }
    const existing = [];
    for (const g of groups) {
      const info = await ctx.store.group(g);
      if (info) existing.push(info);
    }
    if (existing.length === 0) throw new ArticleError('no such newsgroup');
    if (!transit) {
      for (const g of existing) {
        if (!session.access.post(g.name)) throw new ArticleError(`posting to ${g.name} not allowed`);
        if (g.status === 'n') throw new ArticleError(`${g.name} does not allow posting`);
        // No moderator mail: a post to a moderated group needs Approved (RFC 5537 §3.5.1), else it is refused.
        if (g.status === 'm' && parsed.fields.every((f) => f.name.toLowerCase() !== 'approved'))
          throw new ArticleError(`${g.name} is moderated`);
      }
    }
    if (ctx.inFlight.has(messageId)) throw new ArticleError('being received', transit ? 'later' : 'duplicate');
    ctx.inFlight.add(messageId);
    try {
      let result: Awaited<ReturnType<typeof ctx.store.add>>;
      try {
        result = await ctx.store.add({ messageId, groups: existing.map((g) => g.name), render: finished.render });
      } catch (err) {
        // Nothing was acknowledged: the poster or the feeder may offer it again once the spool can take it.
        session.channel.counters.errors++;
        session.channel.log.error({ event: 'store-error', messageId }, `cannot store ${messageId}: ${errorText(err)}`);
        throw new ArticleError(storeFailure(err), 'unavailable');
      }
      if (!result.ok)
        throw new ArticleError(
          result.reason === 'duplicate' ? 'duplicate Message-ID' : 'no such newsgroup',
          result.reason === 'duplicate' ? 'duplicate' : 'reject',
        );
    } finally {
      ctx.inFlight.delete(messageId);
    }
    ctx.stats.articlesAccepted++;
    if (ctx.onAccepted) {
      const given = parsed.fields.find((f) => f.name.toLowerCase() === 'path')?.value.trim() ?? '';
      const path = transit && given !== '' ? `${ctx.pathHost}!${given}` : ctx.pathHost;
      try {
        await ctx.onAccepted({ messageId, groups: existing.map((g) => g.name), path });
      } catch (err) {
        session.channel.log.error({ event: 'feed-queue-failed', messageId }, err instanceof Error ? err.message : String(err));
      }
    }
    session.channel.log.info({ event: 'article-accepted', messageId, transit }, 'article accepted');
    return { ok: true, messageId };
  } catch (err) {
    if (!(err instanceof ArticleError)) throw err;
    if (err.kind === 'duplicate') ctx.stats.duplicates++;
    else if (err.kind !== 'unavailable') ctx.stats.articlesRejected++;
    logRefused(session, err.reason, { messageId, transit, kind: err.kind });
    return { ok: false, kind: err.kind, reason: err.reason };
  }
}

/**
 * The one log line of an article refused (POST 441, IHAVE 435/436/437, TAKETHIS 439): which,
 * and why, so an operator can tell a feed's duplicates from articles turned away as malformed.
 * `kind` is `reject`, `duplicate` or `later`; `messageId` is absent when the article was refused
 * before its id was known (too large, a bad header).
 */
export function logRefused(
  session: NntpSession,
  reason: string,
  fields: { messageId?: string | undefined; transit: boolean; kind: RefusalKind },
): void {
  session.channel.log.info({ event: 'article-refused', ...fields, reason }, `article refused: ${reason}`);
}
