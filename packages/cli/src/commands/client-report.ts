import { readFile } from 'node:fs/promises';
import { CliError, messageOf } from '../errors.js';
import { humanBytes } from './fetch-progress.js';

/** What the grabbers (`gorgon fetch` over FTP, `gorgon get` and `fetch` over HTTP) report per file or URL. */
export interface ReportedOutcome {
  url: string;
  file?: { localPath: string };
  status: 'done' | 'skipped' | 'failed';
  bytes: number;
  message?: string;
  error?: unknown;
}

/** A run's result, from one grabber or several merged. */
export interface ReportedResult {
  outcomes: ReportedOutcome[];
  failed: ReportedOutcome[];
  done: number;
  skipped: number;
  bytes: number;
}

/** Adds up the results of grabbers run side by side (FTP and HTTP URLs in one `gorgon fetch`). */
export function mergeResults(results: ReportedResult[]): ReportedResult {
  return {
    outcomes: results.flatMap((r) => r.outcomes),
    failed: results.flatMap((r) => r.failed),
    done: results.reduce((n, r) => n + r.done, 0),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
  };
}

/** What to do about a certificate that did not verify: the flags a person has for it. */
export const certificateHint = (it: string): string =>
  `to trust ${it}, give --ca-file with the server's certificate or its CA (PEM), or skip the check with --insecure`;

/** A sentence that ends in a full stop, with `clause` added before it. */
export function extend(message: string, clause: string): string {
  return `${message.replace(/[.!?]$/, '')}; ${clause}.`;
}

/** The stderr line of one failure: the file it concerns (as the line view names it), then why. */
export function failureLine(f: ReportedOutcome, base: string): string {
  // HTTP failures already begin with their URL: that names the failure best.
  if (f.message?.startsWith(`${f.url}`)) return `gorgon: failed ${f.message}\n`;
  const path = f.file?.localPath;
  const name = path === undefined ? f.url : path.startsWith(base) ? path.slice(base.length).replace(/^[/\\]/, '') : path;
  return `gorgon: failed ${name}: ${f.message ?? 'failed.'}\n`;
}

/** Throws yargs' check error unless `value` is a whole number of at least `min`. */
export function positiveInteger(value: number, flag: string, min: number): true {
  if (!Number.isInteger(value) || value < min) throw new Error(`${flag} must be a whole number of at least ${min}, got ${String(value)}.`);
  return true;
}

/** The PEM text of `--ca-file`, or undefined when not given. */
export async function readCaFile(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read --ca-file ${path}: ${messageOf(err)}.`);
  }
}

/**
 * Prints the summary line and, when something failed, a line per failure naming it, then throws
 * the CliError that sets the exit status. `isCertificate` tells a refused certificate (not
 * retried) so the person is told once about --ca-file and --insecure.
 */
export function report(
  result: ReportedResult,
  opts: { verb: string; noun: string; base: string; seconds: string; aborted: boolean; isCertificate: (err: unknown) => boolean },
): void {
  const total = result.outcomes.length;
  const plural = `${opts.noun}${total === 1 ? '' : 's'}`;
  process.stdout.write(
    `${opts.verb} ${result.done} of ${total} ${plural} (${humanBytes(result.bytes)}) in ${opts.seconds} s` +
      `${result.skipped > 0 ? `, ${result.skipped} already complete` : ''}${result.failed.length > 0 ? `, ${result.failed.length} failed` : ''}.\n`,
  );
  const interrupted = (): CliError => new CliError('interrupted; run the same command again to resume.', 130);
  if (result.failed.length === 0) {
    if (opts.aborted) throw interrupted();
    return;
  }
  const messages = [...new Set(result.failed.map((f) => f.message ?? 'failed.'))];
  const untrusted = result.failed.some((f) => opts.isCertificate(f.error));
  // Nothing fetched and one cause (a wrong password, an unreachable host): that one sentence.
  if (messages.length === 1 && result.done + result.skipped === 0) {
    throw new CliError(untrusted ? extend(messages[0]!, certificateHint('it')) : messages[0]!);
  }
  for (const f of result.failed) process.stderr.write(failureLine(f, opts.base));
  if (opts.aborted) throw interrupted();
  const summary = `${result.failed.length} of ${total} ${plural} failed.`;
  throw new CliError(untrusted ? extend(summary, certificateHint('the certificate')) : summary);
}
