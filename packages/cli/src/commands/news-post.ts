import { readFile } from 'node:fs/promises';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { NntpClient, NntpClientError, parseNewsUrl } from '@gorgon/nntp';
import { CliError, messageOf } from '../errors.js';
import type { GlobalArgs } from './options.js';

interface PostArgs extends GlobalArgs {
  file: string;
  server: string;
  user?: string;
  password?: string;
  'ca-file'?: string;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** `gorgon news post FILE --server nntp://host[:port]`: POST one article (`-` reads stdin). @see RFC 3977 §6.3.1 */
export const newsPostCommand: CommandModule<GlobalArgs, PostArgs> = {
  command: 'post <file>',
  describe: 'post an article (a file with headers, a blank line and the body; - for stdin)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('file', { type: 'string', demandOption: true, describe: 'the article' })
      .option('server', {
        alias: 's',
        type: 'string',
        default: 'nntp://127.0.0.1:1119',
        describe: 'nntp://host[:port] or nntps://host[:port]',
      })
      .option('user', { alias: 'u', type: 'string', describe: 'AUTHINFO user' })
      .option('password', { type: 'string', describe: 'AUTHINFO password' })
      .option('ca-file', { type: 'string', describe: 'PEM file of CA certificates to trust for nntps://' })
      .check((args) => {
        parseNewsUrl(args.server);
        return true;
      })
      .example('$0 news post article.txt --server nntp://127.0.0.1:1119', 'post to the demo server'),
  handler: async (args: ArgumentsCamelCase<PostArgs>) => {
    const server = parseNewsUrl(args.server);
    let article: Buffer;
    try {
      article = args.file === '-' ? await readAll(process.stdin) : await readFile(args.file);
    } catch (err) {
      throw new CliError(`cannot read ${args.file}: ${messageOf(err)}.`);
    }
    const ca = args['ca-file'] !== undefined ? await readFile(args['ca-file'], 'utf8') : undefined;
    let client: NntpClient | undefined;
    try {
      client = await NntpClient.connect({
        host: server.host,
        port: server.port,
        ...(server.tls ? { tls: { servername: server.host, ...(ca ? { ca } : {}) } } : {}),
      });
      if (args.user !== undefined) await client.login(args.user, args.password ?? '');
      const reply = await client.post(article);
      process.stdout.write(`${reply.code} ${reply.text}\n`);
    } catch (err) {
      const reply = err instanceof NntpClientError ? err.reply : undefined;
      throw new CliError(`news post ${server.key}: ${reply ? `the server said ${reply.code} ${reply.text}` : messageOf(err)}`);
    } finally {
      await client?.quit().catch(() => client?.destroy());
    }
  },
};
