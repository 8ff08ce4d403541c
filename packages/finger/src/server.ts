import type { AddressInfo } from 'node:net';
import { createListener, type Channel, type Counters, type Logger } from '@gorgon/core';
import { finger } from './client.js';
import { defaultFingerLimits, type FingerLimits } from './defaults.js';
import type { UserDirectory } from './directory.js';
import { toWire } from './format.js';
import { replies } from './replies.js';
import { FingerSession, type FingerSessionConfig, type Forwarder } from './session.js';

/**
 * Options of {@link createFingerServer}. Defaults are in `defaultFingerLimits`.
 * @see RFC 1288 §2.1, §3
 */
export interface FingerServerOptions {
  /** Where users are looked up. */
  directory: UserDirectory;
  /** Structured logger (pino or compatible); every line carries the connection id. */
  logger?: Logger;
  /** Answer `{C}` with the user list. Default true. @see RFC 1288 §3.2.2 */
  allowList?: boolean;
  /**
   * `{U}@{H}` forwarding. Off by default (RFC 1288 §3.2.1 recommends so). When enabled, at most
   * `maxHops` `@host` parts (default 1), each forward bounded by `timeoutMs` (default 10 s) and
   * `maxBytes` (default 256 KiB), always to `port` (default 79): a query naming another port is
   * refused, so the server cannot be used to probe arbitrary ports.
   * @see RFC 1288 §2.4
   */
  forwarding?: { enabled: boolean; maxHops?: number; timeoutMs?: number; port?: number; maxBytes?: number };
  /** Longest query in bytes. Default 512. */
  maxQueryLength?: number;
  /** Close a connection that sends no query within this long. Default 10 s. */
  idleTimeoutMs?: number;
  /** Close any connection after this long in all. Default 60 s. */
  totalTimeoutMs?: number;
  /** Connections open at once; 0 = no limit. Default 256. */
  maxConnections?: number;
  /** Connections open at once from one address; 0 = no limit. Default 16. */
  maxConnectionsPerIp?: number;
  /** Take the client address from a PROXY v1/v2 header sent by these addresses or subnets. */
  proxyProtocol?: { trusted: string[] };
}

/**
 * A finger server made by {@link createFingerServer}.
 * @see RFC 1288 §2.1
 */
export interface FingerServer extends AsyncDisposable {
  /** Binds `port` (0 = any free port) on `host` (default 127.0.0.1). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting, lets queries in progress finish for up to `timeoutMs`, then closes. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  address(): AddressInfo | string | null;
  /** Connections open now. */
  readonly connections: number;
  /** Connections, queries, bytes, errors, timeouts, refusals since start. */
  readonly counters: Counters;
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`finger server option ${name} must be a whole number of at least 1, got ${String(value)}.`);
  }
  return value;
}

/** Connection limits follow the core: 0 means no limit. */
function limit(value: number | undefined, name: string, fallback: number): number {
  if (value === 0) return 0;
  return positive(value, name, fallback);
}

function portNumber(value: number | undefined, fallback: number): number {
  const port = positive(value, 'forwarding.port', fallback);
  if (port > 65535) throw new TypeError(`finger server option forwarding.port must be at most 65535, got ${port}.`);
  return port;
}

const defaultForwarder: Forwarder = (user, options) => finger(user, options);

/**
 * Checks the options and resolves them into a session configuration. Throws a TypeError with
 * one sentence for a bad option.
 * @see RFC 1288 §3
 */
export function resolveFingerConfig(options: FingerServerOptions, forward: Forwarder = defaultForwarder): FingerSessionConfig {
  const directory = options.directory as Partial<UserDirectory> | undefined;
  if (typeof directory?.list !== 'function' || typeof directory.find !== 'function') {
    throw new TypeError('finger server option directory must be a UserDirectory (with list() and find()).');
  }
  const fwd = options.forwarding;
  const limits: FingerLimits = {
    ...defaultFingerLimits,
    maxQueryLength: positive(options.maxQueryLength, 'maxQueryLength', defaultFingerLimits.maxQueryLength),
    idleTimeoutMs: positive(options.idleTimeoutMs, 'idleTimeoutMs', defaultFingerLimits.idleTimeoutMs),
    totalTimeoutMs: positive(options.totalTimeoutMs, 'totalTimeoutMs', defaultFingerLimits.totalTimeoutMs),
    maxConnections: limit(options.maxConnections, 'maxConnections', defaultFingerLimits.maxConnections),
    maxConnectionsPerIp: limit(options.maxConnectionsPerIp, 'maxConnectionsPerIp', defaultFingerLimits.maxConnectionsPerIp),
  };
  return {
    directory: options.directory,
    allowList: options.allowList ?? true,
    forwarding: {
      enabled: fwd?.enabled === true,
      maxHops: positive(fwd?.maxHops, 'forwarding.maxHops', limits.maxHops),
      timeoutMs: positive(fwd?.timeoutMs, 'forwarding.timeoutMs', limits.forwardTimeoutMs),
      port: portNumber(fwd?.port, limits.forwardPort),
      maxBytes: positive(fwd?.maxBytes, 'forwarding.maxBytes', limits.forwardMaxBytes),
    },
    limits,
    forward,
  };
}

/**
 * A session factory for a listener or a test's in-memory channel.
 * @see RFC 1288 §2.1
 */
export function fingerSessionFactory(config: FingerSessionConfig): (channel: Channel) => FingerSession {
  return (channel) => new FingerSession(channel, config);
}

/**
 * Creates a finger server: a core listener named `finger` whose connections each get one
 * {@link FingerSession}. Connections over `maxConnections` (or `maxConnectionsPerIp`) get one
 * "too many connections" line and are closed.
 *
 * ```ts
 * await using server = createFingerServer({ directory: new MemoryUserDirectory(users) });
 * const { port } = await server.listen(7979);
 * ```
 * @see RFC 1288 §2.1
 */
export function createFingerServer(options: FingerServerOptions): FingerServer {
  const config = resolveFingerConfig(options);
  const { limits } = config;
  const listener = createListener(
    {
      name: 'finger',
      ...(options.logger ? { logger: options.logger } : {}),
      maxConnections: limits.maxConnections,
      maxConnectionsPerIp: limits.maxConnectionsPerIp,
      rejectReply: () => toWire([replies.tooManyConnections]),
      idleTimeoutMs: limits.idleTimeoutMs,
      totalTimeoutMs: limits.totalTimeoutMs,
      closeTimeoutMs: limits.closeTimeoutMs,
      ...(options.proxyProtocol ? { proxyProtocol: { trusted: [...options.proxyProtocol.trusted] } } : {}),
    },
    fingerSessionFactory(config),
  );
  return {
    listen: (port: number, host?: string) => listener.listen(port, host),
    close: (closeOptions) => listener.close(closeOptions),
    address: () => listener.address(),
    get connections() {
      return listener.connections;
    },
    get counters() {
      return listener.counters;
    },
    [Symbol.asyncDispose]: () => listener.close({ timeoutMs: 1000 }),
  };
}
