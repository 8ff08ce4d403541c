import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { certificateProblem, getUrls, HttpClientError, type GetOptions } from '@gorgon/http/client';
import { CliError, messageOf } from '../errors.js';
import { positiveInteger, readCaFile, report } from './client-report.js';
import { barView, lineView } from './fetch-progress.js';
import { loggerFor, type GlobalArgs } from './options.js';

interface GetArgs extends GlobalArgs {
  urls: string[];
  output?: string;
  out: string;
  parallel: number;
  'per-host'?: number;
  retries: number;
  'max-redirects': number;
  'ca-file'?: string;
  insecure: boolean;
  'host-dirs': boolean;
  timeout: number;
  progress: 'auto' | 'bars' | 'lines';
}

/** The HTTP part of a run's options from the flags `get` and `fetch` share. */
export function httpOptions(
  args: GlobalArgs & { parallel: number; 'per-host'?: number; retries: number; timeout: number; insecure: boolean },
  ca: string | undefined,
): Omit<GetOptions, 'outDir'> {
  return {
    parallel: args.parallel,
    retries: args.retries,
    timeoutMs: args.timeout * 1000,
    ...(args['per-host'] !== undefined ? { perHost: args['per-host'] } : {}),
    ...(ca !== undefined || args.insecure ? { tls: { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: !args.insecure } } : {}),
    ...(args['log-level'] === 'debug' ? { logger: loggerFor(args) } : {}),
  };
}

/**
 * `gorgon get URL...`: the seed's HTTP GET client as a grabber. Many URLs from several servers at
 * once over kept-alive connections, redirects followed, `.part` files resumed with Range.
 * @see RFC 9110 §14 (range requests), RFC 9112 §9.3 (persistent connections)
 */
export const getCommand: CommandModule<GlobalArgs, GetArgs> = {
  command: 'get <urls..>',
  describe: 'download http:// and https:// URLs, many at once, resuming .part files',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('urls', { type: 'string', array: true, demandOption: true, describe: 'http:// or https:// URLs' })
      .option('output', { alias: 'o', type: 'string', describe: 'file to save to (one URL only)' })
      .option('out', { type: 'string', default: '.', describe: 'directory to save into, each file named after its URL' })
      .option('parallel', { alias: 'j', type: 'number', default: 4, describe: 'requests at once, over all servers' })
      .option('per-host', { type: 'number', describe: 'requests at once to one server (default: --parallel)' })
      .option('retries', {
        type: 'number',
        default: 2,
        describe: 'further tries after a transient failure (lost connection, timeout, 5xx)',
      })
      .option('max-redirects', { type: 'number', default: 10, describe: 'redirects followed per URL' })
      .option('ca-file', { type: 'string', describe: 'PEM file of CA certificates to trust for https://' })
      .option('insecure', { type: 'boolean', default: false, describe: 'do not verify https:// certificates' })
      .option('host-dirs', {
        type: 'boolean',
        default: false,
        describe: 'save under OUT/host[_port]/ so equal names from different servers do not clash',
      })
      .option('timeout', { type: 'number', default: 30, describe: 'seconds of silence from a server before a request fails' })
      .option('progress', {
        choices: ['auto', 'bars', 'lines'] as const,
        default: 'auto' as const,
        describe: 'progress bars (auto: when stdout is a terminal) or one line per event',
      })
      .check((args) => {
        positiveInteger(args.parallel, '--parallel', 1);
        if (args['per-host'] !== undefined) positiveInteger(args['per-host'], '--per-host', 1);
        positiveInteger(args.retries, '--retries', 0);
        positiveInteger(args['max-redirects'], '--max-redirects', 0);
        if (!(args.timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, got ${String(args.timeout)}.`);
        if (args.output !== undefined && args.urls.length !== 1)
          throw new Error(`-o/--output names one file, but ${args.urls.length} URLs were given; use --out DIR.`);
        return true;
      })
      .example('$0 get http://127.0.0.1:8080/index.html -o index.html', 'one file')
      .example('$0 get http://a.example/x.iso https://b.example/y.tar --out downloads -j 2', 'from two servers at once')
      .example('$0 get https://localhost:8443/big.bin --ca-file demo-data/tls/cert.pem', 'https to `gorgon serve --demo`'),
  handler: async (args: ArgumentsCamelCase<GetArgs>) => {
    const out = resolve(args.out);
    const ca = await readCaFile(args['ca-file']);
    const bars = args.progress === 'bars' || (args.progress === 'auto' && process.stdout.isTTY === true);
    const view = (bars ? barView : lineView)({ out: process.stdout, files: args.urls.length, base: out, forced: args.progress === 'bars' });
    const controller = new AbortController();
    const interrupt = (): void => controller.abort();
    process.once('SIGINT', interrupt);
    const started = Date.now();
    let result;
    try {
      result = await getUrls(args.urls, {
        ...httpOptions(args, ca),
        outDir: out,
        maxRedirects: args['max-redirects'],
        hostDirs: args['host-dirs'],
        signal: controller.signal,
        onProgress: (e) => view.event(e),
        ...(args.output !== undefined ? { outFile: resolve(args.output) } : {}),
      });
    } catch (err) {
      if (err instanceof HttpClientError && err.kind === 'bad-url') throw new CliError(`${err.message}.`, 2);
      throw new CliError(`get: ${messageOf(err)}`);
    } finally {
      view.stop();
      process.off('SIGINT', interrupt);
    }
    report(result, {
      verb: 'got',
      noun: 'file',
      base: out,
      seconds: ((Date.now() - started) / 1000).toFixed(1),
      aborted: controller.signal.aborted,
      isCertificate: (err) => certificateProblem(err) !== undefined,
    });
  },
};
