import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { CliError } from './errors.js';
import { protocols } from './protocols/index.js';

/** The `log:` section. Command-line flags win over it. */
export const logSection = z
  .object({
    format: z.enum(['pretty', 'json']).optional(),
    level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),
  })
  .strict();

/** The `runAs:` section: who the daemons become once every port is bound (`--user`/`--group` win). */
export const runAsSection = z
  .object({
    user: z.string().min(1),
    group: z.string().min(1).optional(),
  })
  .strict();

/** `workers:` for `gorgon serve`: how many worker processes (`auto`: one per CPU). `--workers` wins. */
export const workersSetting = z.union([z.number().int().min(1).max(1024), z.literal('auto')]);

/** The whole config file: `log:`, `runAs:`, `workers:`, plus one optional section per protocol. */
export const configSchema = z
  .object({
    log: logSection.optional(),
    runAs: runAsSection.optional(),
    workers: workersSetting.optional(),
    ...Object.fromEntries(protocols.map((p) => [p.key, p.schema.optional()])),
  })
  .strict();

export interface SuiteConfig {
  log?: z.infer<typeof logSection>;
  runAs?: z.infer<typeof runAsSection>;
  workers?: z.infer<typeof workersSetting>;
  sections: Map<string, unknown>;
  /** Relative paths in the file resolve against its directory. */
  baseDir: string;
}

/** Reads and validates a YAML (or JSON) config file; every problem is one clear sentence. */
export async function loadConfig(path: string): Promise<SuiteConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`config file ${path} does not exist.`);
    if (code === 'EISDIR') throw new CliError(`config file ${path} is a directory.`);
    throw new CliError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    if (err instanceof YAMLParseError) {
      throw new CliError(describeYamlError(err, path));
    }
    throw err;
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`config file ${path}: ${describeIssues(parsed.error)}`);
  const { log, runAs, workers, ...rest } = parsed.data as Pick<SuiteConfig, 'log' | 'runAs' | 'workers'> & Record<string, unknown>;
  const sections = new Map(Object.entries(rest).filter(([, v]) => v !== undefined));
  return {
    ...(log ? { log } : {}),
    ...(runAs ? { runAs } : {}),
    ...(workers === undefined ? {} : { workers }),
    sections,
    baseDir: dirname(absolute),
  };
}

/**
 * "config file g.yaml line 3, column 1 is not valid YAML: flow sequence … end with a ]." The
 * yaml library's message ends with " at line L, column C:" and then quotes the line; the place
 * is said once, up front, and the quote left out so the sentence ends.
 */
export function describeYamlError(err: YAMLParseError, path: string): string {
  const pos = err.linePos?.[0];
  const where = pos ? ` line ${pos.line}, column ${pos.col}` : '';
  const reason = err.message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?\s*$/, '')
    .replace(/:\s*$/, '')
    .trim();
  const sentence = reason.charAt(0).toLowerCase() + reason.slice(1);
  return `config file ${path}${where} is not valid YAML: ${/[.!?]$/.test(sentence) ? sentence : `${sentence}.`}`;
}

/** "finger.port: expected number, received string; ftp: unknown key 'prot'". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`)
    .join('; ');
}

/** Validates one protocol section built from command-line flags. */
export function parseSection<C>(schema: z.ZodType<C>, value: unknown, what: string): C {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CliError(`${what}: ${describeIssues(parsed.error)}`, 2);
  return parsed.data;
}
