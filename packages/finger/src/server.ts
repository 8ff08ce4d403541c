import {
  checkCommonOptions,
  observeCommands,
  CommandTable,
  createProtocolServer,
  resolveLimits,
  ServerEvents,
  ServerOptionError,
  silentLogger,
  toSecureContext,
  type Channel,
  type CommonServerOptions,
  type GorgonServer,
  type ServerEventMap,
} from '@gorgon/core';
import { finger } from './client.js';
import { defaultFingerLimits, type FingerLimits } from './defaults.js';
import type { UserDirectory } from './directory.js';
import { toWire } from './format.js';
import { replies } from './replies.js';
import { FingerSession, type FingerCommand, type FingerSessionConfig, type FingerState, type Forwarder } from './session.js';

/**
 * Options of {@link createFingerServer}: the common server options (`store`, `logger`, `tls`,
 * `limits`, `proxyProtocol`, `commands`, `hooks`, `on`) and finger's own. Defaults are in
 * `defaultFingerLimits`.
 * @see RFC 1288 §2.1, §3
 */
export interface FingerServerOptions extends CommonServerOptions<FingerLimits, UserDirectory, FingerCommand> {
  /** Where users are looked up. */
  store?: UserDirectory;
  /** @deprecated The old name of `store`. */
  directory?: UserDirectory;
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
  /** @deprecated Use `limits.maxLineLength`. */
  maxQueryLength?: number;
  /** @deprecated Use `limits.idleTimeoutMs`. */
  idleTimeoutMs?: number;
  /** @deprecated Use `limits.totalTimeoutMs`. */
  totalTimeoutMs?: number;
  /** @deprecated Use `limits.maxConnections`. */
  maxConnections?: number;
  /** @deprecated Use `limits.maxConnectionsPerIp`. */
  maxConnectionsPerIp?: number;
}

/**
 * A finger server made by {@link createFingerServer}: the core's one server shape.
 * @see RFC 1288 §2.1
 */
export type FingerServer = GorgonServer;

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ServerOptionError('finger', name, `must be a whole number of at least 1, got ${String(value)}`);
  }
  return value;
}

function portNumber(value: number | undefined, fallback: number): number {
  const port = positive(value, 'forwarding.port', fallback);
  if (port > 65535) throw new ServerOptionError('finger', 'forwarding.port', `must be at most 65535, got ${port}`);
  return port;
}

const defaultForwarder: Forwarder = (user, options) => finger(user, options);

/** The deprecated top-level limits, under their names in `limits`. */
function legacyLimits(options: FingerServerOptions): Partial<FingerLimits> {
  const legacy: Record<string, number | undefined> = {
    maxLineLength: options.maxQueryLength,
    idleTimeoutMs: options.idleTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs,
    maxConnections: options.maxConnections,
    maxConnectionsPerIp: options.maxConnectionsPerIp,
  };
  return Object.fromEntries(Object.entries(legacy).filter(([, v]) => v !== undefined)) as Partial<FingerLimits>;
}

/**
 * Checks the options and resolves them into a session configuration. Throws a
 * `ServerOptionError` with one sentence for a bad option.
 * @see RFC 1288 §3
 */
export function resolveFingerConfig(options: FingerServerOptions, forward: Forwarder = defaultForwarder): FingerSessionConfig {
  checkCommonOptions('finger', options);
  const directory = (options.store ?? options.directory) as Partial<UserDirectory> | undefined;
  if (typeof directory?.list !== 'function' || typeof directory.find !== 'function') {
    throw new ServerOptionError('finger', 'store', 'must be a UserDirectory (with list() and find())');
  }
  const limits = resolveLimits('finger', defaultFingerLimits, { ...legacyLimits(options), ...options.limits }, { totalTimeoutMs: 1 });
  const fwd = options.forwarding;
  const events = new ServerEvents(options.logger ?? silentLogger);
  for (const [name, fn] of Object.entries(options.on ?? {})) events.on(name as keyof ServerEventMap, fn as (e: unknown) => void);
  const table = options.commands?.length ? new CommandTable<FingerState, FingerSession>(options.commands) : undefined;
  if (table) observeCommands(table, events);
  return {
    directory: directory as UserDirectory,
    allowList: options.allowList ?? true,
    forwarding: {
      enabled: fwd?.enabled === true,
      maxHops: positive(fwd?.maxHops, 'forwarding.maxHops', limits.maxHops),
      timeoutMs: positive(fwd?.timeoutMs, 'forwarding.timeoutMs', limits.forwardTimeoutMs),
      port: portNumber(fwd?.port, limits.forwardPort),
      maxBytes: positive(fwd?.maxBytes, 'forwarding.maxBytes', limits.forwardMaxBytes),
    },
    limits,
    parseOptions: { maxLength: limits.maxLineLength, maxNames: limits.maxNamesPerQuery },
    forward,
    table,
    events,
  };
}

/**
 * A session factory for a test's in-memory channel.
 * @see RFC 1288 §2.1
 */
export function fingerSessionFactory(config: FingerSessionConfig): (channel: Channel) => FingerSession {
  return (channel) => new FingerSession(channel, config);
}

/**
 * Creates a finger server: the core's server shape whose connections each get one
 * {@link FingerSession}. Connections over `limits.maxConnections` (or `maxConnectionsPerIp`)
 * get one "too many connections" line and are closed.
 *
 * ```ts
 * await using server = createFingerServer({ store: new MemoryUserDirectory(users) });
 * const { port } = await server.listen(7979);
 * ```
 * @see RFC 1288 §2.1
 */
export function createFingerServer(options: FingerServerOptions): FingerServer {
  const config = resolveFingerConfig(options);
  const session = fingerSessionFactory(config);
  return createProtocolServer({
    name: 'finger',
    logger: options.logger ?? silentLogger,
    limits: config.limits,
    secureContext: options.tls ? toSecureContext(options.tls) : undefined,
    proxyProtocol: options.proxyProtocol,
    hooks: options.hooks,
    events: config.events!,
    rejectReply: () => toWire([replies.tooManyConnections]),
    createSession: (channel) => void session(channel),
  });
}
