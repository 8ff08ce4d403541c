import { headerOf, isMessageId } from '../article.js';
import { replies, type NntpReply } from '../replies.js';
import type { NntpSession } from '../session.js';
import type { OverviewEntry } from '../store.js';
import { isWildmat, wildmat } from '../wildmat.js';
import { fail, parseRange, selectedGroup, words, type NntpCommand } from './command.js';

/** One OVER line: number, the seven fields, `Xref: …`. @see RFC 3977 §8.3.2 */
function overLine(o: OverviewEntry, number = o.number): string {
  return `${number}\t${o.subject}\t${o.from}\t${o.date}\t${o.messageId}\t${o.references}\t${o.bytes}\t${o.lines}\tXref: ${o.xref}`;
}

/**
 * OVER of a range sends the rendered bytes of whole aligned windows of {@link WINDOW} article
 * numbers from a cache, the partial windows at its ends being rendered each time: a reader's
 * `OVER 1-10000` is then a copy of about forty buffers, as INN's is a read of its stored
 * overview data. A window's bytes are keyed by its first entry and used only while the window
 * still holds the very same entries (entries are immutable; a new or expired article changes
 * the set), so the cache holds at most about one rendering of the overview and goes with it.
 */
const WINDOW = 256;

interface RenderedWindow {
  readonly entries: readonly OverviewEntry[];
  readonly bytes: Buffer;
}

const windows = new WeakMap<OverviewEntry, RenderedWindow>();

/** Range OVER lines (never starting with '.': each begins with its number), CRLF-terminated. */
function render(es: readonly OverviewEntry[], from: number, to: number): Buffer {
  let text = '';
  for (let i = from; i < to; i++) text += `${overLine(es[i]!)}\r\n`;
  return Buffer.from(text, 'latin1');
}

/** The body of a range OVER reply (ascending entries), whole windows from the cache. */
function rangeBody(es: readonly OverviewEntry[], lo: number, hi: number): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < es.length) {
    const start = Math.floor(es[i]!.number / WINDOW) * WINDOW;
    const end = start + WINDOW; // exclusive
    let j = i;
    while (j < es.length && es[j]!.number < end) j++;
    if (start < lo || end - 1 > hi) {
      out.push(render(es, i, j)); // a window the range cuts: not cached
    } else {
      const cached = windows.get(es[i]!);
      if (cached && cached.entries.length === j - i && cached.entries.every((e, k) => e === es[i + k])) out.push(cached.bytes);
      else {
        const bytes = render(es, i, j);
        windows.set(es[i]!, { entries: es.slice(i, j), bytes });
        out.push(bytes);
      }
    }
    i = j;
  }
  return out;
}

/** Entries for a range, a message-id, or the current article. */
async function entries(
  session: NntpSession,
  arg: string | undefined,
): Promise<{ entries: readonly OverviewEntry[]; byId: boolean; range?: [number, number] }> {
  const store = session.ctx.store;
  if (arg?.startsWith('<')) {
    if (!isMessageId(arg)) fail(replies.noSuchId);
    const a = await store.articleById(arg);
    const loc = a?.locations.find((l) => session.access.read(l.group));
    if (!a || !loc) fail(replies.noSuchId);
    const o = await store.overview(loc.group, loc.number, loc.number);
    if (o.length === 0) fail(replies.noSuchId);
    return { entries: [...o], byId: true };
  }
  const group = selectedGroup(session);
  if (arg === undefined) {
    if (session.article === undefined) fail(replies.noCurrentArticle);
    const o = await store.overview(group, session.article, session.article);
    if (o.length === 0) fail(replies.noCurrentArticle);
    return { entries: [...o], byId: false };
  }
  const info = await store.group(group);
  const [lo, hi] = parseRange(arg, info?.high ?? 0);
  const last = Math.min(hi, lo + session.ctx.limits.maxRangeArticles - 1);
  const o = await store.overview(group, lo, last);
  if (o.length === 0) fail(replies.noArticlesInRange);
  return { entries: o, byId: false, range: [lo, last] };
}

