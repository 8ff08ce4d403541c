import { replies } from '../replies.js';
import { NntpSession } from '../session.js';
import type { StoredArticle } from '../store.js';
import { isMessageId } from '../article.js';
import { articleNumber, fail, parseRange, selectedGroup, type NntpCommand } from './command.js';

/** GROUP and LISTGROUP select a group the client may read, or 411. */
async function selectGroup(session: NntpSession, name: string) {
  const info = await session.ctx.store.group(name);
  if (!info || !session.access.read(name)) fail(replies.noSuchGroup);
  session.group = name;
  session.article = info.count > 0 ? info.low : undefined;
  return info;
}

type Part = 'article' | 'head' | 'body' | 'stat';

/**
 * ARTICLE/HEAD/BODY/STAT by message-id, by number, or the current article.
 * By message-id the current article is not changed and the number is 0. @see RFC 3977 §6.2
 */
async function retrieve(session: NntpSession, arg: string, part: Part): Promise<void> {
  const store = session.ctx.store;
  let article: StoredArticle | undefined;
  let number = 0;
  if (arg.startsWith('<')) {
    if (!isMessageId(arg)) fail(replies.noSuchId);
    article = await store.articleById(arg);
    if (!article?.locations.some((l) => session.access.read(l.group))) fail(replies.noSuchId);
  } else {
    const group = selectedGroup(session);
    if (arg === '') {
      if (session.article === undefined) fail(replies.noCurrentArticle);
      number = session.article;
    } else number = articleNumber(arg);
    const missing = arg === '' ? replies.noCurrentArticle : replies.noSuchNumber;
    // Whether it exists comes from the overview (in memory); the article itself is read while
    // the next pipelined commands are dispatched, and its reply goes out in its place.
    const [entry] = await store.overview(group, number, number);
    if (!entry) fail(missing);
    session.article = number;
    const id = entry.messageId;
    if (part === 'stat') return session.reply(replies.stat(number, id));
    session.ctx.stats.articlesSent++;
    return session.replyLater(
      store.articleByNumber(group, number).then((a) => {
        if (!a) fail(missing);
        return NntpSession.dataReply(partReply(part, number, a.messageId), partData(part, a));
      }),
    );
  }
  const id = article.messageId;
  if (part === 'stat') return session.reply(replies.stat(number, id));
  session.ctx.stats.articlesSent++;
  session.replyData(partReply(part, number, id), partData(part, article));
}

const partReply = (part: Exclude<Part, 'stat'>, number: number, id: string) =>
  part === 'article' ? replies.article(number, id) : part === 'head' ? replies.head(number, id) : replies.body(number, id);

/** The bytes ARTICLE, HEAD or BODY sends: all, the headers without the blank line, or the body. */
function partData(part: Exclude<Part, 'stat'>, a: StoredArticle): Buffer {
  if (part === 'article') return a.data;
  if (part === 'head') return a.data.subarray(0, Math.max(0, a.bodyOffset - 2));
  return a.data.subarray(a.bodyOffset);
}

const fetchCommand = (verb: string, part: Part, rfc: string): NntpCommand => ({
  verb,
  args: 'optional',
  help: `${verb} [message-id|number] (RFC 3977 ${rfc})`,
  run: (s, arg) => retrieve(s, arg.trim(), part),
});

/** Moves the current article back or on. @see RFC 3977 §6.1.3, §6.1.4 */
async function step(session: NntpSession, forward: boolean): Promise<void> {
  const group = selectedGroup(session);
  const current = session.article;
  if (current === undefined) fail(replies.noCurrentArticle);
  const nums = forward
    ? await session.ctx.store.numbers(group, current + 1, Number.MAX_SAFE_INTEGER)
    : await session.ctx.store.numbers(group, 0, current - 1);
  const n = forward ? nums[0] : nums[nums.length - 1];
  if (n === undefined) fail(forward ? replies.noNextArticle : replies.noPreviousArticle);
  const a = await session.ctx.store.articleByNumber(group, n);
  if (!a) fail(replies.noCurrentArticle);
  session.article = n;
  session.reply(replies.stat(n, a.messageId));
}

/** Group selection and article retrieval. @see RFC 3977 §6.1, §6.2; RFC 977 §3.1–§3.2, §3.5 */
export const articleCommands: NntpCommand[] = [
  {
    verb: 'GROUP',
    args: 'required',
    help: 'GROUP newsgroup (RFC 3977 §6.1.1)',
    async run(session, arg) {
      const info = await selectGroup(session, arg.trim());
      session.reply(replies.groupSelected(info.count, info.low, info.high, info.name));
    },
  },
  {
    verb: 'LISTGROUP',
    args: 'optional',
    capability: 'READER',
    help: 'LISTGROUP [newsgroup [range]] (RFC 3977 §6.1.2)',
    async run(session, arg) {
      const [name, range] = arg
        .trim()
        .split(/[ \t]+/)
        .filter((w) => w !== '');
      const info = name === undefined ? await session.ctx.store.group(selectedGroup(session)) : await selectGroup(session, name);
      if (!info) fail(replies.noSuchGroup);
      if (name === undefined) {
        session.article = info.count > 0 ? info.low : undefined;
      }
      const [lo, hi] = range === undefined ? [info.low, info.high] : parseRange(range, info.high);
      const nums = await session.ctx.store.numbers(info.name, lo, Math.min(hi, lo + session.ctx.limits.maxRangeArticles - 1));
      session.replyLines(replies.listGroup(info.count, info.low, info.high, info.name), nums.map(String));
    },
  },
  { verb: 'LAST', args: 'none', help: 'LAST (RFC 3977 §6.1.3)', run: (s) => step(s, false) },
  { verb: 'NEXT', args: 'none', help: 'NEXT (RFC 3977 §6.1.4)', run: (s) => step(s, true) },
  fetchCommand('ARTICLE', 'article', '§6.2.1'),
  fetchCommand('HEAD', 'head', '§6.2.2'),
  fetchCommand('BODY', 'body', '§6.2.3'),
  fetchCommand('STAT', 'stat', '§6.2.4'),
];
