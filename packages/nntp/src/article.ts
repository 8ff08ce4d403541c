import type { ArticleLocation, OverviewEntry } from './store.js';

/**
 * Parsing and checking of articles as they arrive (POST, IHAVE, TAKETHIS). The article is kept
 * as the bytes received (latin1 strings map bytes 1:1), so what is stored is byte-exact except
 * for the Path and Xref headers the server owns.
 * @see RFC 5536 §3 (required headers), RFC 3977 §6.3, RFC 5537 §3.2 (Path), §3.4 (Xref)
 */

/** One header field: its name as sent and its raw value (folds kept), latin1. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** An article split into header fields and body (latin1 strings, CRLF line ends). */
export interface ParsedArticle {
  readonly fields: HeaderField[];
  readonly body: string;
}

/** Why an article is refused; the session maps it to 441/437/439. */
export class ArticleError extends Error {
  constructor(
    readonly reason: string,
    /** `duplicate` → 435/438 for feeds; `later` → 436/431; `unavailable` (the store failed) → 436/400; otherwise a rejection. */
    readonly kind: 'reject' | 'duplicate' | 'later' | 'unavailable' = 'reject',
  ) {
    super(reason);
  }
}

/** RFC 3977 §3.6 message-id: 3–250 octets, `<…>`, printable US-ASCII, no `>` inside; RFC 5536 §3.1.3 asks for an `@`. */
export function isMessageId(id: string): boolean {
  return id.length >= 3 && id.length <= 250 && /^<[\x21-\x3d\x3f-\x7e]+@[\x21-\x3d\x3f-\x7e]+>$/.test(id);
}

/** Splits a received article (latin1, CRLF) into fields and body. Throws ArticleError on a malformed header. */
export function parseArticle(text: string): ParsedArticle {
  let sep = text.indexOf('\r\n\r\n');
  let headerText: string;
  let body: string;
  if (text.startsWith('\r\n')) throw new ArticleError('no header');
  if (sep === -1) {
    headerText = text.endsWith('\r\n') ? text.slice(0, -2) : text;
    body = '';
  } else {
    headerText = text.slice(0, sep);
    body = text.slice(sep + 4);
  }
  const fields: HeaderField[] = [];
  for (const line of headerText.split('\r\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = fields.pop();
      if (!last) throw new ArticleError('header starts with a continuation line');
      fields.push({ name: last.name, value: `${last.value}\r\n${line}` });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[\x21-\x39\x3b-\x7e]+$/.test(line.slice(0, colon))) throw new ArticleError('malformed header line');
    if (line[colon + 1] !== ' ' && line.length > colon + 1) throw new ArticleError('header needs a space after the colon');
    fields.push({ name: line.slice(0, colon), value: line.slice(colon + 2) });
  }
  sep = 0;
  return { fields, body };
}

/** The first field named `name` (case-insensitive), unfolded and trimmed. */
export function header(article: ParsedArticle, name: string): string | undefined {
  const lower = name.toLowerCase();
  const f = article.fields.find((x) => x.name.toLowerCase() === lower);
  return f === undefined ? undefined : unfold(f.value);
}

/** Folding undone, spaces at the ends trimmed. */
export function unfold(value: string): string {
  return value.replace(/\r\n(?=[ \t])/g, '').trim();
}

/** What the server checks; `transit` for IHAVE/TAKETHIS (everything must be there), else POST. */
export interface CheckOptions {
  readonly transit: boolean;
  readonly now: number;
  readonly maxFutureSkewMs: number;
  readonly maxArticleAgeMs: number;
}

const POST_REQUIRED = ['From', 'Subject', 'Newsgroups'];
const TRANSIT_REQUIRED = ['From', 'Subject', 'Newsgroups', 'Message-ID', 'Date', 'Path'];
const SINGLE = ['from', 'subject', 'newsgroups', 'message-id', 'date', 'path', 'references', 'followup-to'];

/**
 * Checks the required headers, the Message-ID syntax, the Date and the Newsgroups list, and
 * returns the newsgroups named. @see RFC 5536 §3.1, RFC 5537 §3.5 (duties of an injecting agent)
 */
