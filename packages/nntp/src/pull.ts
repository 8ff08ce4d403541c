import { join } from 'node:path';
import { NntpClient, type NntpClientOptions } from './client.js';
import { articleHeaders, judge, type FilterRules, type FilterVerdict } from './filter.js';
import { openSink, type ArticleSink, type PullFormat } from './pull-output.js';
import { PullState } from './pull-state.js';
import { wildmat } from './wildmat.js';

/** One server to pull from: `nntp://host[:port]` or `nntps://host[:port]`. */
export interface PullServer {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** `host:port`: the key of its high-water marks. */
  readonly key: string;
}

/** Parses `nntp://host[:port]` (119) or `nntps://host[:port]` (563); IPv6 in brackets. */
export function parseNewsUrl(url: string): PullServer {
  const m = /^(nntps?|news):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?\/?$/i.exec(url);
  if (!m) throw new Error(`not a news server URL (nntp://host[:port]): ${url}`);
  const tls = m[1]!.toLowerCase() === 'nntps';
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = m[3] ? Number(m[3]) : tls ? 563 : 119;
  if (!(port > 0 && port < 65536)) throw new Error(`bad port in ${url}`);
  return { host, port, tls, key: `${host}:${port}` };
}

/** What `pullNews` reports as it goes (progress bars or lines). */
export type PullEvent =
  | { type: 'group'; server: string; group: string; first: number; last: number; count: number }
  | { type: 'article'; server: string; group: string; number: number; bytes: number; kept: boolean; verdict?: FilterVerdict }
  | { type: 'missing'; server: string; group: string; number: number; code: number }
  | { type: 'group-done'; server: string; group: string; fetched: number; high: number }
  | { type: 'failed'; server: string; group?: string; message: string };

/** Options of {@link pullNews}. */
export interface PullOptions {
  servers: readonly string[];
  /** A wildmat list: `comp.lang.*,!*.binaries`. */
  groups: string;
  /** A Maildir directory, or an mbox file. */
  out: string;
  format: PullFormat;
  /** Connections per server, each pipelining ARTICLE. Default 2. */
  connections?: number;
  /** ARTICLE requests in flight per connection. Default 16. */
  window?: number;
  /** The high-water marks file. Default `OUT/.gorgon-pull.json` (Maildir) or `OUT.gorgon-pull.json` (mbox). */
  stateFile?: string;
  /** Kill/keep/score rules applied to each article before it is stored (a live filter). */
  rules?: FilterRules;
  client?: Omit<NntpClientOptions, 'host' | 'port'>;
  /** AUTHINFO USER/PASS when the server asks for it. */
  login?: { user: string; password: string };
  onEvent?: (event: PullEvent) => void;
}

/** What a run did. */
export interface PullResult {
  fetched: number;
  killed: number;
  missing: number;
  duplicates: number;
  failures: string[];
}

/**
 * `news pull`: for every server and every group the wildmat list selects, fetch the articles
 * above the remembered high-water mark, with ARTICLE pipelined over several connections,
 * store them (Maildir or mbox), and advance the mark once the group is done. A second run
 * fetches nothing new. A cross-posted article is stored once per run (by message-id).
 * @see RFC 3977 §6.1.1 (GROUP), §6.2.1 (ARTICLE), §7.6.3 (LIST ACTIVE), §3.5 (pipelining)
 */
export async function pullNews(options: PullOptions): Promise<PullResult> {
  const sink = await openSink(options.format, options.out);
  const state = await PullState.load(
    options.stateFile ?? (options.format === 'maildir' ? join(options.out, '.gorgon-pull.json') : `${options.out}.gorgon-pull.json`),
  );
  const result: PullResult = { fetched: 0, killed: 0, missing: 0, duplicates: 0, failures: [] };
  const seen = new Set<string>();
  const emit = options.onEvent ?? (() => {});
  await Promise.all(
    options.servers.map(async (url) => {
      let server: PullServer;
      try {
        server = parseNewsUrl(url);
      } catch (err) {
        result.failures.push((err as Error).message);
        emit({ type: 'failed', server: url, message: (err as Error).message });
        return;
      }
      try {
        await pullServer(server, options, state, sink, result, seen, emit);
      } catch (err) {
        const message = `${server.key}: ${(err as Error).message}`;
        result.failures.push(message);
        emit({ type: 'failed', server: server.key, message });
      }
    }),
  );
  return result;
}

async function open(server: PullServer, options: PullOptions): Promise<NntpClient> {
  const client = await NntpClient.connect({
    ...options.client,
    host: server.host,
    port: server.port,
    ...(server.tls ? { tls: { ...options.client?.tls, servername: server.host } } : {}),
  });
  if (options.login) await client.login(options.login.user, options.login.password);
  try {
    await client.modeReader();
  } catch {
    // a reader-only server may refuse MODE READER; it reads anyway
  }
  return client;
}

async function pullServer(
  server: PullServer,
  options: PullOptions,
  state: PullState,
  sink: ArticleSink,
  result: PullResult,
  seen: Set<string>,
  emit: (event: PullEvent) => void,
): Promise<void> {
  const count = Math.max(1, options.connections ?? 2);
  const clients = [await open(server, options)];
  try {
    const selected = wildmat(options.groups);
    const groups = (await clients[0]!.listActive())
      .map((g) => g.name)
      .filter((name) => selected(name))
      .sort();
    for (let i = 1; i < count; i++) clients.push(await open(server, options));
    for (const group of groups) {
      const info = await clients[0]!.group(group);
      const from = Math.max(info.low, state.get(server.key, group) + 1);
      const last = info.high;
      emit({ type: 'group', server: server.key, group, first: from, last, count: Math.max(0, last - from + 1) });
      if (info.count === 0 || from > last) {
        emit({ type: 'group-done', server: server.key, group, fetched: 0, high: Math.max(last, state.get(server.key, group)) });
        continue;
      }
      // Split the range into one contiguous slice per connection; each pipelines its slice.
      const total = last - from + 1;
      const per = Math.ceil(total / clients.length);
      let fetched = 0;
      await Promise.all(
        clients.map(async (client, i) => {
          const start = from + i * per;
          const end = Math.min(last, start + per - 1);
          if (start > end) return;
          if (i > 0) await client.group(group);
          const numbers = {
            *[Symbol.iterator]() {
              for (let n = start; n <= end; n++) yield n;
            },
          };
          for await (const got of client.articles(numbers, options.window ?? 16)) {
            if (!got.ok) {
              result.missing++;
              emit({ type: 'missing', server: server.key, group, number: Number(got.request), code: got.code });
              continue;
            }
            const headers = articleHeaders(got.article);
            const id = headers.get('message-id') ?? got.messageId;
            if (id && seen.has(id)) {
              result.duplicates++;
              continue;
            }
            if (id) seen.add(id);
            const verdict = options.rules ? judge(options.rules, headers) : undefined;
            const kept = verdict?.keep ?? true;
            if (kept) {
              await sink.write(got.article);
              result.fetched++;
              fetched++;
            } else result.killed++;
            emit({
              type: 'article',
              server: server.key,
              group,
              number: got.number,
              bytes: got.article.length,
              kept,
              ...(verdict ? { verdict } : {}),
            });
          }
        }),
      );
      await state.set(server.key, group, last);
      emit({ type: 'group-done', server: server.key, group, fetched, high: last });
    }
  } finally {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.destroy())));
  }
}
