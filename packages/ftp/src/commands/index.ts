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

/** Every command the server implements, by verb. */
export function commandTable(extra: readonly FtpCommand[] = []): Map<string, FtpCommand> {
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
  return new Map(all.map((c) => [c.verb.toUpperCase(), c]));
}
