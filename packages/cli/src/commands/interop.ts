import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CliError, UsageError } from '../errors.js';
import { CLIENT_IDS, findClients } from '../interop/clients.js';
import { clientsOf, runMatrix } from '../interop/matrix.js';
import { renderJson, renderMarkdown, renderText } from '../interop/render.js';
import { parseTarget, SCHEME_NAMES } from '../interop/target.js';
import type { Settings } from '../interop/types.js';
import type { GlobalArgs } from './options.js';

interface InteropArgs extends GlobalArgs {
  urls: string[];
  json: boolean;
  markdown: boolean;
  clients?: string[];
  user?: string;
  password?: string;
  insecure: boolean;
  'ca-file'?: string;
  write: boolean;
  'upload-dir'?: string;
  'post-group'?: string;
  timeout: number;
}

/**
 * `gorgon interop URL...`: drives the stock clients installed on this machine (curl, lftp, wget,
 * mpop, fetchmail, suck, rpost, finger, nc, Python's ftplib/poplib/nntplib/http.client, and the
 * npm libraries basic-ftp and node-pop3 where Node finds them) against any server and prints
 * which client can do which feature there. Exit status 1 when a cell fails.
 */
export const interopCommand: CommandModule<GlobalArgs, InteropArgs> = {
  command: 'interop <urls..>',
  describe: "test a server (Gorgon or anyone's) with the stock clients on this machine: a protocol × client × feature table",
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('urls', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: `servers to test (${SCHEME_NAMES.join(', ')} URLs)`,
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the matrix as JSON' })
      .option('markdown', { type: 'boolean', default: false, describe: 'print the matrix as Markdown tables' })
      .option('clients', {
        type: 'string',
        array: true,
        coerce: (v: string[]) => v.flatMap((s) => s.split(',')).filter(Boolean),
        describe: `only these clients (${CLIENT_IDS.join(', ')})`,
      })
      .option('user', { type: 'string', describe: 'login name, where the URL has none' })
      .option('password', { type: 'string', describe: 'password, where the URL has none' })
      .option('insecure', { type: 'boolean', default: false, describe: 'do not verify TLS certificates (self-signed test servers)' })
      .option('ca-file', { type: 'string', describe: 'PEM file of CA certificates the clients trust' })
      .option('write', {
        type: 'boolean',
        default: false,
        describe: 'also run what changes the server: FTP store/delete (a uniquely named file, removed after), NNTP post (one article)',
      })
      .option('upload-dir', { type: 'string', describe: "FTP: the directory to upload into with --write (default: the URL's)" })
      .option('post-group', { type: 'string', describe: "NNTP: the group to post to with --write (default: the URL's or the one read)" })
      .option('timeout', { type: 'number', default: 20, describe: 'seconds each client command may take' })
      .check((args) => {
        if (args.json && args.markdown) throw new Error('give --json or --markdown, not both.');
        if (!(args.timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, got ${String(args.timeout)}.`);
        const unknown = (args.clients ?? []).filter((c) => !CLIENT_IDS.includes(c));
        if (unknown.length > 0) throw new Error(`--clients: unknown client ${unknown.join(', ')}; known: ${CLIENT_IDS.join(', ')}.`);
        return true;
      })
      .example('$0 interop ftp://127.0.0.1:2121/pub/ pop3://demo:demo@127.0.0.1:1110/', 'the demo suite, FTP and POP3')
      .example('$0 interop ftps://ftp.example.org/ --insecure --json', 'implicit FTPS, JSON for a script')
      .example('$0 interop nntp://news.example.org/comp.lang.misc --clients python', "one group with Python's nntplib only")
      .epilog(
        'Each cell is one stock client doing one feature (login, tls, list, retrieve, resume, top, overview, head, conditional, ' +
          'keep-alive, store, post, delete, query): pass, fail with the reason, or n/a (the client lacks it, is not installed, ' +
          'or the server does not offer it). Retrieved content is checked against a reference the command reads first. ' +
          'Nothing is changed on the server without --write. See docs/interop.md.',
      ),
  handler: async (args: ArgumentsCamelCase<InteropArgs>) => {
    const credentials = {
      ...(args.user !== undefined ? { user: args.user } : {}),
      ...(args.password !== undefined ? { password: args.password } : {}),
    };
    const targets = args.urls.map((u) => parseTarget(u, credentials));
    const caFile = args['ca-file'] !== undefined ? resolve(args['ca-file']) : undefined;
    if (caFile !== undefined && !existsSync(caFile)) throw new UsageError(`--ca-file ${args['ca-file']} does not exist.`);
    const settings: Settings = {
      insecure: args.insecure,
      write: args.write,
      timeoutMs: args.timeout * 1000,
      ...(caFile !== undefined ? { caFile } : {}),
      ...(args['upload-dir'] !== undefined ? { uploadDir: args['upload-dir'] } : {}),
      ...(args['post-group'] !== undefined ? { postGroup: args['post-group'] } : {}),
    };
    const used = new Set(targets.flatMap((t) => clientsOf(t.protocol)));
    const clients = await findClients([...used].filter((id) => args.clients === undefined || args.clients.includes(id)));
    const progress = !['warn', 'error', 'silent'].includes(args['log-level']);
    const report = await runMatrix(targets, settings, clients, (target, row, cell) => {
      if (!progress) return;
      const why = cell.reason ? `: ${cell.reason}` : '';
      process.stderr.write(`${target.url} ${row.label} ${cell.feature}: ${cell.status}${why}\n`);
    });
    process.stdout.write(args.json ? renderJson(report) : args.markdown ? renderMarkdown(report) : renderText(report));
    const { fail } = report.totals;
    if (fail > 0) throw new CliError(`interop: ${fail} cell${fail === 1 ? '' : 's'} failed.`);
  },
};
