import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { hashPassword, UsersFileAuthenticator, type ListenerHandoff } from '@gorgon/core';
import {
  createNntpServer,
  DiskNewsStore,
  Feeds,
  injectArticle,
  parseDistribPats,
  parseFeedsConfig,
  type DiskNewsStoreOptions,
  type DistribPattern,
  type NntpServer,
} from '@gorgon/nntp';
import type { DaemonSpec } from '../daemon.js';
import { SectionChecks } from './checks.js';
import type { SuiteProtocol } from './protocol.js';
import { CliError, messageOf } from '../errors.js';
import { exists, implicitTlsDaemon, loadTls, loadUsers } from './shared.js';

/** The `nntp:` section of the config file. */
export const nntpSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1119),
    /** Implicit-TLS (nntps) port; TLS (and STARTTLS) is on when this, `cert` or `tls` is set. */
    tlsPort: z.number().int().min(0).max(65535).optional(),
    tls: z.boolean().default(false),
    cert: z.string().optional(),
    key: z.string().optional(),
    certDir: z.string().default('.gorgon-tls'),
    /** The spool directory (created when missing). */
    spool: z.string(),
    /**
     * Acknowledge an article (240/235/239) only once its group commit is fdatasynced. `false`
     * leaves the writes to the kernel, as INN does: a kill -9 loses nothing, a power cut may.
     * Read when the spool is opened (a change needs a restart).
     */
    fsync: z.boolean().default(true),
    /** The spool is on a network file system (NFS, SMB): no article is read synchronously. */
    networkRoot: z.boolean().default(false),
    /** JSON users file (`gorgon passwd`); without one AUTHINFO is not offered. */
    users: z.string().optional(),
    /** Feeds file (peers to feed, addresses that may feed us); see docs/nntp.md. */
    feeds: z.string().optional(),
    /** distrib.pats file (`weight:wildmat:distribution` lines) that LIST DISTRIB.PATS serves; unset: 503. */
    distribPats: z.string().optional(),
    /** This server's name in Path and Xref. Default: the host name. */
    pathHost: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/)
      .optional(),
    /** Groups anonymous clients may post to (a wildmat). Default: none. */
    anonymousPost: z.string().optional(),
    /** Refuse AUTHINFO before TLS, except from loopback. */
    requireTls: z.boolean().default(false),
    authCacheSeconds: z.number().int().min(0).default(60),
    idleTimeoutSeconds: z.number().int().min(180).default(600),
    maxArticleBytes: z.number().int().min(1024).optional(),
    maxConnections: z.number().int().min(0).optional(),
    maxConnectionsPerIp: z.number().int().min(0).optional(),
    maxAuthFailures: z.number().int().min(1).optional(),
    proxyTrusted: z.array(z.string()).optional(),
    demoNote: z.string().optional(),
  })
  .strict();
export type NntpSection = z.infer<typeof nntpSection>;

/**
 * The spools open in this process, shared by every server built on them: a SIGHUP reload builds
 * a new server while the old one's sessions run to their end, and two stores on one spool would
 * each keep its own numbering and journal (article numbers handed out twice). The last user
 * closes it.
 */
const openSpools = new Map<string, { store: Promise<DiskNewsStore>; users: number }>();

async function acquireSpool(path: string, options: DiskNewsStoreOptions): Promise<DiskNewsStore> {
  let entry = openSpools.get(path);
  if (!entry) {
    entry = { store: DiskNewsStore.open(path, options), users: 0 };
    openSpools.set(path, entry);
    entry.store.catch(() => openSpools.delete(path));
  }
  entry.users++;
  return entry.store;
}

async function releaseSpool(path: string): Promise<void> {
  const entry = openSpools.get(path);
  if (!entry || --entry.users > 0) return;
  openSpools.delete(path);
  await (await entry.store).close();
}

/** The demo groups and articles: one starts lines with '.', one is cross-posted. */
export const demoNewsGroups: [string, string][] = [
  ['gorgon.announce', 'News about Gorgon'],
  ['gorgon.test', 'Post here to try the server'],
  ['comp.lang.typescript', 'The TypeScript language'],
];
export const demoArticles = [
  "From: Gorgon <gorgon@localhost>\nNewsgroups: gorgon.announce\nSubject: Welcome to Gorgon NNTP\n\nThis article is served from a disk spool.\nRead it with: python3 -c \"import nntplib; s=nntplib.NNTP('127.0.0.1', 1119); print(s.group('gorgon.announce'))\"\n",
  'From: Medusa <medusa@localhost>\nNewsgroups: gorgon.test\nSubject: Lines that start with a dot\n\nNNTP doubles a leading dot on the wire:\n.this line starts with one dot\n..and this one with two\n',
  'From: Asyncore <asyncore@localhost>\nNewsgroups: gorgon.test,comp.lang.typescript\nSubject: Producers and pipelining\n\nEvery multi-line reply goes out through a producer; pipelined commands are answered in order.\n',
];

