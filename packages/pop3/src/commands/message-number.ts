import { Pop3ReplyError, replies } from '../replies.js';
import type { Pop3Session } from '../session.js';

const DECIMAL = /^\d{1,10}$/;

/** Splits an argument string on blanks, refusing more than `max` words. */
export function words(arg: string, max: number): string[] {
  const parts = arg
    .trim()
    .split(/[ \t]+/)
    .filter((p) => p !== '');
  if (parts.length > max) throw new Pop3ReplyError(replies.unexpectedArgument);
  return parts;
}

/** A non-negative decimal count (TOP's line count); huge values are capped, never wrapped. */
export function parseCount(text: string): number {
  if (!DECIMAL.test(text)) throw new Pop3ReplyError(replies.badNumber);
  return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
}

/**
 * A message number of the open maildrop, as a 0-based index. Past the end, zero, not decimal
 * or marked deleted: the reply error RFC 1939 prescribes. @see RFC 1939 §5
 */
export function messageIndex(session: Pop3Session, text: string): number {
  const count = session.maildrop.messages.length;
  if (!DECIMAL.test(text)) throw new Pop3ReplyError(replies.noSuchMessage(count));
  const n = Number(text);
  if (n < 1 || n > count) throw new Pop3ReplyError(replies.noSuchMessage(count));
  if (session.deleted.has(n - 1)) throw new Pop3ReplyError(replies.alreadyDeleted(n));
  return n - 1;
}
