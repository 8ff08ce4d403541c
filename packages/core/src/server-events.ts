import { errorText } from './errors.js';
import type { Logger } from './logger.js';

/** Who a connection is, as the `connect` hook and every event see it. */
export interface ConnectionInfo {
  /** The connection id on every log line (`pop3-1a`). */
  id: string;
  /** The client address (from the PROXY header when trusted). */
  remoteAddress: string;
  remotePort: number;
  /** TLS from the first byte (the `listenTls` port, or `accept(stream, { implicitTls })`). */
  secure: boolean;
  /** Which door it came in by: the plain port, the implicit-TLS port, or `accept()`. */
  via: 'listen' | 'listenTls' | 'accept';
}

/**
 * The events every protocol server emits, with the same names and fields in every protocol. A
 * protocol without logins or transfers simply never emits those.
 */
export interface ServerEventMap {
  /** A connection was admitted (after the limits and the `connect` hook). */
  connect: ConnectionInfo;
  /** A login succeeded. */
  login: { id: string; remoteAddress: string; user: string; mechanism: string };
  /**
   * A login failed: `credentials` (unknown user or wrong password, the two are never told
   * apart) or `unavailable` (the authenticator threw: a temporary failure, not counted).
   */
  loginFailed: { id: string; remoteAddress: string; user: string; mechanism: string; reason: 'credentials' | 'unavailable' };
  /** A command passed the gate and its handler is about to run (the verb, never its argument). */
  command: { id: string; verb: string; state: string };
  /**
   * Data moved for the client: a POP3 `retrieve`, an FTP `download`/`upload`/`list`, a finger
   * `query`. `ok` is false for an aborted or failed transfer.
   */
  transfer: { id: string; kind: string; user: string | undefined; path: string; bytes: number; ms: number; ok: boolean };
  /** A connection closed. */
  close: { id: string; remoteAddress: string; bytesIn: number; bytesOut: number };
  /**
   * A command got its final reply: `verb` is the table's verb (`UNKNOWN` for a verb the
   * protocol does not have, so a client cannot grow the set), `reply` its class (`2xx`…`5xx`;
   * POP3's `+OK` is `2xx` and `-ERR` is `5xx`), `ms` the time from the command line to that
   * reply. A preliminary reply (FTP's 1xx) does not end a command: a RETR ends with its 226.
   */
  commandDone: { id: string; verb: string; reply: ReplyClass; ms: number };
  /**
   * A connection was turned away before any session: a limit (`max-connections`,
   * `max-per-ip`), the `connect` hook (`refused`), or the process out of file descriptors
   * (`fd-exhausted`, once per burst: the dropped connections themselves are never seen).
   */
  refused: { listener: string; remoteAddress: string; reason: RefusalReason };
  /** A TLS handshake ended: on the implicit-TLS port, or an upgrade (STLS, STARTTLS, AUTH TLS). */
  tls: { id: string; kind: 'implicit' | 'upgrade'; ok: boolean };
  /**
   * Something went wrong and was logged as a warning or an error: `kind` is the log line's
   * `event` (`handler-error`, `producer-error`, `socket-error`, `tls-failed`, `reject`…).
   */
  error: { id: string | undefined; kind: string; level: 'warn' | 'error'; message: string };
}

/** A reply's class: its first digit (POP3: `+OK` is `2xx`, `-ERR` is `5xx`; HTTP: the status class). */
export type ReplyClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** Why a connection was refused ({@link ServerEventMap.refused}). */
export type RefusalReason = 'max-connections' | 'max-per-ip' | 'refused' | 'fd-exhausted';

const CLASSES: readonly ReplyClass[] = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx', '5xx', '5xx', '5xx', '5xx'];

/** The class of a numeric reply code (FTP, NNTP, HTTP): 226 → `2xx`. */
export function replyClassOf(code: number): ReplyClass {
  return CLASSES[Math.floor(code / 100) % 10] ?? '5xx';
}

/** What the embedder decides, as opposed to what it watches (events). */
export interface ServerHooks {
  /**
   * Runs for every connection before its greeting: return `false` (or a promise of it) to
   * refuse it; it gets the protocol's "not available" reply and is closed. A hook that throws
   * refuses too (and is logged). Input waits until the hook has decided.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook written as a plain function that returns nothing is typed `void`, not `undefined`; both must be accepted
  connect?(info: ConnectionInfo): boolean | void | Promise<boolean | void>;
}

type Listener<T> = (event: T) => void;

/**
 * A small typed event emitter: `on(name, fn)` returns the function that removes `fn`. Emitting
 * an event nobody listens to costs one property read (`wants`), so the per-command event is
 * free on a server without listeners. A listener that throws is logged, never propagated.
 */
export class ServerEvents {
  readonly #listeners: { [K in keyof ServerEventMap]?: Array<Listener<ServerEventMap[K]>> } = {};
  readonly #logger: Logger;
  readonly #watchers: Array<() => void> = [];
  /** Per event, whether anyone listens: check before building an event object on a hot path. */
  readonly wants: { [K in keyof ServerEventMap]: boolean } = {
    connect: false,
    login: false,
    loginFailed: false,
    command: false,
    transfer: false,
    close: false,
    commandDone: false,
    refused: false,
    tls: false,
    error: false,
  };

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<K extends keyof ServerEventMap>(name: K, fn: Listener<ServerEventMap[K]>): () => void {
    if (!(name in this.wants)) throw new TypeError(`unknown server event "${String(name)}"`);
    this.#listeners[name] ??= [];
    const list = this.#listeners[name] as Array<Listener<ServerEventMap[K]>>;
    list.push(fn);
    this.#set(name, true);
    return () => this.off(name, fn);
  }

