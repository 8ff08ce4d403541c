import { implementationName } from '../defaults.js';
import { replies } from '../replies.js';
import type { Pop3Session } from '../session.js';
import type { Pop3Command } from './command.js';

/**
 * The capabilities that are properties of the server rather than commands, in CAPA order.
 * @see RFC 2449 §6
 */
function serverCapabilities(session: Pop3Session): string[] {
  const { ctx } = session;
  return [
    'RESP-CODES',
    'PIPELINING',
    `EXPIRE ${ctx.expire === 'never' ? 'NEVER' : '0'}`,
    `LOGIN-DELAY ${ctx.loginDelay.seconds}`,
    `IMPLEMENTATION ${implementationName}`,
  ];
}

/**
 * The CAPA listing of this session, generated from the command table (what each offered
 * command contributes in the session's state and security) plus the server capabilities.
 * @see RFC 2449 §5
 */
export function capabilityLines(session: Pop3Session): string[] {
  return [...session.ctx.table.capabilities(undefined, session), ...serverCapabilities(session)];
}

/** CAPA and QUIT, valid in AUTHORIZATION and TRANSACTION. @see RFC 2449 §5, RFC 1939 §6 */
export const commonCommands: Pop3Command[] = [
  {
    verb: 'CAPA',
    args: 'none',
    states: ['authorization', 'transaction'],
    help: 'CAPA: the capabilities of this server (RFC 2449 §5)',
    run(session) {
      const body = capabilityLines(session)
        .map((l) => `${l}\r\n`)
        .join('');
      session.replyMultiline(replies.capabilities, `${body}.\r\n`, false);
    },
  },
  {
    verb: 'QUIT',
    args: 'none',
    states: ['authorization', 'transaction'],
    help: 'QUIT: end the session; in TRANSACTION, marked messages are removed first (RFC 1939 §6)',
    async run(session) {
      if (session.state === 'transaction') return session.enterUpdate();
      session.reply(replies.bye);
      session.closeWhenDone();
      return undefined;
    },
  },
];
