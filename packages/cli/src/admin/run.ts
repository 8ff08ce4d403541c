import type { Logger } from '@gorgon/core';
import type { RunOptions } from '../daemon.js';
import { describeListenError } from '../errors.js';
import { Suite } from '../suite.js';
import { startAdminServer, type AdminServer } from './admin-server.js';
import { createLocalSource, type LocalSource } from './local-source.js';

/** Where the admin listener listens: the config's `admin:` section or `--admin-port`/`--admin-host`. */
export interface AdminListen {
  port: number;
  host: string;
}

/**
 * The run options that give a process its admin listener: a {@link Suite} the daemon runner
 * keeps current, a local source over it (metrics, status), and the listener itself, started
 * after the daemons and closed after them. Without `admin`, nothing: no listener, no metrics,
 * and the servers' events stay unwatched (free).
 */
export function adminRunOptions(admin: AdminListen | undefined, log: Logger): Pick<RunOptions, 'suite' | 'after'> {
  if (!admin) return {};
  const suite = new Suite();
  let source: LocalSource | undefined;
  let server: AdminServer | undefined;
  return {
    suite,
    after: {
      async start() {
        source = createLocalSource(suite);
        try {
          server = await startAdminServer(source, { port: admin.port, host: admin.host, logger: log });
        } catch (err) {
          source.close();
          source = undefined;
          throw describeListenError(err, 'admin listener', admin.port, admin.host, 'pick another with --admin-port or admin.port');
        }
      },
      async close() {
        await server?.close();
        source?.close();
      },
    },
  };
}
