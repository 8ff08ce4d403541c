/**
 * The small pieces the scenario tables are written with: a command line and its check, a Python
 * or Node script run with a JSON config, and the common reasons a cell is n/a.
 */
import { readFileSync } from 'node:fs';
import { type ExecOptions, type ExecResult, failureReason, sha256, shorten } from './exec.js';
import type { Context, Outcome, Scenario, Target } from './types.js';

const WGET_EXIT: Record<number, string> = {
  1: 'generic error',
  2: 'parse error',
  3: 'file I/O error',
  4: 'network failure',
  5: 'TLS verification failure',
  6: 'authentication failure',
  7: 'protocol error',
  8: 'the server answered with an error',
};

/** A command to run: its argv and, when needed, input, environment or working directory. */
export type CommandSpec = readonly string[] | { argv: readonly string[]; options?: Partial<ExecOptions> };

/** Checks a finished command that exited 0; returns the failure's reason, if any. */
export type Check = (r: ExecResult, c: Context) => Outcome | Promise<Outcome>;

/**
 * A cell that runs one command line: it fails with the client's own last words when the exit
 * status is not 0, and otherwise with what `check` finds wrong in the output.
 */
export function command(build: (c: Context) => CommandSpec | Promise<CommandSpec>, check?: Check): Scenario['run'] {
  return async (c) => {
    const spec = await build(c);
    const { argv, options } = Array.isArray(spec)
      ? { argv: spec as readonly string[], options: {} }
      : (spec as Exclude<CommandSpec, readonly string[]>);
    // The client's program by its full path (found on PATH by the run); helpers like unshare as given.
    const r = await c.exec(argv[0] === c.client.id ? [c.client.bin!, ...argv.slice(1)] : argv, options);
    if (r.code !== 0 || r.timedOut) {
      const reason = failureReason(r, c.settings.timeoutMs);
      // wget -q says nothing: its exit status is the only reason (wget(1), EXIT STATUS).
      const meaning = argv[0] === 'wget' && r.code !== null ? WGET_EXIT[r.code] : undefined;
      return meaning && /^exit \d+$/.test(reason) ? `${reason}: ${meaning}` : reason;
    }
    return check?.(r, c);
  };
}

/**
 * A cell that runs a Python script with the target as JSON (`host`, `port`, `user`, `password`,
 * `implicit`, `insecure`, `ca`, `timeout` plus `extra`) and the feature as arguments; the script
 * prints one JSON object last. An exception's last line is the failure's reason.
 */
export function python(
  script: string,
  extra: (c: Context) => Record<string, unknown> = () => ({}),
  check?: (out: Record<string, unknown>, c: Context) => Outcome,
): (feature: string) => Scenario['run'] {
  return scriptCell((c, config, feature) => [c.client.bin!, '-W', 'ignore', '-c', script, config, feature], extra, check);
}

/**
 * A cell that runs a Node script (CommonJS, `node -e SCRIPT CONFIG FEATURE`) with this Node for
 * an npm client library: the same target JSON as `python` plus `module`, the library's entry
 * file for `require()`. The script prints one JSON object last; when it exits non-zero, its last
 * stderr line (the error's message) is the failure's reason.
 */
export function node(
  script: string,
  extra: (c: Context) => Record<string, unknown> = () => ({}),
  check?: (out: Record<string, unknown>, c: Context) => Outcome,
): (feature: string) => Scenario['run'] {
  return scriptCell(
    (_c, config, feature) => [process.execPath, '-e', script, config, feature],
    (c) => ({ module: c.client.bin, ...extra(c) }),
    check,
  );
}

/** A cell that runs `argv` (given the target JSON plus `extra`, and the feature) and reads its last JSON line. */
function scriptCell(
  argv: (c: Context, config: string, feature: string) => string[],
  extra: (c: Context) => Record<string, unknown>,
  check?: (out: Record<string, unknown>, c: Context) => Outcome,
): (feature: string) => Scenario['run'] {
  return (feature) => async (c) => {
    const r = await c.exec(argv(c, JSON.stringify({ ...targetJson(c), ...extra(c) }), feature));
    return scriptOutcome(r, c, check);
  };
}

