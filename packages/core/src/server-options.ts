import type { Authenticator } from './auth/authenticator.js';
import type { CommandSpec } from './command-table.js';
import type { Logger } from './logger.js';
import type { ServerEventMap, ServerHooks } from './server-events.js';
import type { TlsServerOptions } from './tls.js';

/**
 * The limits every protocol server has, under the same names and with the same meaning. A
 * protocol adds its own (FTP's `dataConnectTimeoutMs`, finger's `maxHops`) beside these, in
 * its `defaults.ts`. Every value is a whole number of milliseconds, bytes or times; for the
 * connection caps and `loginTimeoutMs`, 0 means no limit.
 */
export interface ServerLimits {
  /**
   * Longest command or query line in bytes, **CRLF excluded** (the line end is never counted,
   * in any protocol). A longer line gets the protocol's error reply and is discarded up to its
   * line end. A protocol whose RFC states the limit with the CRLF (POP3's 255 octets, RFC 2449
   * §4) sets its default two bytes lower.
   */
  readonly maxLineLength: number;
  /** Close a connection after this long without a complete command (the protocol's reply). */
  readonly idleTimeoutMs: number;
  /** Close any connection after this long in all. 0 = no limit. */
  readonly totalTimeoutMs: number;
  /** Close a connection that has not logged in within this long (slowloris guard). 0 = none. */
  readonly loginTimeoutMs: number;
  /** Connections open at once on one listener; more get the protocol's "try later". 0 = no limit. */
  readonly maxConnections: number;
  /** Connections open at once from one address. 0 = no limit. */
  readonly maxConnectionsPerIp: number;
  /** Failed logins on one connection before it is closed. */
  readonly maxAuthFailures: number;
  /** Unknown or refused commands on one connection before it is closed. */
  readonly maxUnknownCommands: number;
  /** How long a flushing close may take before the socket is destroyed. */
  readonly closeTimeoutMs: number;
  /** How long a graceful `close()` waits for sessions to say goodbye. */
  readonly shutdownTimeoutMs: number;
}

/** The PROXY protocol option, the same in every protocol. */
export interface ProxyProtocolOptions {
  /** Addresses or subnets (HAProxy) whose PROXY v1/v2 header gives the client address. */
  trusted: readonly string[];
  /** How long to wait for the header (ms). Default 5000. */
  timeoutMs?: number;
}

/**
 * The options every `createXServer(options)` takes under these names. A protocol adds its own
 * (`mechanisms`, `passivePorts`, `allowList`) beside them.
 */
export interface CommonServerOptions<L extends ServerLimits, Store, Cmd extends CommandSpec<string, never> = CommandSpec<string, never>> {
  /** Where the protocol's data lives: a MaildropStore, a VirtualFs, a UserDirectory, … */
  store?: Store;
  /** Who may log in (protocols without logins ignore it). */
  auth?: Authenticator;
  /** Structured logger (pino or compatible); every line carries the connection id. */
  logger?: Logger;
  /** Certificate and key: enables the STARTTLS-style upgrade and `listenTls` (implicit TLS). */
  tls?: TlsServerOptions;
  /** Limits and timeouts; see {@link ServerLimits} and the protocol's defaults. Validated. */
  limits?: Partial<L>;
  /** Take the client address from a PROXY header sent by these addresses (HAProxy in front). */
  proxyProtocol?: ProxyProtocolOptions;
  /** Extra or replacing commands (the core's CommandSpec shape, with the protocol's session). */
  commands?: readonly Cmd[];
  /** What the embedder decides: `connect` may refuse a connection. */
  hooks?: ServerHooks;
  /** Event listeners to attach at once (the same as `server.on(name, fn)` afterwards). */
  on?: { [K in keyof ServerEventMap]?: (event: ServerEventMap[K]) => void };
}

/**
 * A bad server option. Its message is one sentence naming the protocol, the option and what
 * was wrong: `pop3 server option limits.maxLineLength must be a whole number of at least 1, got -1.`
 */
export class ServerOptionError extends TypeError {
  /** The option's path (`limits.maxLineLength`). */
  readonly option: string;
  constructor(protocol: string, option: string, problem: string) {
    super(`${protocol} server option ${option} ${problem}.`);
    this.name = 'ServerOptionError';
    this.option = option;
  }
}

/** Per limit, the least value allowed (default 0; 0 means "no limit" where that makes sense). */
export type LimitMinimums<L> = Partial<Record<keyof L, number>>;

