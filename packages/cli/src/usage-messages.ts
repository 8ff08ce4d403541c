import type { CommandModule } from 'yargs';
import { UsageError } from './errors.js';

/** What yargs knows about the options: their aliases and which ones are numbers. */
interface OptionTable {
  alias: Record<string, string[]>;
  number: string[];
}

/** Every spelling of one option: its name, its aliases, and yargs' camelCase copies of them. */
function spellings(key: string, table: OptionTable): string[] {
  const names = new Set([key, ...(table.alias[key] ?? [])]);
  for (const [name, aliases] of Object.entries(table.alias)) if (aliases.includes(key)) names.add(name);
  return [...names];
}

/** The spelling a person would type: the long kebab-case one, with its dashes. */
function flagName(names: string[]): string {
  const long = names.filter((n) => n.length > 1);
  const kebab = long.find((n) => n === n.toLowerCase()) ?? long[0] ?? names[0]!;
  return kebab.length > 1 ? `--${kebab}` : `-${kebab}`;
}

/** The values typed after any spelling of an option (`--port X`, `--port=X`, `-p X`). */
function typedValues(argv: readonly string[], names: string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    for (const name of names) {
      const flag = name.length > 1 ? `--${name}` : `-${name}`;
      if (token === flag) {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('-')) values.push(next);
      } else if (token.startsWith(`${flag}=`)) {
        values.push(token.slice(flag.length + 1));
      }
    }
  }
  return values;
}

/**
 * yargs turns a number option's "abc" into NaN, and a check can then only say "got NaN". This
 * runs before validation and names what was typed instead.
 */
export function rejectNotANumber(argv: readonly string[]) {
  return (args: Record<string, unknown>, yargs: { getOptions(): OptionTable }): void => {
    const table = yargs.getOptions();
    for (const key of table.number) {
      const value = args[key];
      const values = Array.isArray(value) ? value : [value];
      if (!values.some((v) => typeof v === 'number' && Number.isNaN(v))) continue;
      const names = spellings(key, table);
      const typed = typedValues(argv, names).find((t) => Number.isNaN(Number(t)));
      const flag = flagName(names);
      throw new UsageError(typed === undefined ? `${flag} needs a number.` : `${flag} needs a number, and "${typed}" is not one.`);
    }
  };
}

/** The command names a person may type, for the messages below. */
type Commands = ReadonlyArray<CommandModule<never, never>>;

function commandLine(command: CommandModule<never, never>): string {
  const text = Array.isArray(command.command) ? command.command[0] : command.command;
  return typeof text === 'string' ? text : '';
}

/** The command being run: the first word of argv that names one. */
function commandOf(argv: readonly string[], commands: Commands): string | undefined {
  const names = new Set(commands.map((c) => commandLine(c).split(' ')[0]));
  return argv.find((token) => names.has(token));
}

/** Flags on the command line that no option of `table` spells. */
function unknownFlags(argv: readonly string[], table: { key: Record<string, unknown> } & OptionTable): string[] {
  const known = new Set(Object.keys(table.key).flatMap((k) => spellings(k, table)));
  const unknown: string[] = [];
  for (const token of argv) {
    if (token === '--') break;
    const match = /^--?(?:no-)?([^=]+)/.exec(token);
    if (match && !known.has(match[1]!) && !known.has(token.replace(/^--?([^=]+).*/, '$1'))) unknown.push(token.split('=')[0]!);
  }
  return unknown;
}

/**
 * Rewrites yargs' stock validation messages into one sentence that names what the person typed:
 * the missing `<positional>`, the unknown `--flag` (once, not also as its camelCase copy).
 */
export function rewriteUsageMessage(
  message: string,
  argv: readonly string[],
  commands: Commands,
  table: { key: Record<string, unknown> } & OptionTable,
  noCommandMessage: string,
): string {
  const missing = /^Not enough non-option arguments: got (\d+)/.exec(message);
  if (missing) {
    const name = commandOf(argv, commands);
    const command = commands.find((c) => commandLine(c).split(' ')[0] === name);
    if (name && command) {
      const line = commandLine(command);
      const demanded = (line.match(/<[^>]+>/g) ?? []).map((p) => p.replace('..', ''));
      const absent = demanded.slice(Number(missing[1]));
      if (absent.length > 0) return `${name} needs ${absent.join(' and ')}: gorgon ${line.replace('..>', '...>')} [options].`;
    }
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  if (unknown) {
    const listed = unknown[1]!.split(', ');
    const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    // yargs lists --bogus-flag twice: as typed and as its camelCase copy.
    const names = listed.filter((n) => !(n !== kebab(n) && listed.includes(kebab(n))));
    const shown = names.map((n) => {
      const typed = argv.find((t) => t === `--${n}` || t.startsWith(`--${n}=`) || t === `-${n}`);
      return typed ? typed.split('=')[0]! : `"${n}"`;
    });
    const flags = shown.filter((s) => s.startsWith('-'));
    const words = shown.filter((s) => !s.startsWith('-'));
    const parts = [
      ...(flags.length ? [`unknown option${flags.length > 1 ? 's' : ''} ${flags.join(', ')}`] : []),
      ...(words.length ? [`unexpected argument${words.length > 1 ? 's' : ''} ${words.join(', ')}`] : []),
    ];
    return `${parts.join('; ')}.`;
  }
  if (message === noCommandMessage) {
    // With no command yargs stops at "name a command" before it looks at the flags.
    const flags = unknownFlags(argv, table);
    if (flags.length > 0)
      return `unknown option${flags.length > 1 ? 's' : ''} ${flags.join(', ')}; ${noCommandMessage[0]!.toLowerCase()}${noCommandMessage.slice(1)}`;
  }
  return message;
}
