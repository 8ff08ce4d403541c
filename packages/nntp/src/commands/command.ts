import type { CommandSpec } from '@gorgon/core';
import { replies, type NntpReply } from '../replies.js';
import { NntpReplyError, type NntpSession, type NntpState } from '../session.js';

/** What decides whether the server offers a command at all. */
export interface OfferContext {
  /** A certificate is configured (STARTTLS possible). */
  tls: boolean;
  /** An authenticator is configured (AUTHINFO possible). */
  auth: boolean;
}

/** One row of the NNTP command table: the core's spec plus whether it is offered. */
export interface NntpCommand extends CommandSpec<NntpState, NntpSession> {
  offered?(offer: OfferContext): boolean;
}

/** Throws the reply: the session sends it and goes on. */
export function fail(reply: NntpReply): never {
  throw new NntpReplyError(reply);
}

/** Whitespace-separated words of an argument. */
export function words(arg: string): string[] {
  return arg.split(/[ \t]+/).filter((w) => w !== '');
}

const NUMBER = /^\d{1,15}$/;

/** A decimal article number in range, or a 501. @see RFC 3977 §6.2 */
export function articleNumber(s: string): number {
  if (!NUMBER.test(s)) fail(replies.syntaxError);
  const n = Number(s);
  if (n > Number.MAX_SAFE_INTEGER) fail(replies.syntaxError);
  return n;
}

/**
 * An RFC 3977 §3.2.1.1 range: `n`, `n-`, `n-m`; undefined bounds are filled from the group.
 * @returns [low, high]
 */
export function parseRange(arg: string, high: number): [number, number] {
  const dash = arg.indexOf('-');
  if (dash === -1) {
    const n = articleNumber(arg);
    return [n, n];
  }
  const lo = articleNumber(arg.slice(0, dash));
  const rest = arg.slice(dash + 1);
  return [lo, rest === '' ? Math.max(high, lo) : articleNumber(rest)];
}

/** The selected group or a 412. */
export function selectedGroup(session: NntpSession): string {
  if (session.group === undefined) fail(replies.noGroupSelected);
  return session.group;
}
