import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { hashPassword, UsersFileAuthenticator } from '@gorgon/core';
import { createFtpServer, parsePermissions, parsePortRange, type FtpServer } from '@gorgon/ftp';
import type { DaemonSpec, Reloader } from '../daemon.js';
import { CliError, messageOf } from '../errors.js';
import { SectionChecks } from './checks.js';
import type { SuiteProtocol } from './protocol.js';
import { splitPortRange } from '../workers/port-split.js';
import { exists, loadTls, loadUsers, implicitTlsDaemon } from './shared.js';

/** The `ftp:` section of the config file. */
export const ftpSection = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(2121),
    /** The directory served; users with `ftp.root` in the users file get a directory under it. */
    root: z.string(),
    /** JSON users file (`gorgon passwd` makes the hashes; `ftp: { root, perms }` per user). */
    users: z.string().optional(),
    /** Allow anonymous (read-only) logins. */
    anonymous: z.boolean().default(false),
    /** What anonymous users see (default: root). */
    anonymousRoot: z.string().optional(),
    /** The root is on a network filesystem (NFS, SMB): no synchronous file calls on the event loop. */
    networkRoot: z.boolean().default(false),
    /** fsync every upload before its 226 (an acknowledged upload survives a power loss). */
    fsync: z.boolean().default(true),
    /** Permission letters for users without `ftp.perms` (pyftpdlib's elradfmwMT). */
    permissions: z.string().default('elradfmwMT'),
    /** Passive data ports, "50000-50100". */
    pasvRange: z.string().optional(),
    /** The IPv4 address PASV announces (behind NAT). */
    masquerade: z.string().optional(),
    /** Implicit FTPS port; TLS (AUTH TLS) is on when this, `cert` or `tls` is set. */
    tlsPort: z.number().int().min(0).max(65535).optional(),
    tls: z.boolean().default(false),
    cert: z.string().optional(),
    key: z.string().optional(),
    certDir: z.string().default('.gorgon-tls'),
    requireTls: z.boolean().default(false),
    requireTlsData: z.boolean().default(false),
    /** Seconds a successful login is remembered (the users file's auth cache); 0 turns it off. */
    authCacheSeconds: z.number().int().min(0).default(60),
    idleTimeoutSeconds: z.number().int().min(1).default(300),
    maxUploadBytes: z.number().int().min(0).optional(),
    maxConnections: z.number().int().min(0).optional(),
    maxConnectionsPerIp: z.number().int().min(0).optional(),
    maxAuthFailures: z.number().int().min(1).optional(),
    proxyTrusted: z.array(z.string()).optional(),
    /** Set by `serve --demo`: a line for the log saying how to log in. */
    demoNote: z.string().optional(),
  })
  .strict();
export type FtpSection = z.infer<typeof ftpSection>;

/** The demo tree: a public area anonymous users can read and an `incoming/` the demo user can fill. */
const demoFiles: Record<string, string> = {
  'README.txt': 'Welcome to the Gorgon FTP demo.\r\nAnonymous users may read; log in as demo/demo to upload into incoming/.\r\n',
  'pub/hello.txt': 'Hello from Gorgon, an asyncore/asynchat-style server suite.\n',
  'pub/rfc959-summary.txt':
    'RFC 959: USER PASS CWD CDUP QUIT PORT PASV TYPE STRU MODE RETR STOR STOU APPE REST RNFR RNTO ABOR DELE RMD MKD PWD LIST NLST SITE SYST STAT HELP NOOP\n',
  'incoming/.keep': '',
};