export function checkArticle(article: ParsedArticle, o: CheckOptions): string[] {
  for (const name of o.transit ? TRANSIT_REQUIRED : POST_REQUIRED) {
    const v = header(article, name);
    if (v === undefined || v === '') throw new ArticleError(`missing ${name} header`);
  }
  for (const name of SINGLE) {
    if (article.fields.filter((f) => f.name.toLowerCase() === name).length > 1) throw new ArticleError(`duplicate ${name} header`);
  }
  const id = header(article, 'Message-ID');
  if (id !== undefined && !isMessageId(id)) throw new ArticleError('bad Message-ID');
  const date = header(article, 'Date');
  if (date !== undefined) {
    const t = Date.parse(date);
    if (Number.isNaN(t)) throw new ArticleError('unparsable Date');
    if (t - o.now > o.maxFutureSkewMs) throw new ArticleError('Date in the future');
    if (o.transit && o.now - t > o.maxArticleAgeMs) throw new ArticleError('article too old');
  }
  const groups = header(article, 'Newsgroups')!
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  if (groups.length === 0) throw new ArticleError('empty Newsgroups');
  return [...new Set(groups)];
}

/** What {@link finishArticle} needs to know. */
export interface FinishOptions {
  /** This server's path identity (RFC 5537 §3.2). */
  readonly pathHost: string;
  readonly transit: boolean;
  readonly now: number;
  /** The message-id to add when a POST has none. */
  readonly newId: () => string;
}

/**
 * Completes a POST (Message-ID and Date added when missing) and prepends this server to Path;
 * returns the message-id and a renderer that writes the Xref header once numbers are known.
 * @see RFC 5537 §3.2 (Path), §3.4 (Xref), §3.5 (injection)
 */
export function finishArticle(
  article: ParsedArticle,
  o: FinishOptions,
): {
  messageId: string;
  render: (locations: readonly ArticleLocation[]) => { data: Buffer; bodyOffset: number; overview: Omit<OverviewEntry, 'number'> };
} {
  let fields = article.fields.filter((f) => f.name.toLowerCase() !== 'xref');
  let messageId = header(article, 'Message-ID');
  if (!o.transit) {
    if (messageId === undefined) {
      messageId = o.newId();
      fields.push({ name: 'Message-ID', value: messageId });
    }
    if (header(article, 'Date') === undefined) fields.push({ name: 'Date', value: new Date(o.now).toUTCString().replace('GMT', '+0000') });
  }
  const path = header(article, 'Path');
  fields = fields.filter((f) => f.name.toLowerCase() !== 'path');
  fields.unshift({ name: 'Path', value: path ? `${o.pathHost}!${path}` : `${o.pathHost}!not-for-mail` });
  const id = messageId!;
  const body = article.body;
  const lines = body === '' ? 0 : body.split('\r\n').length - (body.endsWith('\r\n') ? 1 : 0);
  const get = (name: string): string => {
    const f = fields.find((x) => x.name.toLowerCase() === name);
    return f ? overviewValue(f.value) : '';
  };
  return {
    messageId: id,
    render(locations) {
      const xref = `${o.pathHost} ${locations.map((l) => `${l.group}:${l.number}`).join(' ')}`;
      const head = [...fields, { name: 'Xref', value: xref }].map((f) => `${f.name}: ${f.value}\r\n`).join('');
      const data = Buffer.from(`${head}\r\n${body}`, 'latin1');
      const overview = {
        subject: get('subject'),
        from: get('from'),
        date: get('date'),
        messageId: id,
        references: get('references'),
        bytes: data.length,
        lines,
        xref,
      };
      return { data, bodyOffset: head.length + 2, overview };
    },
  };
}

/** An overview field value: unfolded, each TAB, CR and LF a space. @see RFC 3977 §8.3.2 */
export function overviewValue(value: string): string {
  return unfold(value).replace(/[\t\r\n]/g, ' ');
}

/** The value of header `name` in stored article bytes (for HDR/XHDR/XPAT of a non-overview field). */
export function headerOf(data: Buffer, bodyOffset: number, name: string): string | undefined {
  try {
    const parsed = parseArticle(data.subarray(0, bodyOffset).toString('latin1'));
    const v = header(parsed, name);
    return v === undefined ? undefined : overviewValue(v);
  } catch {
    return undefined;
  }
}
