import {
  LineSession,
  errorText,
  finishCommand,
  printable,
  splitCommand,
  startCommand,
  type Channel,
  type CommandTiming,
  type ReplyClass,
  type CommandSpec,
  type CommandTable,
  type ServerEvents,
} from '@gorgon/core';
import type { FingerLimits } from './defaults.js';
import type { FingerUser, UserDirectory } from './directory.js';
import { formatEntry, formatList, textBlock, toWire } from './format.js';
import {
  formatHost,
  forwardTarget,
  isPlainLogin,
  parseQuery,
  type FingerQuery,
  type QueryParseOptions,
  type QueryProblem,
} from './query.js';
import { replies } from './replies.js';

/**
 * A finger connection's life: `waiting` for the one query line, `answering` it (a directory
 * lookup or a forward may take a while), `done` once the reply is queued and the connection is
 * closing. RFC 1288 allows one query per connection.
 * @see RFC 1288 §2.1
 */
export type FingerState = 'waiting' | 'answering' | 'done';

/**
 * How a session forwards a `{Q2}` query: the finger client, or a stand-in in tests.
 * @see RFC 1288 §2.4
 */
export type Forwarder = (
  user: string,
  options: { host: string; port: number; verbose: boolean; timeoutMs: number; maxBytes: number },
) => Promise<string>;

/**
 * Everything a session needs, resolved from the server options.
 * @see RFC 1288 §3
 */
export interface FingerSessionConfig {
  directory: UserDirectory;
  allowList: boolean;
  forwarding: { enabled: boolean; maxHops: number; timeoutMs: number; port: number; maxBytes: number };
  limits: FingerLimits;
  forward: Forwarder;
  /** The embedder's extra queries (`commands`), when there are any. */
  table?: CommandTable<FingerState, FingerSession> | undefined;
  events?: ServerEvents | undefined;
  /** `limits` as parseQuery's options: made once per server, not per query. */
  parseOptions: QueryParseOptions;
}

/** formatEntry's options per limits object: made once, not copied for every entry of every query. */
const entryOptions = new WeakMap<FingerLimits, { plain: FingerLimits & { verbose: false }; verbose: FingerLimits & { verbose: true } }>();
function formatOptions(limits: FingerLimits, verbose: boolean): FingerLimits & { verbose: boolean } {
  let options = entryOptions.get(limits);
  if (!options) {
    options = { plain: { ...limits, verbose: false }, verbose: { ...limits, verbose: true } };
    entryOptions.set(limits, options);
  }
  return verbose ? options.verbose : options.plain;
}

/**
 * The fields {@link formatEntry} reads. A remembered entry is reused only while every one of
 * them is the same (`===`) in the user now asked for; the check below fails to compile when
 * `FingerUser` gains a field this list leaves out.
 */
const ENTRY_FIELDS = [
  'login',
  'name',
  'office',
  'officePhone',
  'homePhone',
  'directory',
  'shell',
  'plan',
  'project',
  'lastLogin',
  'loggedIn',
  'tty',
  'idleSeconds',
] as const satisfies readonly (keyof FingerUser)[];
const everyFieldListed: Exclude<keyof FingerUser, (typeof ENTRY_FIELDS)[number]> extends never ? true : never = true;
void everyFieldListed;

/** A long entry as formatted, with the user it was formatted from and, once asked for, its wire bytes. */
interface Remembered {
  user: FingerUser;
  lines: readonly string[];
  wire: Buffer | undefined;
}

/**
 * Long entries as formatted, by login, one table per limits object and verbosity: most queries
 * ask for the same few users, and formatting one (escaping, wrapping the plan) cost more than
 * the rest of the session's work. An entry is reused only while the user's every field is the
 * same, so any change to the user misses. Bounded: at most 256 entries per table (then it
 * starts over), none whose plan and project pass 8 KiB.
 */
const entryMemos = new WeakMap<FingerLimits, { plain: Map<string, Remembered>; verbose: Map<string, Remembered> }>();
const MAX_MEMO_ENTRIES = 256;
const MAX_MEMO_TEXT = 8192;

/**
 * Every field of ENTRY_FIELDS, compared by name: a loop over the list reads each field with a
 * keyed load that cost more than the rest of a remembered entry's lookup.
 */
function sameEntry(a: FingerUser, b: FingerUser): boolean {
  return (
    a === b ||
    (a.login === b.login &&
      a.name === b.name &&
      a.office === b.office &&
      a.officePhone === b.officePhone &&
      a.homePhone === b.homePhone &&
      a.directory === b.directory &&
      a.shell === b.shell &&
      a.plan === b.plan &&
      a.project === b.project &&
      a.lastLogin === b.lastLogin &&
      a.loggedIn === b.loggedIn &&
      a.tty === b.tty &&
      a.idleSeconds === b.idleSeconds)
  );
}