export const ftpProtocol: SuiteProtocol<FtpSection> = {
  key: 'ftp',
  schema: ftpSection,

  async demo(dataDir) {
    const dir = join(dataDir, 'ftp');
    const root = join(dir, 'root');
    const users = join(dir, 'users.json');
    for (const [path, content] of Object.entries(demoFiles)) {
      const file = join(root, path);
      await mkdir(resolve(file, '..'), { recursive: true });
      if (!(await exists(file))) await writeFile(file, content);
    }
    if (!(await exists(users))) {
      // Read-only but for incoming/, as README.txt says: an upload area, as vsftpd's demos have.
      const entry = { name: 'demo', password: await hashPassword('demo'), ftp: { perms: 'elradfmwMT', writable: ['incoming'] } };
      await writeFile(users, `${JSON.stringify({ users: [entry] }, null, 2)}\n`, { mode: 0o600 });
    }
    return ftpSection.parse({
      root,
      users,
      anonymous: true,
      tlsPort: 2990,
      certDir: join(dataDir, 'tls'),
      demoNote:
        'ftp demo: anonymous (read-only) or demo / demo (uploads into incoming/), e.g. curl -u demo:demo -T FILE ftp://127.0.0.1:2121/incoming/',
    });
  },

  async check(section, context) {
    const checks = new SectionChecks(context);
    await checks.directory('root', section.root, 'root');
    await checks.directory('anonymousRoot', section.anonymousRoot, 'anonymous root');
    await checks.usersFile('users', section.users);
    if (!section.users && !section.anonymous) {
      checks.problems.push({ key: 'users', message: 'nobody can log in: give users (a users file), anonymous: true, or both' });
    }
    for (const [key, parse] of [
      ['pasvRange', () => section.pasvRange && parsePortRange(section.pasvRange)],
      ['permissions', () => parsePermissions(section.permissions)],
    ] as const) {
      try {
        parse();
      } catch (err) {
        checks.problems.push({ key, message: messageOf(err).replace(/\.$/, '') });
      }
    }
    if (section.masquerade && !/^\d+\.\d+\.\d+\.\d+$/.test(section.masquerade)) {
      checks.problems.push({ key: 'masquerade', message: `must be an IPv4 address, got "${section.masquerade}"` });
    }
    await checks.tls(section);
    return checks.problems;
  },

  forWorker(section, { index, count }) {
    // Without a range, each worker binds random free ports of its own (exclusive binds): the
    // kernel keeps them apart. With one, each worker gets its own slice, so a data connection
    // always reaches the worker that announced the port.
    if (!section.pasvRange) return section;
    let range;
    try {
      range = parsePortRange(section.pasvRange);
    } catch (err) {
      throw new CliError(`ftp: ${messageOf(err)}.`);
    }
    const size = range.max - range.min + 1;
    if (size < count) {
      throw new CliError(
        `ftp: pasvRange ${section.pasvRange} has ${size} ${size === 1 ? 'port' : 'ports'} for ${count} workers; give at least one port per worker.`,
      );
    }
    const share = splitPortRange(range, count, index);
    return { ...section, pasvRange: `${share.min}-${share.max}` };
  },

  async build(section, { logger, baseDir, worker }) {
    if (!section.enabled) return [];
    const root = resolve(baseDir, section.root);
    const rootStat = await stat(root).catch(() => undefined);
    if (!rootStat?.isDirectory()) throw new CliError(`ftp: the root ${root} is not a directory.`);
    let auth: UsersFileAuthenticator | undefined;
    const reloaders: Reloader[] = [];
    if (section.users) {
      auth = new UsersFileAuthenticator(resolve(baseDir, section.users), { cacheTtlMs: section.authCacheSeconds * 1000 });
      reloaders.push(await loadUsers('ftp', auth));
    } else if (!section.anonymous) {
      throw new CliError('ftp: nobody can log in: give --users FILE, --anonymous, or both.');
    }
    let passivePorts;
    try {
      passivePorts = section.pasvRange ? parsePortRange(section.pasvRange) : undefined;
      parsePermissions(section.permissions);
    } catch (err) {
      throw new CliError(`ftp: ${messageOf(err)}.`);
    }
    if (section.masquerade && !/^\d+\.\d+\.\d+\.\d+$/.test(section.masquerade)) {
      throw new CliError(`ftp: --masquerade must be an IPv4 address, got "${section.masquerade}".`);
    }
    const tls = await loadTls('ftp', section, baseDir);
    if (tls) reloaders.push(tls.reloader);
    const server: FtpServer = createFtpServer({
      root,
      // Under --workers, only the first worker sweeps stale upload files, once, before the
      // others start: a later sweep (another worker, or one restarted after a crash) could take
      // a stalled upload of a worker still running for a crash's leftover.
      disk: { local: !section.networkRoot, fsync: section.fsync, sweepStaleUploads: !worker || (worker.index === 0 && !worker.restart) },
      logger,
      defaultPermissions: section.permissions,
      anonymous: section.anonymous ? { root: resolve(baseDir, section.anonymousRoot ?? section.root) } : false,
      requireTlsForLogin: section.requireTls,
      requireTlsForData: section.requireTlsData,
      limits: {
        idleTimeoutMs: section.idleTimeoutSeconds * 1000,
        ...(section.maxUploadBytes === undefined ? {} : { maxUploadBytes: section.maxUploadBytes }),
        ...(section.maxConnections === undefined ? {} : { maxConnections: section.maxConnections }),
        ...(section.maxConnectionsPerIp === undefined ? {} : { maxConnectionsPerIp: section.maxConnectionsPerIp }),
        ...(section.maxAuthFailures === undefined ? {} : { maxAuthFailures: section.maxAuthFailures }),
      },
      ...(auth ? { auth } : {}),
      ...(tls ? { tls: tls.options } : {}),
      ...(passivePorts ? { passivePorts } : {}),
      ...(section.masquerade ? { masquerade: section.masquerade } : {}),
      ...(section.proxyTrusted ? { proxyProtocol: { trusted: section.proxyTrusted } } : {}),
    });
    if (section.demoNote) logger.info({ event: 'demo', protocol: 'ftp' }, section.demoNote);
    const daemons: DaemonSpec[] = [{ name: 'ftpd', server, port: section.port, host: section.host, reloaders }];
    if (section.tlsPort !== undefined) {
      // One server, two listeners: the ftps entry binds the implicit-TLS port; close() stops both.
      const implicit = implicitTlsDaemon(server);
      daemons.push({ name: 'ftpsd', server: implicit, port: section.tlsPort, host: section.host });
    }
    return daemons;
  },
};
