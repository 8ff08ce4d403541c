import { authorizationCommands } from './authorization.js';
import type { Pop3Command } from './command.js';
import { commonCommands } from './common.js';
import { transactionCommands } from './transaction.js';

/**
 * The whole POP3 command table, in CAPA order. A server keeps the rows it offers
 * (`Pop3Command.offered`); the gate answers unknown verbs, wrong states and argument errors.
 * @see RFC 1939 §4–§7, RFC 2449, RFC 2595, RFC 5034
 */
export const pop3Commands: readonly Pop3Command[] = [...authorizationCommands, ...transactionCommands, ...commonCommands];

export { capabilityLines } from './common.js';
export type { OfferContext, Pop3Command } from './command.js';
