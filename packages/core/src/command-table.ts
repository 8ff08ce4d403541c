/** How a command takes its argument. */
export type ArgumentRule = 'none' | 'optional' | 'required';

/**
 * One row of a protocol's command table, the same shape in every protocol (and for an
 * embedder's extra commands): the verb, its argument rule, the states it is valid in, whether
 * it needs a logged-in user and which permission, its help text, the capability it advertises
 * (CAPA, FEAT), and its handler.
 */
export interface CommandSpec<State extends string, S> {
  verb: string;
  args: ArgumentRule;
  /** The states it is valid in; omitted: every state. */
  states?: readonly State[];
  /** Needs a logged-in user (the table's `loggedIn` check). Default false. */
  login?: boolean;
  /** The permission it needs (the table's `permitted` check). */
  permission?: string;
  /** Syntax and meaning, for HELP. */
  help: string;
  /**
   * The line it adds to CAPA / FEAT: a fixed string, or one per session (or none there,
   * `undefined`: STLS once the connection is secure).
   */
  capability?: string | ((session: S) => string | undefined);
  run(session: S, arg: string): void | Promise<void>;
}

/** Why the gate refused a command before its handler ran. */
export type GateRefusal =
  | { kind: 'unknown'; verb: string }
  | { kind: 'wrong-state'; spec: CommandSpec<string, unknown> }
  | { kind: 'login-required'; spec: CommandSpec<string, unknown> }
  | { kind: 'syntax'; spec: CommandSpec<string, unknown>; reason: 'missing-argument' | 'unexpected-argument' }
  | { kind: 'permission'; spec: CommandSpec<string, unknown> };

/** How the gate learns about a session: whether it is logged in and what it may do. */
export interface CommandGate<S> {
  /**
   * An argument of blanks counts as given (FTP: a name may be spaces; RFC 959 §5.3.2 reads the
   * argument to the line end). Default false: blanks are no argument.
   */
  blankIsArgument?: boolean;
  loggedIn?(session: S): boolean;
  permitted?(session: S, permission: string): boolean;
}

/** What the table tells an observer (the server's `command` event) about each command it runs. */
export type CommandObserver<S> = (session: S, verb: string, state: string) => void;

/** A command line split at its first space: the verb upper-cased, the rest as given. */
export function splitCommand(line: string): { verb: string; arg: string } {
  const space = line.indexOf(' ');
  if (space === -1) return { verb: line.toUpperCase(), arg: '' };
  return { verb: line.slice(0, space).toUpperCase(), arg: line.slice(space + 1) };
}

/**
 * A protocol's commands by verb, and the one generic gate that answers unknown verbs, wrong
 * states, missing logins, argument errors and missing permissions before any handler runs.
 * HELP, CAPA and FEAT are generated from it. Rows given later replace earlier rows of the same
 * verb (an embedder's `commands` option), keeping their place.
 */
export class CommandTable<State extends string, S, Spec extends CommandSpec<State, S> = CommandSpec<State, S>> {
  readonly #byVerb = new Map<string, Spec>();
  readonly #gate: CommandGate<S>;
  #observer: CommandObserver<S> | undefined;

  constructor(specs: ReadonlyArray<Spec>, gate: CommandGate<S> = {}) {
    for (const spec of specs) this.#byVerb.set(spec.verb.toUpperCase(), spec);
    this.#gate = gate;
  }

  /** Every command, in table order (for HELP, CAPA, FEAT). */
  get specs(): Spec[] {
    return [...this.#byVerb.values()];
  }

  /** The command for `verb`, whatever its case. */
  get(verb: string): Spec | undefined {
    return this.#byVerb.get(verb.toUpperCase());
  }

  /** The command for a verb already upper-cased (`splitCommand`'s): the dispatch hot path. */
  getUpper(verb: string): Spec | undefined {
    return this.#byVerb.get(verb);
  }

  /**
   * The verb of a command line as metrics may label it: the table's verb, or `UNKNOWN` for
   * one the table does not have (a client must not be able to grow the set of labels).
   */
  knownVerb(line: string): string {
    const space = line.indexOf(' ');
    const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    return this.#byVerb.has(verb) ? verb : 'UNKNOWN';
  }

  /** Watches every command that passes the gate (one call per command; none when unset). */
  observe(observer: CommandObserver<S> | undefined): void {
    this.#observer = observer;
  }

  /**
   * The capability lines of the commands valid in `state` (or in any state), for `session`
   * when given (a function capability needs one), without duplicates, in table order.
   */
  capabilities(state?: State, session?: S): string[] {
    const caps = new Set<string>();
    for (const spec of this.#byVerb.values()) {
      if (!spec.capability || (state !== undefined && spec.states && !spec.states.includes(state))) continue;
      const cap = typeof spec.capability === 'string' ? spec.capability : session === undefined ? undefined : spec.capability(session);
      if (cap !== undefined) caps.add(cap);
    }
    return [...caps];
  }

  /** The gate alone: why `spec` may not run now, or undefined when it may. */
  check(session: S, state: State, spec: Spec, arg: string): GateRefusal | undefined {
    const generic = spec as unknown as CommandSpec<string, unknown>;
    if (spec.states && !spec.states.includes(state)) return { kind: 'wrong-state', spec: generic };
    if (spec.login && !this.#gate.loggedIn?.(session)) return { kind: 'login-required', spec: generic };
    if (
      spec.args === 'required' ? (this.#gate.blankIsArgument ? arg === '' : arg.trim() === '') : spec.args === 'none' && arg.trim() !== ''
    ) {
      return { kind: 'syntax', spec: generic, reason: spec.args === 'required' ? 'missing-argument' : 'unexpected-argument' };
    }
    if (spec.permission !== undefined && !this.#gate.permitted?.(session, spec.permission)) return { kind: 'permission', spec: generic };
    return undefined;
  }

  /** Runs `spec` once the gate let it through: tells the observer, then calls the handler. */
  run(session: S, state: State, spec: Spec, arg: string): void | Promise<void> {
    if (this.#observer) this.#observer(session, spec.verb.toUpperCase(), state);
    return spec.run(session, arg);
  }

  /**
   * Looks a command up and checks it; returns the handler's result, or hands the refusal to
   * `refuse`, which sends the protocol's reply.
   */
  dispatch(session: S, state: State, line: string, refuse: (refusal: GateRefusal) => void): void | Promise<void> {
    const { verb, arg } = splitCommand(line);
    const spec = this.#byVerb.get(verb);
    if (!spec) return refuse({ kind: 'unknown', verb });
    const refusal = this.check(session, state, spec, arg);
    if (refusal) return refuse(refusal);
    return this.run(session, state, spec, arg);
  }
}
