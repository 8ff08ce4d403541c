import type * as tls from 'node:tls';
import type { BlockList } from 'node:net';
import type { Authenticator, AuthUser, CommandTable, Logger, LoginFlow, LoginThrottle, ServerEvents } from '@gorgon/core';
import type { FtpCommand } from './commands/table.js';
import type { PortRange } from './data-channel.js';
import type { FtpLimits } from './defaults.js';
import type { VirtualFs } from './fs.js';
import type { Permission } from './permissions.js';
import type { FtpSession, LoginState } from './session.js';

/** A logged-in user as a session sees it. */
export interface FtpUser {
  name: string;
  anonymous: boolean;
  fs: VirtualFs;
  perms: ReadonlySet<Permission>;
  /** Directory to start in (virtual path). */
  home: string;
  auth?: AuthUser;
}

/** What every session of one server shares: settings resolved once, the command table, the throttle. */
export interface ServerContext {
  readonly limits: FtpLimits;
  readonly banner: string;
  readonly logger: Logger;
  readonly table: CommandTable<LoginState, FtpSession, FtpCommand>;
  /** The login-and-throttle flow (the core's, shared with POP3). */
  readonly loginFlow: LoginFlow;
  readonly throttle: LoginThrottle;
  readonly events: ServerEvents;
  /** Verbs implemented but not offered here (the TLS ones without a certificate): 502. */
  readonly unoffered: ReadonlySet<string>;
  readonly auth: Authenticator | undefined;
  readonly anonymousEnabled: boolean;
  /** Logs a user in, or returns undefined (wrong password, unknown user, anonymous off). */
  login(user: string, password: string, remoteAddress: string, secure: boolean): Promise<FtpUser | undefined>;
  readonly secureContext: tls.SecureContext | undefined;
  /** Refuse USER/PASS on a cleartext control connection. */
  readonly requireTlsForLogin: boolean;
  /** Refuse transfers over a cleartext data connection (PROT C). */
  readonly requireTlsForData: boolean;
  readonly passivePorts: PortRange | undefined;
  readonly masquerade: string | undefined;
  /** The PROXY trust list, for passive data connections forwarded by the proxy too. */
  readonly proxy: { trusted: BlockList; timeoutMs: number } | undefined;
  /** Host names HOST accepts (RFC 7151); undefined accepts any. */
  readonly hosts: readonly string[] | undefined;
}