function rememberedEntry(user: FingerUser, limits: FingerLimits, verbose: boolean): Remembered {
  let memos = entryMemos.get(limits);
  if (!memos) {
    memos = { plain: new Map(), verbose: new Map() };
    entryMemos.set(limits, memos);
  }
  const memo = verbose ? memos.verbose : memos.plain;
  const known = memo.get(user.login);
  if (known && sameEntry(known.user, user)) return known;
  // A frozen user (a directory's own entry, from `findNow`) cannot change: kept as it is, the
  // next query for it is a hit on identity alone.
  const entry: Remembered = {
    user: Object.isFrozen(user) ? user : { ...user },
    lines: formatEntry(user, formatOptions(limits, verbose)),
    wire: undefined,
  };
  if ((user.plan?.length ?? 0) + (user.project?.length ?? 0) <= MAX_MEMO_TEXT) {
    if (memo.size >= MAX_MEMO_ENTRIES) memo.clear();
    memo.set(user.login, entry);
  }
  return entry;
}

/** One user's long entry, as lines. */
function formatEntryOnce(user: FingerUser, limits: FingerLimits, verbose: boolean): string[] {
  return rememberedEntry(user, limits, verbose).lines.slice();
}

/** One user's long entry as the whole reply on the wire: the common query, answered with bytes made once. */
function entryWire(user: FingerUser, limits: FingerLimits, verbose: boolean): Buffer {
  const entry = rememberedEntry(user, limits, verbose);
  entry.wire ??= Buffer.from(toWire(entry.lines));
  return entry.wire;
}

/**
 * An extra query an embedder adds (`commands` option): the core's command spec, matched on the
 * query's first word, whatever its case. Its handler answers with `session.reply(lines)`.
 */
export type FingerCommand = CommandSpec<FingerState, FingerCommandSession>;

/** What a custom command's `run(session, arg)` may use of the session (the public part of it). */
export interface FingerCommandSession {
  /** `answering` while a command runs. */
  readonly state: FingerState;
  /** Sends the answer (each line escaped to printable ASCII, CRLF-terminated); the connection then ends. */
  reply(lines: readonly string[]): void;
}

/** Most entries in a verbose listing or a name search: each may carry a whole plan. */
const MAX_LONG_ENTRIES = 100;

const PROBLEM_REPLY: Record<QueryProblem, (config: FingerSessionConfig) => string> = {
  'too-long': () => replies.queryTooLong,
  binary: () => replies.badCharacters,
  syntax: () => replies.badSyntax,
  'too-many-names': (config) => replies.tooManyNames(config.limits.maxNamesPerQuery),
};

/**
 * The server side of one finger connection: reads one query line, answers it from the
 * directory (or by forwarding it), and closes. Every failure ends in exactly one line of
 * reply and a log line carrying the connection id; nothing thrown reaches the wire.
 * @see RFC 1288 §2.1–§2.5, §3
 */
export class FingerSession extends LineSession implements FingerCommandSession {
  readonly #config: FingerSessionConfig;
  #state: FingerState = 'waiting';
  /** The query being timed for `commandDone` (only while someone watches). */
  #timing: CommandTiming | undefined;

  constructor(channel: Channel, config: FingerSessionConfig) {
    super(channel, { maxLineLength: config.limits.maxLineLength });
    this.#config = config;
  }

  /** Where the session is in its life. */
  get state(): FingerState {
    return this.#state;
  }

