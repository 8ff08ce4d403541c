import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, type YAMLParseError } from 'yaml';
import { z } from 'zod';
import { describeProblem, positionOf, problemsFromIssues, type ConfigProblem } from './config-positions.js';
import { CliError } from './errors.js';
import { protocols } from './protocols/index.js';

/** The `log:` section. Command-line flags win over it. */
export const logSection = z
  .object({
    format: z.enum(['pretty', 'json']).optional(),
    level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),
    /** Append the log to this file (reopened on SIGUSR1, for logrotate); `--log-file` wins. */
    file: z.string().min(1).optional(),
  })
  .strict();

/** The `shutdown:` section: how SIGTERM and SIGINT drain the daemons. */
export const shutdownSection = z
  .object({
    /** After the signal, wait this long (ms) with /healthz saying 503 before closing listeners. */
    drainDelayMs: z.number().int().min(0).max(600_000).default(0),
    /** How long open sessions and transfers get to finish (ms) before they are cut. */
    timeoutMs: z.number().int().min(0).max(3_600_000).default(5000),
  })
  .strict();
export type ShutdownSettings = z.infer<typeof shutdownSection>;

/** Shutdown settings when the config has no `shutdown:` section. */
export const defaultShutdown: ShutdownSettings = { drainDelayMs: 0, timeoutMs: 5000 };

/** The `runAs:` section: who the daemons become once every port is bound (`--user`/`--group` win). */
export const runAsSection = z
  .object({
    user: z.string().min(1),
    group: z.string().min(1).optional(),
  })
  .strict();

/** The `admin:` section: the listener of the status page, `/metrics` and `/healthz` (`--admin-port` wins). */
export const adminSection = z
  .object({
    port: z.number().int().min(0).max(65535).default(9090),
    host: z.string().min(1).default('127.0.0.1'),
  })
  .strict();

/** `workers:` for `gorgon serve`: how many worker processes (`auto`: one per CPU). `--workers` wins. */
export const workersSetting = z.union([z.number().int().min(1).max(1024), z.literal('auto')]);

/** The whole config file: `log:`, `runAs:`, `shutdown:`, `admin:`, `workers:`, plus one optional section per protocol. */
export const configSchema = z
  .object({
    log: logSection.optional(),
    runAs: runAsSection.optional(),
    shutdown: shutdownSection.optional(),
    admin: adminSection.optional(),
    workers: workersSetting.optional(),
    ...Object.fromEntries(protocols.map((p) => [p.key, p.schema.optional()])),
  })
  .strict();

export interface SuiteConfig {
  log?: z.infer<typeof logSection>;
  runAs?: z.infer<typeof runAsSection>;
  shutdown?: ShutdownSettings;
  admin?: z.infer<typeof adminSection>;
  workers?: z.infer<typeof workersSetting>;
  sections: Map<string, unknown>;
  /** Relative paths in the file resolve against its directory. */
  baseDir: string;
  /** The file it was read from (undefined for `--demo`). */
  path?: string;
}

/** A config file read and checked: the config, or the problems, each placed at its line. */
export interface ParsedConfig {
  config: SuiteConfig | undefined;
  problems: ConfigProblem[];
  /** Where a key path is in the file (for checks made after parsing: a missing users file). */
  locate(path: ReadonlyArray<PropertyKey>, key?: boolean): { line: number; column: number } | undefined;
  /** The first YAML syntax error, as its own sentence. */
  yamlError?: YAMLParseError;
}

/**
 * Reads and validates a YAML (or JSON) config file; every problem is one clear sentence that
 * says where it is ("config file g.yaml: pop3.port (line 12, column 9): Too big: …").
 */
export async function loadConfig(path: string): Promise<SuiteConfig> {
  const parsed = await parseConfig(path);
  if (parsed.yamlError) throw new CliError(describeYamlError(parsed.yamlError, path));
  if (!parsed.config) throw new CliError(`config file ${path}: ${parsed.problems.slice(0, 3).map(describeProblem).join('; ')}`);
  return parsed.config;
}

/**
 * Reads a config file and reports every problem with its place, without throwing for what is
 * in the file (`gorgon check-config` prints them all). A file that cannot be read still throws.
 */
export async function parseConfig(path: string): Promise<ParsedConfig> {
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
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const locate = (at: ReadonlyArray<PropertyKey>, key = false) => positionOf(doc, lines, at, key);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => {
      const pos = err.linePos?.[0];
      const message = err.message
        .split('\n')[0]!
        .replace(/ at line \d+, column \d+:?\s*$/, '')
        .trim();
      return { path: '', message: `not valid YAML: ${message}`, ...(pos ? { line: pos.line, column: pos.col } : {}) };
    });
    return { config: undefined, problems, locate, yamlError: doc.errors[0]! };
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) return { config: undefined, problems: problemsFromIssues(parsed.error, doc, lines), locate };
  const { log, runAs, shutdown, admin, workers, ...rest } = parsed.data as Pick<
    SuiteConfig,
    'log' | 'runAs' | 'shutdown' | 'admin' | 'workers'
  > &
    Record<string, unknown>;
  const sections = new Map(Object.entries(rest).filter(([, v]) => v !== undefined));
  const config: SuiteConfig = {
    ...(log ? { log } : {}),
    ...(runAs ? { runAs } : {}),
    ...(shutdown ? { shutdown } : {}),
    ...(admin ? { admin } : {}),
    ...(workers === undefined ? {} : { workers }),
    sections,
    baseDir: dirname(absolute),
    path,
  };
  return { config, problems: [], locate };
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

/** "finger.port: expected number, received string; ftp: unknown key 'prot'" (flags: no lines to give). */
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
