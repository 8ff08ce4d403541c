import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { certificateProblem, FetchUrlError, fetchFiles, type FetchOptions, type FetchOutcome, type PassiveMode } from '@gorgon/ftp';
import { CliError, messageOf } from '../errors.js';
import { barView, humanBytes, lineView } from './fetch-progress.js';
import { loggerFor, type GlobalArgs } from './options.js';

interface FetchArgs extends GlobalArgs {
  urls: string[];
  parallel: number;
  'per-host'?: number;
  out: string;
  retries: number;
  user?: string;
  password?: string;
  tls: boolean;
  'ca-file'?: string;
  insecure: boolean;
  'host-dirs': boolean;
  timeout: number;
  passive: PassiveMode;
  progress: 'auto' | 'bars' | 'lines';
}

/** What to do about a certificate that did not verify: the flags a person has for it. */
const certificateHint = (it: string): string =>
  `to trust ${it}, give --ca-file with the server's certificate or its CA (PEM), or skip the check with --insecure`;

/** A sentence that ends in a full stop, with `clause` added before it. */
function extend(message: string, clause: string): string {
  return `${message.replace(/[.!?]$/, '')}; ${clause}.`;
}

/** The stderr line of one failure: the file it concerns (as the line view names it), then why. */
function failureLine(f: FetchOutcome, base: string): string {
  const path = f.file?.localPath;
  const name = path === undefined ? f.url : path.startsWith(base) ? path.slice(base.length).replace(/^[/\\]/, '') : path;
  return `gorgon: failed ${name}: ${f.message ?? 'failed.'}\n`;
}

function positiveInteger(value: number, flag: string, min: number): true {
  if (!Number.isInteger(value) || value < min) throw new Error(`${flag} must be a whole number of at least ${min}, got ${String(value)}.`);
  return true;
}

/**
 * `gorgon fetch URL...`: the seed's multi-file grabber. Fetches every file the URLs name
 * (globs expanded by listing), from any number of servers, over `--parallel` connections in all.
 */
