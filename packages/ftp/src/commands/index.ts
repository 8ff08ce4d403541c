import { CommandTable } from '@gorgon/core';
import type { Permission } from '../permissions.js';
import type { FtpSession, LoginState } from '../session.js';
import { dataSetupCommands } from './data-setup.js';
import { fileCommands } from './files.js';
import { infoCommands } from './info.js';
import { listingCommands } from './listing.js';
import { loginCommands } from './login.js';
import { navigationCommands } from './navigation.js';
import { paramCommands } from './params.js';
import { securityCommands } from './security.js';
import type { FtpCommand } from './table.js';
import { transferCommands } from './transfer.js';

export type { FtpCommand } from './table.js';

/**
 * The server's command table: every command it implements and offers (the TLS commands only
 * with a certificate), then the embedder's `extra` rows (which replace built-in verbs).
 */
export function commandTable(extra: readonly FtpCommand[] = [], tls = true): CommandTable<LoginState, FtpSession, FtpCommand> {
  const all = [
    ...loginCommands,
    ...navigationCommands,
    ...paramCommands,
    ...dataSetupCommands,
    ...transferCommands,
    ...fileCommands,
    ...listingCommands,
    ...infoCommands,
    ...securityCommands,
    ...extra,
  ];
  return new CommandTable<LoginState, FtpSession, FtpCommand>(
    all.filter((c) => tls || !c.needsTls),
    {
      blankIsArgument: true,
      loggedIn: (s) => s.state === 'ready',
      permitted: (s, permission) => s.user?.perms.has(permission as Permission) === true,
    },
  );
}

/** Verbs implemented but offered only with TLS configured: answered 502 without it, not 500. */
export function tlsVerbs(): ReadonlySet<string> {
  return new Set(securityCommands.filter((c) => c.needsTls).map((c) => c.verb));
}
