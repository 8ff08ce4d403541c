import { randomBytes } from 'node:crypto';
import { ArticleError, checkArticle, finishArticle, parseArticle } from './article.js';
import type { AddResult, NewsStore } from './store.js';

/**
 * Files an article straight into a store, as a local POST would be (Message-ID and Date added
 * when missing, Path and Xref written): for demo data, imports and tools, not the wire.
 * Throws {@link ArticleError} for an article POST would refuse.
 */
export async function injectArticle(store: NewsStore, text: string, options: { pathHost: string; arrived?: number }): Promise<AddResult> {
  const now = Date.now();
  const parsed = parseArticle(text.replace(/\r?\n/g, '\r\n'));
  const groups = checkArticle(parsed, { transit: false, now, maxFutureSkewMs: 86_400_000, maxArticleAgeMs: Infinity });
  const f = finishArticle(parsed, {
    pathHost: options.pathHost,
    transit: false,
    now,
    newId: () => `<${now.toString(36)}.${randomBytes(6).toString('hex')}@${options.pathHost}>`,
  });
  const result = await store.add({
    messageId: f.messageId,
    groups,
    render: f.render,
    ...(options.arrived !== undefined ? { arrived: options.arrived } : {}),
  });
  if (!result.ok && result.reason === 'no-group') throw new ArticleError('no such newsgroup');
  return result;
}