/** A script's cell: its failure, or the check of the JSON object on its last stdout line. */
function scriptOutcome(r: ExecResult, c: Context, check?: (out: Record<string, unknown>, c: Context) => Outcome): Outcome {
  if (r.code !== 0 || r.timedOut) return failureReason(r, c.settings.timeoutMs);
  const last = r.stdout.toString().trim().split('\n').at(-1) ?? '';
  let out: Record<string, unknown>;
  try {
    out = JSON.parse(last) as Record<string, unknown>;
  } catch {
    return `the script printed no result: ${shorten(last)}`;
  }
  return check?.(out, c);
}

function targetJson(c: Context): Record<string, unknown> {
  const t = c.target;
  return {
    host: t.host,
    port: t.port,
    user: t.user ?? null,
    password: t.password ?? null,
    implicit: t.implicitTls,
    insecure: c.settings.insecure,
    ca: c.settings.caFile ?? null,
    timeout: Math.max(1, Math.round(c.settings.timeoutMs / 1000) - 1),
  };
}

/** Fails unless `data` is the probe's sample (by SHA-256), or its tail from `offset`. */
export function sameAsSample(c: Context, data: Buffer | string, offset = 0): Outcome {
  const sample = c.probe.sample;
  if (!sample) return undefined;
  const got = typeof data === 'string' ? data : sha256(data);
  const want = sha256(sample.data.subarray(offset));
  if (got === want) return undefined;
  const size = typeof data === 'string' ? '' : ` (${data.length} bytes, expected ${sample.data.length - offset})`;
  return `${sample.name}: content differs from the reference${size}`;
}

/** n/a unless `--write` was given: the write-side features change someone else's server. */
export const needsWrite =
  (what: string) =>
  (c: Context): string | undefined =>
    c.settings.write ? undefined : `not run: give --write to ${what}`;

/** n/a when the probe saw the capability list and `word` is not in it. */
export const needsCapability =
  (word: string, what = word) =>
  (c: Context): string | undefined =>
    c.probe.capabilities && !c.probe.capabilities.has(word) ? `the server does not offer ${what}` : undefined;

/** n/a when the probe found nothing to retrieve (an empty mailbox, a directory without files). */
export const needsSample = (c: Context): string | undefined => (c.probe.sample ? undefined : (c.probe.noSample ?? undefined));

/** The failure of a cell that needs the reference when the probe could not read it. */
export const noReference = (c: Context): Outcome => `no reference to check against (${c.probe.error ?? 'the probe found none'})`;

/** The first reason among several skip rules. */
export const allOf =
  (...rules: Array<(c: Context) => string | undefined>) =>
  (c: Context): string | undefined => {
    for (const rule of rules) {
      const why = rule(c);
      if (why) return why;
    }
    return undefined;
  };

/** The client's TLS trust flags in curl's spelling. */
export function curlTrust(c: Context): string[] {
  return [...(c.settings.insecure ? ['--insecure'] : []), ...(c.settings.caFile ? ['--cacert', c.settings.caFile] : [])];
}

/** The PEM text of `--ca-file`, for the probes' own TLS. */
export function caText(caFile: string | undefined): string | undefined {
  return caFile ? readFileSync(caFile, 'utf8') : undefined;
}

/** `user:password` for curl, or no flag at all. */
export function curlUser(t: Target, fallback?: { user: string; password: string }): string[] {
  const user = t.user ?? fallback?.user;
  const password = t.password ?? fallback?.password ?? '';
  return user === undefined ? [] : ['--user', `${user}:${password}`];
}

/** A URL path from a decoded path: each segment escaped, slashes kept. */
export const urlPath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');