  protected override onLine(line: string): Promise<void> | undefined {
    if (this.#state !== 'waiting') return;
    this.#state = 'answering';
    const table = this.#config.table;
    const events = this.#config.events;
    if (events?.wants.commandDone) this.#timing = startCommand(events, 'QUERY');
    if (table) {
      const { verb, arg } = splitCommand(line);
      const spec = table.getUpper(verb);
      if (spec && this.#timing) this.#timing = { verb: spec.verb.toUpperCase(), started: this.#timing.started };
      const refusal = spec && table.check(this, 'waiting', spec, arg);
      if (spec && !refusal) {
        this.channel.log.info({ event: 'query', kind: 'command', verb: spec.verb }, 'finger command');
        return this.#command(table, spec, arg);
      }
      if (spec) {
        this.#finish([replies.badSyntax], '5xx');
        return;
      }
    }
    const options = this.#config.parseOptions;
    // The common query, one login, goes straight to the directory; its reply is bytes made once.
    const plain = isPlainLogin(line, options);
    let query: FingerQuery | undefined;
    if (!plain) {
      const parsed = parseQuery(line, options);
      if (!parsed.ok) {
        this.channel.log.warn({ event: 'bad-query', problem: parsed.problem, query: printable(line) }, `refused query: ${parsed.detail}`);
        this.#finish([PROBLEM_REPLY[parsed.problem](this.#config)], '5xx');
        return;
      }
      query = parsed.query;
    }
    // Not built for a logger that drops it: printable() and the connection's child logger on
    // every query add up.
    if (this.channel.logs('info'))
      this.channel.log.info({ event: 'query', kind: query?.kind ?? 'user', query: printable(line) }, 'finger query');
    if (!query) return this.#single(line, false);
    if (query.kind === 'user' && query.names.length === 1) return this.#single(query.names[0]!, query.verbose);
    return this.#answer(query).then(this.#finish.bind(this), this.#directoryFailed.bind(this));
  }

  #directoryFailed(err: unknown): void {
    this.channel.counters.errors++;
    this.channel.log.error({ event: 'directory-error' }, `user directory failed: ${errorText(err)}`);
    this.#finish([replies.unavailable], '4xx');
  }

  /** An embedder's command; a session it did not answer ends with an empty reply. */
  async #command(
    table: CommandTable<FingerState, FingerSession>,
    spec: CommandSpec<FingerState, FingerSession>,
    arg: string,
  ): Promise<void> {
    await table.run(this, 'waiting', spec, arg);
    if ((this.#state as FingerState) !== 'done') this.#finish([]);
  }

  protected override onLineTooLong(): void {
    if (this.#state !== 'waiting') return;
    this.#state = 'answering';
    this.channel.log.warn(
      { event: 'bad-query', problem: 'too-long' },
      `refused query: longer than ${this.#config.limits.maxLineLength} bytes`,
    );
    const events = this.#config.events;
    if (events?.wants.commandDone) this.#timing = startCommand(events, 'QUERY');
    this.#finish([replies.queryTooLong], '5xx');
  }

  protected override handleTimeout(kind: 'idle' | 'total'): void {
    switch (this.#state) {
      case 'waiting':
        this.#finish([replies.timedOut], '4xx');
        return;
      case 'answering':
        // No input or output moves while a lookup or forward runs: that is not idleness, so
        // the idle notice is declined. The forward has its own timeout, and the total timeout
        // (which cannot be declined) bounds a directory that hangs.
        if (kind === 'total') this.#finish([replies.timedOut], '4xx');
        else this.channel.touch();
        return;
      case 'done':
        // The reply is written but the peer does not read it: drop the connection.
        this.close({ flush: false });
        return;
    }
  }

  protected override handleShutdown(): void {
    // A query being answered is let finish; the listener closes it after its grace period.
    if (this.#state === 'waiting') this.#finish([replies.shuttingDown], '4xx');
  }

  protected override handleError(err: unknown): void {
    this.channel.counters.errors++;
    this.channel.log.error({ event: 'handler-error' }, errorText(err));
    if (this.#state !== 'done') this.#finish([replies.unavailable], '4xx');
    else this.close({ flush: true });
  }

  /** Answers the query with `lines` (CRLF added) and closes: for an embedder's commands. */
  reply(lines: readonly string[]): void {
    this.#finish(lines);
  }

  /** Queues the reply (lines, or the bytes of a remembered entry) and closes once it is written: one reply per connection. */
  #finish(lines: readonly string[] | Buffer, reply: ReplyClass = '2xx'): void {
    if (this.#state === 'done' || this.closing) return;
    this.#state = 'done';
    const wire = Buffer.isBuffer(lines) ? lines : toWire(lines);
    const events = this.#config.events;
    // finger has no reply codes: an answer is `2xx`, a refused query `5xx`, a failure `4xx`.
    if (this.#timing && events) this.#timing = finishCommand(events, this.channel.id, this.#timing, reply);
    if (events?.wants.transfer) {
      const bytes = Buffer.byteLength(wire);
      events.emit('transfer', {
        id: this.channel.id,
        kind: 'query',
        user: undefined,
        path: '',
        bytes,
        ms: Date.now() - this.channel.openedAt,
        ok: true,
      });
    }
    this.closeWhenDone(wire);
  }

  async #answer(query: FingerQuery): Promise<string[]> {
    switch (query.kind) {
      case 'list':
        return this.#list(query.verbose);
      case 'user':
        return this.#users(query.names, query.verbose);
      case 'forward':
        return this.#forward(query);
    }
  }

  /** @see RFC 1288 §2.5.1, §3.2.2 */
  async #list(verbose: boolean): Promise<string[]> {
    if (!this.#config.allowList) return [replies.listDenied];
    const { directory, limits } = this.#config;
    const users = await directory.list();
    if (!verbose) return formatList(users, limits);
    if (users.length === 0) return [replies.noUsers];
    const shown: FingerUser[] = [];
    // list() may leave plans out; find() gives the whole entry.
    for (const user of users.slice(0, MAX_LONG_ENTRIES)) shown.push((await directory.find(user.login)) ?? user);
    const lines = this.#entries(shown, true);
    if (users.length > MAX_LONG_ENTRIES) lines.push('', replies.moreUsers(users.length - MAX_LONG_ENTRIES));
    return lines;
  }

  /** One name: its login's entry as wire bytes, else what a real-name search finds. */
  #single(name: string, verbose: boolean): Promise<void> | undefined {
    const { directory, limits } = this.#config;
    let lookup: Promise<FingerUser | undefined>;
    try {
      if (directory.findNow) {
        const now = directory.findNow(name);
        if (now) {
          this.#finish(entryWire(now, limits, verbose));
          return undefined;
        }
        if (now === undefined) return this.#search(name, verbose);
      }
      lookup = directory.find(name);
    } catch (err) {
      this.#directoryFailed(err); // a directory that throws rather than rejects
      return undefined;
    }
    return lookup.then(
      (exact) => (exact ? this.#finish(entryWire(exact, limits, verbose)) : this.#search(name, verbose)),
      this.#directoryFailed.bind(this),
    );
  }

  /** One name that is no login: the users whose real name it matches. */
  async #search(name: string, verbose: boolean): Promise<void> {
    let matches: FingerUser[];
    try {
      matches = (await this.#config.directory.search?.(name)) ?? [];
    } catch (err) {
      this.#directoryFailed(err);
      return;
    }
    this.#finish(this.#found([[name, matches]], verbose));
  }

  /** Login first, then real name: @see RFC 1288 §2.5.2, §2.5.3 */
  async #users(names: readonly string[], verbose: boolean): Promise<string[]> {
    const { directory } = this.#config;
    const results: [string, FingerUser[]][] = [];
    for (const name of names) {
      const exact = await directory.find(name);
      results.push([name, exact ? [exact] : ((await directory.search?.(name)) ?? [])]);
    }
    return this.#found(results, verbose);
  }

  /** The reply to a `{U}` query from what each name matched, in the order asked. */
  #found(results: readonly [string, readonly FingerUser[]][], verbose: boolean): string[] {
    const found = new Map<string, FingerUser>();
    const missing: string[] = [];
    for (const [name, matches] of results) {
      if (matches.length === 0) missing.push(name);
      for (const user of matches) if (!found.has(user.login)) found.set(user.login, user);
    }
    const users = [...found.values()];
    const lines = this.#entries(users.slice(0, MAX_LONG_ENTRIES), verbose);
    if (users.length > MAX_LONG_ENTRIES) lines.push('', replies.moreUsers(users.length - MAX_LONG_ENTRIES));
    if (missing.length > 0 && lines.length > 0) lines.push('');
    for (const name of missing) lines.push(replies.noSuchUser(name));
    return lines;
  }

  #entries(users: readonly FingerUser[], verbose: boolean): string[] {
    const limits = this.#config.limits;
    if (users.length === 1) return formatEntryOnce(users[0]!, limits, verbose);
    const lines: string[] = [];
    for (const user of users) {
      if (lines.length > 0) lines.push('');
      lines.push(...formatEntryOnce(user, limits, verbose));
    }
    return lines;
  }

  /** @see RFC 1288 §2.4, §3.2.1 */
  async #forward(query: Extract<FingerQuery, { kind: 'forward' }>): Promise<string[]> {
    const { forwarding, limits } = this.#config;
    if (!forwarding.enabled) return [replies.forwardingDenied];
    if (query.hosts.length > forwarding.maxHops) return [replies.tooManyHops(forwarding.maxHops)];
    const { user, next } = forwardTarget(query);
    if (next.port !== undefined && next.port !== forwarding.port) return [replies.forwardPortDenied];
    const where = formatHost(next);
    let text: string;
    try {
      text = await this.#config.forward(user, {
        host: next.host,
        port: forwarding.port,
        verbose: query.verbose,
        timeoutMs: forwarding.timeoutMs,
        maxBytes: forwarding.maxBytes,
      });
    } catch (err) {
      this.channel.log.warn({ event: 'forward-failed', host: where }, `forwarding to ${where} failed: ${errorText(err)}`);
      return [replies.forwardFailed(where)];
    }
    this.channel.log.info({ event: 'forwarded', host: where }, `forwarded query to ${where}`);
    return [
      replies.forwardedFrom(where),
      ...textBlock(text, { width: limits.lineWidth, maxLines: Number.POSITIVE_INFINITY, maxBytes: forwarding.maxBytes }),
    ];
  }
}