export const nntpProtocol: SuiteProtocol<NntpSection> = {
  key: 'nntp',
  schema: nntpSection,

  async demo(dataDir) {
    const dir = join(dataDir, 'nntp');
    const spool = join(dir, 'spool');
    const users = join(dir, 'users.json');
    await mkdir(dir, { recursive: true });
    if (!(await exists(users))) {
      const entry = { name: 'demo', password: await hashPassword('demo') };
      await writeFile(users, `${JSON.stringify({ users: [entry] }, null, 2)}\n`, { mode: 0o600 });
    }
    if (!(await exists(join(spool, 'active')))) {
      const store = await DiskNewsStore.open(spool);
      for (const [name, description] of demoNewsGroups) await store.createGroup(name, { description });
      for (const text of demoArticles) await injectArticle(store, text, { pathHost: 'gorgon' });
      await store.close();
    }
    return nntpSection.parse({
      spool,
      users,
      tlsPort: 1563,
      certDir: join(dataDir, 'tls'),
      anonymousPost: 'gorgon.test',
      demoNote:
        "nntp demo: groups gorgon.announce, gorgon.test, comp.lang.typescript; read with python3 -c \"import nntplib; s=nntplib.NNTP('127.0.0.1',1119); print(s.group('gorgon.test')); print(s.over((1,3)))\"; log in as demo / demo",
    });
  },

  async check(section, context) {
    const checks = new SectionChecks(context);
    await checks.directoryOrParent('spool', section.spool, 'spool');
    await checks.usersFile('users', section.users);
    await checks.file('feeds', section.feeds, async (path) => parseFeedsConfig(await readFile(path, 'utf8')));
    await checks.tls(section);
    return checks.problems;
  },

  forWorker(section, { index }) {
    // The disk spool keeps each group's numbering and the history in the memory of the process
    // that opened it: two workers posting would hand out the same article numbers. NNTP runs in
    // the first worker alone, and node:cluster gives that worker every NNTP connection.
    return index === 0 ? section : { ...section, enabled: false };
  },

  async build(section, { logger, baseDir }) {
    if (!section.enabled) return [];
    const reloaders = [];
    let auth: UsersFileAuthenticator | undefined;
    if (section.users) {
      auth = new UsersFileAuthenticator(resolve(baseDir, section.users), { cacheTtlMs: section.authCacheSeconds * 1000 });
      reloaders.push(await loadUsers('nntp', auth));
    }
    const tls = await loadTls('nntp', section, baseDir);
    if (tls) reloaders.push(tls.reloader);
    let distribPats: DistribPattern[] | undefined;
    if (section.distribPats !== undefined) {
      const file = resolve(baseDir, section.distribPats);
      try {
        distribPats = parseDistribPats(await readFile(file, 'utf8'));
      } catch (err) {
        throw new CliError(`nntp: cannot use the distrib.pats file ${file}: ${messageOf(err)}`);
      }
    }
    const spool = resolve(baseDir, section.spool);
    const shared = await acquireSpool(spool, { fsync: section.fsync, local: !section.networkRoot });
    let released = false;
    // Once per server, whether it is closed, retired, or both (SIGTERM closes a retiring one).
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await releaseSpool(spool);
    };
    // The server closes its store when it closes: this one's close releases this server's use.
    const store = new Proxy(shared, {
      get(target, name) {
        if (name === 'close') return release;
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const pathHost =
      section.pathHost ??
      (hostname()
        .split('.')[0]!
        .replace(/[^A-Za-z0-9-]/g, '') ||
        'gorgon');
    let feeds: Feeds | undefined;
    try {
      feeds = section.feeds
        ? await Feeds.fromFile(resolve(baseDir, section.feeds), { store, queueDir: join(spool, 'feeds'), pathHost, logger })
        : undefined;
    } catch (err) {
      // Nothing of a daemon that will not run stays open (a SIGHUP reload may try again).
      await release();
      throw err;
    }
    const server: NntpServer = createNntpServer({
      store,
      ...(auth ? { auth } : {}),
      logger,
      requireTlsForAuth: section.requireTls,
      pathHost,
      ...(section.anonymousPost ? { anonymous: { post: section.anonymousPost } } : {}),
      ...(distribPats ? { distribPats } : {}),
      ...(feeds ? feeds.serverOptions() : {}),
      limits: {
        idleTimeoutMs: section.idleTimeoutSeconds * 1000,
        ...(section.maxArticleBytes === undefined ? {} : { maxArticleBytes: section.maxArticleBytes }),
        ...(section.maxConnections === undefined ? {} : { maxConnections: section.maxConnections }),
        ...(section.maxConnectionsPerIp === undefined ? {} : { maxConnectionsPerIp: section.maxConnectionsPerIp }),
        ...(section.maxAuthFailures === undefined ? {} : { maxAuthFailures: section.maxAuthFailures }),
      },
      ...(tls ? { tls: tls.options } : {}),
      ...(section.proxyTrusted ? { proxyProtocol: { trusted: section.proxyTrusted } } : {}),
    });
    if (section.demoNote) logger.info({ event: 'demo', protocol: 'nntp' }, section.demoNote);
    // The feeds outlive the server's last session (a retired server's sessions still queue articles).
    const close = async (options?: { timeoutMs?: number }): Promise<void> => {
      await server.close(options);
      await feeds?.close();
      await release(); // the last user checkpoints the spool's journal: the next start has nothing to replay
    };
    const retire = async (): Promise<void> => {
      await server.retire();
      await feeds?.close();
      await release();
    };
    // The server with a close (and retire) that also stops the feeds; its events and counters
    // are the server's own, so the admin listener sees this daemon like every other.
    const plain = {
      listen: (on: number | ListenerHandoff, host?: string) => (typeof on === 'number' ? server.listen(on, host) : server.listen(on)),
      close,
      handOff: () => server.handOff(),
      retire,
      on: server.on.bind(server),
      off: server.off.bind(server),
      get counters() {
        return server.counters;
      },
      get connections() {
        return server.connections;
      },
    };
    const daemons: DaemonSpec[] = [{ name: 'nntpd', server: plain, port: section.port, host: section.host, reloaders }];
    if (section.tlsPort !== undefined) {
      const implicit = implicitTlsDaemon(server, { close, retire });
      daemons.push({ name: 'nntpsd', server: implicit, port: section.tlsPort, host: section.host });
    }
    return daemons;
  },
};
