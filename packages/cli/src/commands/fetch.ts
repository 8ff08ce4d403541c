import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { certificateProblem, FetchUrlError, fetchFiles, type FetchOptions, type PassiveMode } from '@gorgon/ftp';
import { certificateProblem as httpCertificateProblem, getUrls, HttpClientError, parseHttpUrl } from '@gorgon/http/client';
import { CliError, messageOf } from '../errors.js';
import { mergeResults, positiveInteger, readCaFile, report, type ReportedResult } from './client-report.js';
import { barView, lineView } from './fetch-progress.js';
import { httpOptions } from './get.js';
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

/** HTTP file ids start here, so they never meet the FTP run's (which grow as globs are listed). */
const HTTP_FIRST_ID = 1_000_000;

const isHttp = (url: string): boolean => /^https?:\/\//i.test(url);

/**
 * `gorgon fetch URL...`: the seed's multi-file grabber. Fetches every file the URLs name
 * (globs expanded by listing), from any number of servers, over `--parallel` connections in all.
 * `http://` and `https://` URLs go to the HTTP grabber, run side by side with the FTP one, so one
 * command grabs from FTP and HTTP servers together (each scheme with up to `--parallel` at once).
 */
export const fetchCommand: CommandModule<GlobalArgs, FetchArgs> = {
  command: 'fetch <urls..>',
  describe: 'fetch files from FTP and HTTP servers, many at once (ftp://[user:pass@]host[:port]/path with globs, http(s)://…)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('urls', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'ftp:// or ftps:// URLs (the path may be a glob such as pub/*.txt), or http:// and https:// URLs',
      })
      .option('parallel', { alias: 'j', type: 'number', default: 4, describe: 'connections at once, over all servers' })
      .option('per-host', { type: 'number', describe: 'connections at once to one server (default: --parallel)' })
      .option('out', { alias: 'o', type: 'string', default: '.', describe: 'directory to save into' })
      .option('retries', { type: 'number', default: 2, describe: 'further tries of a file after a transient failure' })
      .option('user', { alias: 'u', type: 'string', describe: 'login for URLs without one (default anonymous)' })
      .option('password', { type: 'string', describe: 'password for --user' })
      .option('tls', { type: 'boolean', default: false, describe: 'require AUTH TLS on ftp:// URLs (explicit FTPS)' })
      .option('ca-file', { type: 'string', describe: 'PEM file of CA certificates to trust for FTPS and https://' })
      .option('insecure', { type: 'boolean', default: false, describe: 'do not verify FTPS and https:// certificates' })
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
      )
      .example('$0 fetch "ftp://127.0.0.1:2121/pub/*" http://127.0.0.1:8080/index.html', 'FTP and HTTP servers in one run'),
  handler: async (args: ArgumentsCamelCase<FetchArgs>) => {
    const out = resolve(args.out);
    const ca = await readCaFile(args['ca-file']);
    const httpUrls = args.urls.filter(isHttp);
    const ftpUrls = args.urls.filter((u) => !isHttp(u));
    // Every URL is checked before any connection: a typo fails the run at once.
    for (const url of ftpUrls) {
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
      if (scheme !== undefined && scheme !== 'ftp' && scheme !== 'ftps')
        throw new CliError(`${url}: gorgon fetch takes ftp://, ftps://, http:// and https:// URLs, not ${scheme}://.`, 2);
    }
    for (const url of httpUrls) {
      try {
        parseHttpUrl(url);
      } catch (err) {
        throw new CliError(`${messageOf(err)}.`, 2);
      }
    }
    const globless = ftpUrls.filter((u) => !/[*?[]/.test(u.replace(/^[a-z]+:\/\/[^/]*/i, '')) && !u.endsWith('/')).length + httpUrls.length;
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
    const runs: Array<Promise<ReportedResult>> = [];
    if (ftpUrls.length > 0) runs.push(fetchFiles(ftpUrls, options));
    if (httpUrls.length > 0) {
      runs.push(
        getUrls(httpUrls, {
          ...httpOptions(args, ca),
          outDir: out,
          hostDirs: args['host-dirs'],
          firstId: HTTP_FIRST_ID,
          signal: controller.signal,
          onProgress: (e) => view.event(e),
        }),
      );
    }
    let result: ReportedResult;
    try {
      result = mergeResults(await Promise.all(runs));
    } catch (err) {
      controller.abort();
      if (err instanceof FetchUrlError) throw new CliError(err.message, 2);
      if (err instanceof HttpClientError && err.kind === 'bad-url') throw new CliError(`${err.message}.`, 2);
      throw new CliError(`fetch: ${messageOf(err)}`);
    } finally {
      view.stop();
      process.off('SIGINT', interrupt);
    }
    report(result, {
      verb: 'fetched',
      noun: 'file',
      base: out,
      seconds: ((Date.now() - started) / 1000).toFixed(1),
      aborted: controller.signal.aborted,
      isCertificate: (err) => certificateProblem(err) !== undefined || httpCertificateProblem(err) !== undefined,
    });
  },
};
