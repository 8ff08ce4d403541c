import { IterableProducer } from '@gorgon/core';
import { Pop3ReplyError, replies } from '../replies.js';
import type { Pop3Session } from '../session.js';
import { TopProducer } from '../top-producer.js';
import type { Pop3Command } from './command.js';
import { messageIndex, parseCount, words } from './message-number.js';

const TRANSACTION = ['transaction'] as const;

/** Scan lines of a listing, in writes of about 64 KiB, then the terminating line. */
function* listing(session: Pop3Session, value: (i: number) => number | string): Generator<string> {
  let batch = '';
  const messages = session.maildrop.messages;
  for (let i = 0; i < messages.length; i++) {
    if (session.deleted.has(i)) continue;
    batch += `${i + 1} ${value(i)}\r\n`;
    if (batch.length >= 64 * 1024) {
      yield batch;
      batch = '';
    }
  }
  yield `${batch}.\r\n`;
}

/** The TRANSACTION commands of RFC 1939 §5 and §7. */
export const transactionCommands: Pop3Command[] = [
  {
    verb: 'STAT',
    args: 'none',
    states: TRANSACTION,
    help: 'STAT: count and octets of the messages not marked deleted (RFC 1939 §5)',
    run(session) {
      const { count, octets } = session.totals();
      session.reply(replies.stat(count, octets));
    },
  },
  {
    verb: 'LIST',
    args: 'optional',
    states: TRANSACTION,
    help: 'LIST [msg]: scan listing of one message or all (RFC 1939 §5)',
    run(session, arg) {
      const [n] = words(arg, 1);
      const messages = session.maildrop.messages;
      if (n !== undefined) {
        const i = messageIndex(session, n);
        session.reply(replies.scanLine(i + 1, messages[i]!.size));
        return;
      }
      const { count, octets } = session.totals();
      session.replyMultiline(replies.listing(count, octets), new IterableProducer(listing(session, (i) => messages[i]!.size)), false);
    },
  },
  {
    verb: 'RETR',
    args: 'required',
    states: TRANSACTION,
    help: 'RETR msg: the whole message (RFC 1939 §5)',
    run(session, arg) {
      const [n = ''] = words(arg, 1);
      const i = messageIndex(session, n);
      const reply = replies.retrieving(session.maildrop.messages[i]!.size);
      const retrieved = (): void => {
        session.retrieved.add(i);
        session.ctx.stats.messagesRetrieved++;
        session.transferred('retrieve', i, session.maildrop.messages[i]!.size);
      };
      // A small message is answered without an await, so the next pipelined RETR follows at once.
      const data = session.maildrop.readNow?.(i);
      if (data) {
        retrieved();
        session.replyMessage(reply, data);
        return undefined;
      }
      return session.maildrop.read(i).then((body) => {
        retrieved();
        session.replyMultiline(reply, body);
      });
    },
  },
  {
    verb: 'DELE',
    args: 'required',
    states: TRANSACTION,
    help: 'DELE msg: mark a message deleted; it goes at QUIT (RFC 1939 §5)',
    run(session, arg) {
      const [n = ''] = words(arg, 1);
      const i = messageIndex(session, n);
      session.deleted.add(i);
      session.reply(replies.deleted(i + 1));
    },
  },
  {
    verb: 'NOOP',
    args: 'none',
    states: TRANSACTION,
    help: 'NOOP: does nothing (RFC 1939 §5)',
    run(session) {
      session.reply(replies.noop);
    },
  },
  {
    verb: 'RSET',
    args: 'none',
    states: TRANSACTION,
    help: 'RSET: unmark every message marked deleted (RFC 1939 §5)',
    run(session) {
      session.deleted.clear();
      const { count, octets } = session.totals();
      session.reply(replies.reset(count, octets));
    },
  },
  {
    verb: 'TOP',
    args: 'required',
    states: TRANSACTION,
    help: 'TOP msg n: the header and the first n body lines (RFC 1939 §7)',
    capability: 'TOP',
    async run(session, arg) {
      const [n = '', lines] = words(arg, 2);
      if (lines === undefined) throw new Pop3ReplyError(replies.missingArgument);
      const i = messageIndex(session, n);
      const count = parseCount(lines);
      const body = await session.maildrop.read(i);
      session.replyMultiline(replies.top, new TopProducer(body, count));
      session.transferred('top', i, session.maildrop.messages[i]!.size);
    },
  },
  {
    verb: 'UIDL',
    args: 'optional',
    states: TRANSACTION,
    help: 'UIDL [msg]: unique-id listing of one message or all (RFC 1939 §7)',
    capability: 'UIDL',
    run(session, arg) {
      const [n] = words(arg, 1);
      const messages = session.maildrop.messages;
      if (n !== undefined) {
        const i = messageIndex(session, n);
        session.reply(replies.scanLine(i + 1, messages[i]!.uid));
        return;
      }
      session.replyMultiline(replies.uidListing, new IterableProducer(listing(session, (i) => messages[i]!.uid)), false);
    },
  },
];
