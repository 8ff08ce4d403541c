import { implementationName } from '../defaults.js';
import { replies } from '../replies.js';
import type { NntpSession } from '../session.js';
import { fail, words, type NntpCommand } from './command.js';

/**
 * The CAPABILITIES list, generated from the command table: VERSION first, then the line each
 * offered command contributes in this session (so nothing unimplemented is listed).
 * @see RFC 3977 §5.2
 */
export function capabilityLines(session: NntpSession): string[] {
  const caps = session.ctx.table.capabilities('ready', session);
  if (session.mayFeed) caps.push('STREAMING');
  // RFC 4643 §3.1: SASL mechanisms on their own line, offered with AUTHINFO SASL.
  if (caps.includes('AUTHINFO USER SASL')) caps.push('SASL PLAIN');
  return ['VERSION 2', ...caps, `IMPLEMENTATION ${implementationName}`];
}

/** Commands valid at any time. @see RFC 3977 §5, §7.1, §7.2; RFC 977 §3.12; RFC 4644 §2.3 */
export const generalCommands: NntpCommand[] = [
  {
    verb: 'CAPABILITIES',
    args: 'optional',
    help: 'CAPABILITIES [keyword] (RFC 3977 §5.2)',
    run(session) {
      session.replyLines(replies.capabilities, capabilityLines(session));
    },
  },
  {
    verb: 'MODE',
    args: 'required',
    capability: 'MODE-READER',
    help: 'MODE READER | MODE STREAM (RFC 3977 §5.3, RFC 4644 §2.3)',
    run(session, arg) {
      const w = words(arg);
      if (w.length !== 1) fail(replies.syntaxError);
      const mode = w[0]!.toUpperCase();
      if (mode === 'READER') return session.reply(session.mayPostAnywhere ? replies.greetingPosting : replies.greetingNoPosting);
      if (mode === 'STREAM') {
        if (!session.mayFeed) fail(replies.notPermitted);
        session.streaming = true;
        return session.reply(replies.streamingOk);
      }
      fail(replies.syntaxError);
    },
  },
  {
    verb: 'HELP',
    args: 'none',
    help: 'HELP (RFC 3977 §7.2)',
    run(session) {
      session.replyLines(
        replies.help,
        session.ctx.table.specs.map((s) => `  ${s.help}`),
      );
    },
  },
  {
    verb: 'DATE',
    args: 'none',
    capability: 'READER',
    help: 'DATE: the server time, UTC (RFC 3977 §7.1)',
    run(session) {
      const d = new Date().toISOString();
      session.reply(replies.date(d.slice(0, 19).replace(/[-T:]/g, '')));
    },
  },
  {
    verb: 'SLAVE',
    args: 'none',
    help: 'SLAVE (RFC 977 §3.12)',
    run: (session) => session.reply(replies.slave),
  },
  {
    verb: 'QUIT',
    args: 'none',
    help: 'QUIT (RFC 3977 §5.4)',
    run(session) {
      session.reply(replies.bye);
      session.closeWhenDone();
    },
  },
];