/** The common limits that must be at least 1 (0 would make no sense). */
const AT_LEAST_ONE: ReadonlySet<string> = new Set(['maxLineLength', 'maxAuthFailures', 'maxUnknownCommands', 'idleTimeoutMs']);

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * Checks `given` against the protocol's defaults and returns the resolved limits: unknown names
 * are refused (a typo must not silently keep a default), every value must be a whole number at
 * least its minimum (1 for line lengths, failure counts and the idle timeout, else 0).
 */
export function resolveLimits<L extends object>(protocol: string, defaults: L, given: unknown, minimums: LimitMinimums<L> = {}): L {
  if (given === undefined) return defaults;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new ServerOptionError(protocol, 'limits', `must be an object, got ${describe(given)}`);
  }
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [name, value] of Object.entries(given)) {
    if (!(name in defaults)) {
      throw new ServerOptionError(protocol, `limits.${name}`, `is not a limit (known: ${Object.keys(defaults).join(', ')})`);
    }
    if (value === undefined) continue;
    const min = (minimums as Record<string, number | undefined>)[name] ?? (AT_LEAST_ONE.has(name) ? 1 : 0);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new ServerOptionError(protocol, `limits.${name}`, `must be a whole number of at least ${min}, got ${describe(value)}`);
    }
    out[name] = value;
  }
  return Object.freeze(out) as L;
}

/**
 * Checks the options every server shares (`logger`, `tls`, `auth`, `proxyProtocol`, `commands`,
 * `hooks`, `on`): the same checks and the same one-sentence {@link ServerOptionError} in every
 * protocol. Limits are checked by {@link resolveLimits}.
 */
export function checkCommonOptions(protocol: string, options: unknown): void {
  if (options === null || typeof options !== 'object') {
    throw new ServerOptionError(protocol, 'options', `must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  const fail = (option: string, problem: string): never => {
    throw new ServerOptionError(protocol, option, problem);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (o['logger'] !== undefined) {
    const logger = o['logger'] as Record<string, unknown>;
    for (const level of ['info', 'warn', 'error', 'debug', 'child']) {
      if (typeof logger?.[level] !== 'function') fail('logger', `must be a Logger (pino or compatible), with ${level}()`);
    }
  }
  if (o['tls'] !== undefined && !isObject(o['tls']))
    fail('tls', `must be an object (cert and key, or secureContext), got ${describe(o['tls'])}`);
  if (o['auth'] !== undefined && typeof (o['auth'] as Record<string, unknown> | null)?.['authenticate'] !== 'function') {
    fail('auth', 'must be an Authenticator, with authenticate()');
  }
  const proxy = o['proxyProtocol'];
  if (proxy !== undefined) {
    if (!isObject(proxy)) fail('proxyProtocol', `must be an object ({ trusted: [...] }), got ${describe(proxy)}`);
    const p = proxy as Record<string, unknown>;
    const trusted = p['trusted'];
    if (!Array.isArray(trusted) || !trusted.every((t) => typeof t === 'string' && t !== '')) {
      fail('proxyProtocol.trusted', 'must be a list of addresses or subnets');
    }
    const timeout = p['timeoutMs'];
    if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 1)) {
      fail('proxyProtocol.timeoutMs', `must be a whole number of at least 1, got ${describe(timeout)}`);
    }
  }
  const commands = o['commands'];
  if (commands !== undefined) {
    if (!Array.isArray(commands)) fail('commands', `must be a list of commands, got ${describe(commands)}`);
    (commands as unknown[]).forEach((c, i) => {
      const spec = c as Record<string, unknown> | null;
      if (!isObject(spec) || typeof spec['verb'] !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(spec['verb'])) {
        fail(`commands[${i}].verb`, 'must be a word of letters, digits and dashes');
      }
      if (typeof spec!['run'] !== 'function') fail(`commands[${i}].run`, 'must be a function');
      const args = spec!['args'];
      if (args !== 'none' && args !== 'optional' && args !== 'required')
        fail(`commands[${i}].args`, `must be 'none', 'optional' or 'required', got ${describe(args)}`);
    });
  }
  for (const key of ['hooks', 'on'] as const) {
    const value = o[key];
    if (value === undefined) continue;
    if (!isObject(value)) fail(key, `must be an object of functions, got ${describe(value)}`);
    for (const [name, fn] of Object.entries(value as Record<string, unknown>)) {
      if (typeof fn !== 'function') fail(`${key}.${name}`, `must be a function, got ${describe(fn)}`);
    }
  }
}
