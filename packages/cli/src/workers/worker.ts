import cluster from 'node:cluster';
import { createServer } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '@gorgon/core';
import type { AdminSource } from '../admin/source.js';
import { CliError, messageOf } from '../errors.js';
import type { Suite } from '../suite.js';
import type { DaemonSpec } from '../daemon.js';
import {
  isPrimaryMessage,
  WORKER_COUNT_ENV,
  WORKER_INDEX_ENV,
  WORKER_PORTS_ENV,
  WORKER_RESTART_ENV,
  type WorkerMessage,
} from './messages.js';

/**
 * Which worker this process is (`index` from 0, and whether it replaces one that crashed), or
 * undefined outside `gorgon serve --workers`.
 */
export function workerIdentity(): { index: number; count: number; restart: boolean } | undefined {
  if (!cluster.isWorker) return undefined;
  const index = Number(process.env[WORKER_INDEX_ENV]);
  const count = Number(process.env[WORKER_COUNT_ENV]);
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) return undefined;
  return { index, count, restart: process.env[WORKER_RESTART_ENV] === '1' };
}

/**
 * Daemons configured with port 0 get a concrete port, the same in every worker: the first worker
 * picks free ones (`bound` is filled for its `ready` message), the others and any restarted
 * worker take them from the primary. See WORKER_PORTS_ENV.
 */
export async function shareEphemeralPorts(specs: DaemonSpec[], bound: Record<string, number>): Promise<void> {
  let first: Record<string, number> = {};
  try {
    first = JSON.parse(process.env[WORKER_PORTS_ENV] || '{}') as Record<string, number>;
  } catch {
    // not set by a primary of ours: pick below
  }
  for (const spec of specs) {
    if (spec.port !== 0) continue;
    spec.port = first[spec.name] ?? (await freePort(spec.host));
    bound[spec.name] = spec.port;
  }
}

/** A port free now on `host`, found by binding port 0 in this process alone (not through the primary). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * What a worker gives the primary's admin view: its own status and metrics. Both optional: a
 * worker without them still serves; the primary's admin listener needs them.
 */
export interface WorkerAdmin {
  /** This worker's own admin source (the local source built on its Suite). */
  localSource?: ((suite: Suite) => AdminSource) | undefined;
  /** The prom-client registry this worker's metrics live in, aggregated by the primary. */
  registry?: Registry | undefined;
}

function send(message: WorkerMessage, done?: () => void): void {
  if (!process.connected || !process.send) {
    done?.();
    return;
  }
  process.send(message, undefined, {}, () => done?.());
}

/**
 * Links a worker to its primary: says `ready` once every listener is bound, drains on the
 * primary's SIGTERM, passes SIGHUP and SIGUSR1 on to this
 * process's handlers, and answers the primary's status requests from the local admin source.
 * Returns the function that unlinks it.
 */
export function linkWorker(
  suite: Suite,
  index: number,
  log: Logger,
  admin: WorkerAdmin = {},
  ports: Record<string, number> = {},
): () => void {
  const source = admin.localSource?.(suite);
  if (admin.registry) {
    AggregatorRegistry.setRegistries([admin.registry]);
    // prom-client answers the primary's metrics requests once an AggregatorRegistry exists in
    // the process (its constructor adds the IPC listener).
    new AggregatorRegistry();
  }
  const drain = (): void => {
    // A Ctrl-C in a terminal reaches every process of the group: the worker may be draining
    // already, and a second SIGTERM would force it out.
    if (suite.phase === 'starting' || suite.phase === 'running') process.emit('SIGTERM', 'SIGTERM');
  };
  const onMessage = (message: unknown): void => {
    if (!isPrimaryMessage(message)) return;
    if (message.gorgon === 'signal') {
      if (message.signal === 'SIGTERM') drain();
      // Emitted, not raised: a signal nobody handles would end the process (SIGHUP) or open
      // the inspector (SIGUSR1).
      else if (process.listenerCount(message.signal) > 0) process.emit(message.signal, message.signal);
    } else if (message.gorgon === 'status') {
      const { id } = message;
      if (!source) {
        send({ gorgon: 'status-reply', id, error: 'this worker has no admin source' });
        return;
      }
      source.status().then(
        (status) => send({ gorgon: 'status-reply', id, status }),
        (err: unknown) => {
          log.warn({ event: 'status-failed' }, `status for the primary failed: ${messageOf(err)}`);
          send({ gorgon: 'status-reply', id, error: messageOf(err) });
        },
      );
    }
  };
  const offPhase = suite.on('phase', (phase) => {
    if (phase === 'running') send({ gorgon: 'ready', index, ports });
  });
  process.on('message', onMessage);
  return () => {
    offPhase();
    process.off('message', onMessage);
  };
}

/**
 * A worker that cannot start tells the primary why (the primary reports it as its own one
 * sentence, once, however many workers fail) and exits with the error's status.
 */
export async function failWorker(err: unknown): Promise<never> {
  const exitCode = err instanceof CliError ? err.exitCode : 1;
  await new Promise<void>((resolve) => send({ gorgon: 'failed', message: messageOf(err), exitCode }, resolve));
  process.exit(exitCode);
}

/** After the drain: closes the IPC channel so nothing keeps the worker alive. */
export function endWorker(): void {
  if (process.connected) process.disconnect();
}