export const fetchCommand: CommandModule<GlobalArgs, FetchArgs> = {
  command: 'fetch <urls..>',
  describe: 'fetch files from FTP servers, many at once (ftp://[user:pass@]host[:port]/path, globs allowed)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('urls', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'ftp:// or ftps:// URLs; the path may be a glob such as pub/*.txt',
      })
      .option('parallel', { alias: 'j', type: 'number', default: 4, describe: 'connections at once, over all servers' })
      .option('per-host', { type: 'number', describe: 'connections at once to one server (default: --parallel)' })
      .option('out', { alias: 'o', type: 'string', default: '.', describe: 'directory to save into' })
      .option('retries', { type: 'number', default: 2, describe: 'further tries of a file after a transient failure' })
      .option('user', { alias: 'u', type: 'string', describe: 'login for URLs without one (default anonymous)' })
      .option('password', { type: 'string', describe: 'password for --user' })
      .option('tls', { type: 'boolean', default: false, describe: 'require AUTH TLS on ftp:// URLs (explicit FTPS)' })
      .option('ca-file', { type: 'string', describe: 'PEM file of CA certificates to trust for FTPS' })
      .option('insecure', { type: 'boolean', default: false, describe: 'do not verify FTPS certificates' })
      .option('host-dirs', {
        type: 'boolean',
        default: false,
        describe: 'save under OUT/host[_port]/ so equal names from different servers do not clash',
      })
      .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for a reply or a stalled transfer' })
      .option('passive', {
        choices: ['auto', 'epsv', 'pasv'] as const,
        default: 'auto' as PassiveMode,
        describe: 'EPSV falling back to PASV, or only one',
      })
      .option('progress', {
        choices: ['auto', 'bars', 'lines'] as const,
        default: 'auto' as const,
        describe: 'progress bars (auto: when stdout is a terminal) or one line per event',
      })
      .check((args) => {
        positiveInteger(args.parallel, '--parallel', 1);
        if (args['per-host'] !== undefined) positiveInteger(args['per-host'], '--per-host', 1);
        positiveInteger(args.retries, '--retries', 0);
        if (!(args.timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, got ${String(args.timeout)}.`);
        return true;
      })
      .example('$0 fetch "ftp://127.0.0.1:2121/pub/*" -o downloads', 'every file of /pub on the demo server')
      .example('$0 fetch ftp://a.example/x.iso "ftp://b.example/pub/*.txt" -j 6', 'from two servers at once, six connections')
      .example(
        '$0 fetch "ftps://demo:demo@localhost:2990/pub/*" --ca-file demo-data/tls/cert.pem',
        'implicit FTPS to `gorgon serve --demo`',
      ),
  handler: async (args: ArgumentsCamelCase<FetchArgs>) => {
    const out = resolve(args.out);
    let ca: string | undefined;
    if (args['ca-file'] !== undefined) {
      try {
        ca = await readFile(args['ca-file'], 'utf8');
      } catch (err) {
        throw new CliError(`cannot read --ca-file ${args['ca-file']}: ${messageOf(err)}.`);
      }
    }
    const globless = args.urls.filter((u) => !/[*?[]/.test(u.replace(/^[a-z]+:\/\/[^/]*/i, '')) && !u.endsWith('/')).length;
    const bars = args.progress === 'bars' || (args.progress === 'auto' && process.stdout.isTTY === true);
    const view = (bars ? barView : lineView)({ out: process.stdout, files: globless, base: out, forced: args.progress === 'bars' });
    const controller = new AbortController();
    const interrupt = (): void => controller.abort();
    process.once('SIGINT', interrupt);
    const started = Date.now();
    const options: FetchOptions = {
      outDir: out,
      parallel: args.parallel,
      retries: args.retries,
      timeoutMs: args.timeout * 1000,
      dataTimeoutMs: args.timeout * 1000,
      passive: args.passive,
      hostDirs: args['host-dirs'],
      explicitTls: args.tls,
      signal: controller.signal,
      onProgress: (e) => view.event(e),
      // The FTP conversation (passwords masked) only on request: it would bury the progress.
      ...(args['log-level'] === 'debug' ? { logger: loggerFor(args) } : {}),
      ...(args['per-host'] !== undefined ? { perHost: args['per-host'] } : {}),
      ...(args.user !== undefined ? { user: args.user } : {}),
      ...(args.password !== undefined ? { password: args.password } : {}),
      ...(ca !== undefined || args.insecure ? { tls: { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: !args.insecure } } : {}),
    };
    let result;
    try {
      result = await fetchFiles(args.urls, options);
    } catch (err) {
      if (err instanceof FetchUrlError) throw new CliError(err.message, 2);
      throw new CliError(`fetch: ${messageOf(err)}`);
    } finally {
      view.stop();
      process.off('SIGINT', interrupt);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const total = result.outcomes.length;
    process.stdout.write(
      `fetched ${result.done} of ${total} file${total === 1 ? '' : 's'} (${humanBytes(result.bytes)}) in ${seconds} s` +
        `${result.skipped > 0 ? `, ${result.skipped} already complete` : ''}${result.failed.length > 0 ? `, ${result.failed.length} failed` : ''}.\n`,
    );
    if (result.failed.length === 0) {
      if (controller.signal.aborted) throw new CliError('interrupted; run the same command again to resume.', 130);
      return;
    }
    const messages = [...new Set(result.failed.map((f) => f.message ?? 'failed.'))];
    // A certificate is refused for good, not retried: say once what the person can do about it.
    const untrusted = result.failed.some((f) => certificateProblem(f.error) !== undefined);
    // Nothing fetched and one cause (a wrong password, an unreachable host): that one sentence.
    if (messages.length === 1 && result.done + result.skipped === 0) {
      throw new CliError(untrusted ? extend(messages[0]!, certificateHint('it')) : messages[0]!);
    }
    for (const f of result.failed) process.stderr.write(failureLine(f, out));
    if (controller.signal.aborted) throw new CliError('interrupted; run the same command again to resume.', 130);
    const summary = `${result.failed.length} of ${total} file${total === 1 ? '' : 's'} failed.`;
    throw new CliError(untrusted ? extend(summary, certificateHint('the certificate')) : summary);
  },
};