async function over(session: NntpSession, arg: string): Promise<void> {
  const [range, extra] = words(arg);
  if (extra !== undefined) fail(replies.syntaxError);
  const { entries: es, byId, range: bounds } = await entries(session, range);
  if (bounds) return session.replyRendered(replies.overview, rangeBody(es, bounds[0], bounds[1]));
  session.replyLines(
    replies.overview,
    es.map((o) => overLine(o, byId ? 0 : o.number)),
  );
}

const OVERVIEW_FIELDS: Record<string, (o: OverviewEntry) => string> = {
  subject: (o) => o.subject,
  from: (o) => o.from,
  date: (o) => o.date,
  'message-id': (o) => o.messageId,
  references: (o) => o.references,
  ':bytes': (o) => String(o.bytes),
  bytes: (o) => String(o.bytes),
  ':lines': (o) => String(o.lines),
  lines: (o) => String(o.lines),
  xref: (o) => o.xref,
};

/** The value of `field` for each entry: from the overview when it is there, else from the article. */
async function fieldValues(session: NntpSession, field: string, es: readonly OverviewEntry[]): Promise<string[]> {
  const fromOverview = OVERVIEW_FIELDS[field.toLowerCase()];
  if (fromOverview) return es.map(fromOverview);
  const out: string[] = [];
  for (const o of es) {
    const a = await session.ctx.store.articleById(o.messageId);
    out.push(a ? (headerOf(a.data, a.bodyOffset, field) ?? '') : '');
  }
  return out;
}

/** HDR and XHDR (the latter answers 221, RFC 2980 §2.6). @see RFC 3977 §8.5 */
async function hdr(session: NntpSession, arg: string, reply: NntpReply): Promise<void> {
  const [field, range, extra] = words(arg);
  if (field === undefined || extra !== undefined) fail(replies.syntaxError);
  const { entries: es, byId } = await entries(session, range);
  const values = await fieldValues(session, field, es);
  session.replyLines(
    reply,
    es.map((o, i) => `${byId ? 0 : o.number} ${values[i]}`),
  );
}

/** Overview commands. @see RFC 3977 §8; RFC 2980 §2.6, §2.8, §2.9 */
export const overviewCommands: NntpCommand[] = [
  { verb: 'OVER', args: 'optional', capability: 'OVER MSGID', help: 'OVER [range|message-id] (RFC 3977 §8.3)', run: over },
  { verb: 'XOVER', args: 'optional', help: 'XOVER [range] (RFC 2980 §2.8)', run: over },
  {
    verb: 'HDR',
    args: 'required',
    capability: 'HDR',
    help: 'HDR field [range|message-id] (RFC 3977 §8.5)',
    run: (s, a) => hdr(s, a, replies.headers),
  },
  {
    verb: 'XHDR',
    args: 'required',
    help: 'XHDR field [range|message-id] (RFC 2980 §2.6)',
    run: (s, a) => hdr(s, a, replies.headersLegacy),
  },
  {
    verb: 'XPAT',
    args: 'required',
    help: 'XPAT field range|message-id pattern... (RFC 2980 §2.9)',
    async run(session, arg) {
      const [field, range, ...pats] = words(arg);
      if (field === undefined || range === undefined || pats.length === 0) fail(replies.syntaxError);
      const pattern = pats.join(' ');
      if (!isWildmat(pattern)) fail(replies.syntaxError);
      const match = wildmat(pattern);
      const { entries: es, byId } = await entries(session, range);
      const values = await fieldValues(session, field, es);
      const lines: string[] = [];
      es.forEach((o, i) => {
        if (match(values[i]!)) lines.push(`${byId ? o.messageId : o.number} ${values[i]}`);
      });
      session.replyLines(replies.headersLegacy, lines);
    },
  },
];
