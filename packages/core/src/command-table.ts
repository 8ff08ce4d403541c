/** How a command takes its argument. */
export type ArgumentRule = 'none' | 'optional' | 'required';

/**
 * One row of a protocol's command table: the verb, its argument rule, the states it is valid in,
 * its help text and the capability it advertises, and its handler.
 */
export interface CommandSpec<State extends string, S> {
  verb: string;
  args: ArgumentRule;
  states: readonly State[];
  help: string;
  capability?: string;
  run(session: S, arg: string): void | Promise<void>;
}

/** Why the gate refused a command before its handler ran. */
export type GateRefusal =
  | { kind: 'unknown'; verb: string }
  | { kind: 'wrong-state'; spec: CommandSpec<string, unknown> }
  | { kind: 'syntax'; spec: CommandSpec<string, unknown>; reason: 'missing-argument' | 'unexpected-argument' };

/** A command line split at its first space: the verb upper-cased, the rest as given. */
export function splitCommand(line: string): { verb: string; arg: string } {
  const space = line.indexOf(' ');
  if (space === -1) return { verb: line.toUpperCase(), arg: '' };
  return { verb: line.slice(0, space).toUpperCase(), arg: line.slice(space + 1) };
}

/**
 * A protocol's commands by verb, and the one generic gate that answers unknown verbs, wrong
 * states and argument errors before any handler runs. HELP/CAPA/FEAT text is generated from it.
 */
export class CommandTable<State extends string, S> {
  readonly #byVerb = new Map<string, CommandSpec<State, S>>();

  constructor(specs: ReadonlyArray<CommandSpec<State, S>>) {
    for (const spec of specs) this.#byVerb.set(spec.verb.toUpperCase(), spec);
  }

  /** Every command, in table order (for HELP, CAPA, FEAT). */
  get specs(): Array<CommandSpec<State, S>> {
    return [...this.#byVerb.values()];
  }

  /** The command for `verb`, whatever its case. */
  get(verb: string): CommandSpec<State, S> | undefined {
    return this.#byVerb.get(verb.toUpperCase());
  }

  /** Capabilities advertised by the commands valid in `state` (or in any state). */
  capabilities(state?: State): string[] {
    const caps = this.specs
      .filter((s) => s.capability && (!state || s.states.includes(state)))
      .map((s) => s.capability!);
    return [...new Set(caps)];
  }

  /**
   * Looks a command up and checks it; returns the handler's result, or hands the refusal to
   * `refuse`, which sends the protocol's reply.
   */
  dispatch(
    session: S,
    state: State,
    line: string,
    refuse: (refusal: GateRefusal) => void,
  ): void | Promise<void> {
    const { verb, arg } = splitCommand(line);
    const spec = this.#byVerb.get(verb);
    if (!spec) return refuse({ kind: 'unknown', verb });
    const generic = spec as unknown as CommandSpec<string, unknown>;
    if (!spec.states.includes(state)) return refuse({ kind: 'wrong-state', spec: generic });
    if (spec.args === 'required' && arg.trim() === '') {
      return refuse({ kind: 'syntax', spec: generic, reason: 'missing-argument' });
    }
    if (spec.args === 'none' && arg.trim() !== '') {
      return refuse({ kind: 'syntax', spec: generic, reason: 'unexpected-argument' });
    }
    return spec.run(session, arg);
  }
}
