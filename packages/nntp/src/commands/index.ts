import { articleCommands } from './articles.js';
import { authCommands } from './auth.js';
import type { NntpCommand } from './command.js';
import { compressCommands } from './compress.js';
import { generalCommands } from './general.js';
import { listCommands } from './list.js';
import { overviewCommands } from './overview.js';
import { postingCommands } from './posting.js';

/**
 * The whole NNTP command table, in CAPABILITIES order. A server keeps the rows it offers
 * (`NntpCommand.offered`); the gate answers unknown verbs (500) and argument errors (501).
 * @see RFC 3977, RFC 2980, RFC 4642, RFC 4643, RFC 4644
 */
export const nntpCommands: readonly NntpCommand[] = [
  ...generalCommands,
  ...articleCommands,
  ...listCommands,
  ...overviewCommands,
  ...postingCommands,
  ...authCommands,
  ...compressCommands,
];

export { capabilityLines } from './general.js';
export type { NntpCommand, OfferContext } from './command.js';