  /** Runs `fn` whenever an event gains its first listener or loses its last. */
  onWantsChange(fn: () => void): void {
    this.#watchers.push(fn);
  }

  #set(name: keyof ServerEventMap, wanted: boolean): void {
    if (this.wants[name] === wanted) return;
    this.wants[name] = wanted;
    for (const fn of this.#watchers) fn();
  }

  off<K extends keyof ServerEventMap>(name: K, fn: Listener<ServerEventMap[K]>): void {
    const list = this.#listeners[name] as Array<Listener<ServerEventMap[K]>> | undefined;
    const i = list?.indexOf(fn) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    this.#set(name, (list?.length ?? 0) > 0);
  }

  emit<K extends keyof ServerEventMap>(name: K, event: ServerEventMap[K]): void {
    const list = this.#listeners[name] as Array<Listener<ServerEventMap[K]>> | undefined;
    if (!list || list.length === 0) return;
    // One listener (the usual case: the metrics) is called without copying the list.
    if (list.length === 1) {
      this.#call(name, list[0]!, event);
      return;
    }
    for (const fn of [...list]) this.#call(name, fn, event);
  }

  #call<K extends keyof ServerEventMap>(name: K, fn: Listener<ServerEventMap[K]>, event: ServerEventMap[K]): void {
    try {
      fn(event);
    } catch (err) {
      this.#logger.error({ event: 'listener-error', name }, `a ${name} event listener threw: ${errorText(err)}`);
    }
  }
}

/**
 * The server's logger with a tap: every warning and error line also becomes an `error` event
 * (while someone watches), its `event` field the kind. Children carry the tap, and the
 * connection id (`conn`) of their bindings.
 */
export function tapLogger(logger: Logger, events: ServerEvents): Logger {
  return new TappedLogger(logger, events, undefined);
}

/** A class, not closures: one small object per connection that logs, methods shared. */
class TappedLogger implements Logger {
  readonly #inner: Logger;
  readonly #events: ServerEvents;
  readonly #conn: string | undefined;

  constructor(inner: Logger, events: ServerEvents, conn: string | undefined) {
    this.#inner = inner;
    this.#events = events;
    this.#conn = conn;
  }

  debug(obj: object | string, msg?: string): void {
    this.#inner.debug(obj, msg);
  }

  info(obj: object | string, msg?: string): void {
    this.#inner.info(obj, msg);
  }

  warn(obj: object | string, msg?: string): void {
    this.#inner.warn(obj, msg);
    if (this.#events.wants.error) this.#tap('warn', obj, msg);
  }

  error(obj: object | string, msg?: string): void {
    this.#inner.error(obj, msg);
    if (this.#events.wants.error) this.#tap('error', obj, msg);
  }

  child(bindings: Record<string, unknown>): Logger {
    return new TappedLogger(this.#inner.child(bindings), this.#events, typeof bindings.conn === 'string' ? bindings.conn : this.#conn);
  }

  isLevelEnabled(level: 'debug' | 'info' | 'warn' | 'error'): boolean {
    return this.#inner.isLevelEnabled ? this.#inner.isLevelEnabled(level) : true;
  }

  #tap(level: 'warn' | 'error', obj: object | string, msg: string | undefined): void {
    const fields = typeof obj === 'string' ? undefined : (obj as { event?: unknown; conn?: unknown });
    const kind = typeof fields?.event === 'string' ? fields.event : 'other';
    const message = typeof obj === 'string' ? obj : (msg ?? '');
    const id = typeof fields?.conn === 'string' ? fields.conn : this.#conn;
    this.#events.emit('error', { id, kind, level, message });
  }
}

/**
 * One command being timed for the `commandDone` event. Sessions make one per command only
 * while someone listens ({@link startCommand}), so an unwatched server pays one property read.
 */
export interface CommandTiming {
  readonly verb: string;
  readonly started: number;
}

/**
 * The clock of command durations: read once per synchronous run of the event loop and reused
 * until the next microtask. Reading a clock costs 250-350 ns on some virtual machines (no vDSO
 * clock source), more than a pipelined command itself; a run of pipelined commands now reads
 * it once. The price: a command that starts and ends within one run (no wait for storage or
 * the network) measures 0 ms. A command that waits is timed from the run it started in to the
 * run its reply went out in.
 */
let runNow = -1;
const forgetNow = (): void => {
  runNow = -1;
};
function commandClock(): number {
  if (runNow < 0) {
    runNow = performance.now();
    queueMicrotask(forgetNow);
  }
  return runNow;
}

/** Starts timing a command, or returns undefined when nobody watches `commandDone`. */
export function startCommand(events: ServerEvents, verb: string): CommandTiming | undefined {
  return events.wants.commandDone ? { verb, started: commandClock() } : undefined;
}

/** Ends a timed command with its final reply's class; returns undefined (the session's new timing). */
export function finishCommand(events: ServerEvents, id: string, timing: CommandTiming, reply: ReplyClass): undefined {
  events.emit('commandDone', { id, verb: timing.verb, reply, ms: commandClock() - timing.started });
  return undefined;
}

/**
 * Wires a command table to the server's `command` event: the table gets an observer only while
 * someone listens, so dispatch costs nothing extra on a server without `command` listeners.
 */
export function observeCommands<S extends { readonly channel: { readonly id: string } }>(
  table: { observe(observer: ((session: S, verb: string, state: string) => void) | undefined): void },
  events: ServerEvents,
): void {
  const emit = (session: S, verb: string, state: string): void => events.emit('command', { id: session.channel.id, verb, state });
  const update = (): void => table.observe(events.wants.command ? emit : undefined);
  events.onWantsChange(update);
  update();
}
