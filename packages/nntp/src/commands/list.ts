import { replies } from '../replies.js';
import type { NntpSession } from '../session.js';
import type { GroupInfo } from '../store.js';
import { isWildmat, wildmat } from '../wildmat.js';
import { fail, words, type NntpCommand } from './command.js';

/** The overview format: the seven RFC 3977 §8.4 fields and Xref. @see RFC 3977 §8.4 */
export const OVERVIEW_FMT = ['Subject:', 'From:', 'Date:', 'Message-ID:', 'References:', ':bytes', ':lines', 'Xref:full'];

/** Readable groups matching an optional wildmat. */
async function visibleGroups(session: NntpSession, pattern: string | undefined): Promise<GroupInfo[]> {
  if (pattern !== undefined && !isWildmat(pattern)) fail(replies.syntaxError);
  const match = pattern === undefined ? () => true : wildmat(pattern);
  return (await session.ctx.store.groups()).filter((g) => match(g.name) && session.access.read(g.name));
}

/**
 * `yymmdd hhmmss [GMT]` or `yyyymmdd hhmmss [GMT]`, seconds since the epoch. A two-digit year
 * is in the current century unless that would be in the future. Server local time is UTC.
 * @see RFC 3977 §7.3.2
 */
export function parseNntpDate(date: string, time: string, gmt: string | undefined): number {
  if (!/^(\d{6}|\d{8})$/.test(date) || !/^\d{6}$/.test(time) || (gmt !== undefined && gmt.toUpperCase() !== 'GMT'))
    fail(replies.syntaxError);
  let year: number;
  let rest: string;
  if (date.length === 8) {
    year = Number(date.slice(0, 4));
    rest = date.slice(4);
  } else {
    const yy = Number(date.slice(0, 2));
    const now = new Date().getUTCFullYear();
    const century = Math.floor(now / 100) * 100;
    year = century + yy > now ? century - 100 + yy : century + yy;
    rest = date.slice(2);
  }
  const month = Number(rest.slice(0, 2));
  const day = Number(rest.slice(2, 4));
  const [h, m, s] = [Number(time.slice(0, 2)), Number(time.slice(2, 4)), Number(time.slice(4, 6))];
  if (month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) fail(replies.syntaxError);
  return Math.floor(Date.UTC(year, month - 1, day, h, m, s) / 1000);
}

/** LIST and its keywords. @see RFC 3977 §7.6, RFC 6048 */
async function list(session: NntpSession, arg: string): Promise<void> {
  const [keyword = 'ACTIVE', pattern, extra] = words(arg);
  if (extra !== undefined) fail(replies.syntaxError);
  const kw = keyword.toUpperCase();
  switch (kw) {
    case 'ACTIVE': {
      const gs = await visibleGroups(session, pattern);
      return session.replyLines(
        replies.listFollows,
        gs.map((g) => `${g.name} ${g.high} ${g.low} ${g.status}`),
      );
    }
    case 'ACTIVE.TIMES': {
      const gs = await visibleGroups(session, pattern);
      return session.replyLines(
        replies.listFollows,
        gs.map((g) => `${g.name} ${g.created} ${g.creator}`),
      );
    }
    case 'NEWSGROUPS': {
      const gs = await visibleGroups(session, pattern);
      return session.replyLines(
        replies.listFollows,
        gs.map((g) => `${g.name}\t${g.description}`),
      );
    }
    case 'OVERVIEW.FMT':
      if (pattern !== undefined) fail(replies.syntaxError);
      return session.replyLines(replies.listFollows, OVERVIEW_FMT);
    case 'HEADERS':
      // Any header can be asked for by HDR (from the article when not in the overview).
      if (pattern !== undefined && pattern.toUpperCase() !== 'MSGID' && pattern.toUpperCase() !== 'RANGE') fail(replies.syntaxError);
      return session.replyLines(replies.listFollows, [':', ':bytes', ':lines']);
    case 'DISTRIB.PATS': {
      // RFC 3977 §7.6.1: an empty list is a valid answer; a list not kept is 503.
      if (pattern !== undefined) fail(replies.syntaxError);
      const pats = session.ctx.distribPats;
      if (pats === undefined) fail(replies.dataNotStored);
      return session.replyLines(replies.listFollows, pats);
    }
    default:
      fail(replies.notSupported);
  }
}

/** Group listing commands: LIST, NEWGROUPS, NEWNEWS. @see RFC 3977 §7.3, §7.4, §7.6; RFC 977 §3.6–§3.8 */
export const listCommands: NntpCommand[] = [
  {
    verb: 'LIST',
    args: 'optional',
    capability: 'LIST ACTIVE ACTIVE.TIMES NEWSGROUPS OVERVIEW.FMT HEADERS DISTRIB.PATS',
    help: 'LIST [ACTIVE|ACTIVE.TIMES|NEWSGROUPS [wildmat]|OVERVIEW.FMT|HEADERS|DISTRIB.PATS] (RFC 3977 §7.6)',
    run: (s, arg) => list(s, arg),
  },
  {
    verb: 'NEWGROUPS',
    args: 'required',
    help: 'NEWGROUPS [yy]yymmdd hhmmss [GMT] (RFC 3977 §7.3)',
    async run(session, arg) {
      const [date = '', time = '', gmt, extra] = words(arg);
      if (extra !== undefined) fail(replies.syntaxError);
      const since = parseNntpDate(date, time, gmt);
      const gs = (await visibleGroups(session, undefined)).filter((g) => g.created >= since);
      session.replyLines(
        replies.newGroups,
        gs.map((g) => `${g.name} ${g.high} ${g.low} ${g.status}`),
      );
    },
  },
  {
    verb: 'NEWNEWS',
    args: 'required',
    capability: 'NEWNEWS',
    help: 'NEWNEWS wildmat [yy]yymmdd hhmmss [GMT] (RFC 3977 §7.4)',
    async run(session, arg) {
      const [pattern = '', date = '', time = '', gmt, extra] = words(arg);
      if (extra !== undefined || !isWildmat(pattern)) fail(replies.syntaxError);
      const since = parseNntpDate(date, time, gmt);
      const match = wildmat(pattern);
      const ids = await session.ctx.store.newSince(since, (g) => match(g) && session.access.read(g));
      session.replyLines(replies.newNews, ids);
    },
  },
];
