import { existsSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { parseConfig, type ParsedConfig } from '../config.js';
import type { ConfigProblem } from '../config-positions.js';
import { CliError } from '../errors.js';
import { SectionChecks } from '../protocols/checks.js';
import { protocols } from '../protocols/index.js';
import type { GlobalArgs } from './options.js';

interface CheckConfigArgs extends GlobalArgs {
  config?: string;
}

/** Where the output goes: injectable for tests that run the CLI in-process. */
const out = { write: (text: string) => process.stdout.write(text) };

/**
 * `gorgon check-config`: validates a config file without binding anything, as `nginx -t` and
 * `doveconf -n` do: every problem on its own line as FILE:LINE:COLUMN, then the files the
 * sections name (users files, certificate and key, roots) and listeners that collide.
 */
export const checkConfigCommand: CommandModule<GlobalArgs, CheckConfigArgs> = {
  command: 'check-config',
  describe: 'check a config file (syntax, settings, the files it names) without starting anything',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .option('config', { alias: 'c', type: 'string', describe: 'YAML config file (default ./gorgon.yaml)' })
      .example('$0 check-config --config /etc/gorgon/gorgon.yaml', 'check before a reload: exit 0 when valid'),
  handler: async (args: ArgumentsCamelCase<CheckConfigArgs>) => {
    const path = args.config ?? 'gorgon.yaml';
    if (!args.config && !existsSync(path)) throw new CliError('check-config: no config: give --config FILE or put a gorgon.yaml here.', 2);
    const parsed = await parseConfig(path);
    const problems = parsed.config ? await checkFiles(parsed) : parsed.problems;
    if (problems.length > 0) {
      for (const problem of problems) out.write(`${formatProblem(path, problem)}\n`);
      const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
      throw new CliError(`config ${path} is not valid: ${count}.`);
    }
    const sections = [...parsed.config!.sections].map(([key, section]) =>
      (section as { enabled?: boolean }).enabled === false ? `${key} (disabled)` : key,
    );
    out.write(`config ${path} is valid: ${sections.join(', ') || 'no daemon'}\n`);
  },
};

/** "gorgon.yaml:12:9: pop3.port: Too big: expected number to be <=65535" (the compilers' form, which editors follow). */
export function formatProblem(path: string, problem: ConfigProblem): string {
  const where = problem.line === undefined ? '' : `${problem.line}:${problem.column}:`;
  return `${path}:${where} ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

/** The checks of every enabled section's files, and listeners that two sections both claim. */
async function checkFiles(parsed: ParsedConfig): Promise<ConfigProblem[]> {
  const config = parsed.config!;
  const problems: ConfigProblem[] = [];
  const place = (path: string[], message: string): void => {
    const at = parsed.locate(path, true);
    problems.push({ path: path.join('.'), message, ...(at ? { line: at.line, column: at.column } : {}) });
  };
  if (config.log?.file) {
    const logChecks = new SectionChecks({ baseDir: config.baseDir });
    await logChecks.writableFileDir('file', config.log.file, 'log file');
    for (const problem of logChecks.problems) place(['log', problem.key], problem.message);
  }
  const claimed = new Map<string, string>();
  for (const protocol of protocols) {
    const section = config.sections.get(protocol.key) as { enabled?: boolean; host?: string; port?: number; tlsPort?: number } | undefined;
    if (section === undefined || section.enabled === false) continue;
    for (const problem of await protocol.check(section, { baseDir: config.baseDir })) place([protocol.key, problem.key], problem.message);
    for (const key of ['port', 'tlsPort'] as const) {
      const port = section[key];
      if (port === undefined || port === 0) continue;
      const address = `${section.host ?? '127.0.0.1'}:${port}`;
      const other = claimed.get(address);
      if (other) place([protocol.key, key], `${address} is also ${other}`);
      else claimed.set(address, `${protocol.key}.${key}`);
    }
  }
  return problems;
}
