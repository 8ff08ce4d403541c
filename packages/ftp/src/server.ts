import type { AddressInfo } from 'node:net';
import { resolve as resolveHostPath } from 'node:path';
import type * as tls from 'node:tls';
import {
  createListener,
  errorText,
  LoginThrottle,
  silentLogger,
  toSecureContext,
  type Authenticator,
  type AuthUser,
  type Channel,
  type Counters,
  type Listener,
  type LoginThrottleOptions,
  type Logger,
  type TlsServerOptions,
} from '@gorgon/core';
import { commandTable, type FtpCommand } from './commands/index.js';
import type { FtpUser, ServerContext } from './context.js';
import type { PortRange } from './data-channel.js';
import { DEFAULT_BANNER, defaultFtpLimits, type FtpLimits } from './defaults.js';
import { DiskFs, kSharedLister, type DiskFsOptions } from './fs-disk.js';
import { DirectoryLister } from './fs-disk-lister.js';
import { writableOnlyUnder } from './fs-write-guard.js';
import type { VirtualFs } from './fs.js';
import { ALL_PERMISSIONS, parsePermissions, READ_PERMISSIONS } from './permissions.js';
import { formatReply, replies } from './replies.js';
import { FtpSession } from './session.js';

/** Picks the filesystem of a logged-in user. */
export type FsFactory = (user: AuthUser) => VirtualFs | Promise<VirtualFs>;

/** Anonymous access (off by default; always read-only). */
export interface AnonymousOptions {
  /** What anonymous users see. Default: the server's `root` or `fs`. */
  fs?: VirtualFs;
  root?: string;
}

/** Options of {@link createFtpServer}. Every hook is optional except a way to find files. */
export interface FtpServerOptions {
  /** One filesystem for every user, or a factory per user. */
  fs?: VirtualFs | FsFactory;
  /**
   * Serve this directory from disk. A user whose record carries `ftp.root` gets that directory
   * instead (relative to this one); `ftp.perms` sets the permission letters.
   */
  root?: string;
  /**
   * Options of the `DiskFs` made for `root` (and for an anonymous root): `{ local: false }` for
   * a root on a network filesystem, where the synchronous reads of small files and listings'
   * synchronous path lookups could stall every session; `{ fsync: false }` to acknowledge
   * uploads (226) without flushing them to disk first (see DiskFsOptions.fsync).
   */
  disk?: DiskFsOptions;
  /** Who may log in. Without it only anonymous users can (when enabled). */
  auth?: Authenticator;
  /** Allow `anonymous`/`ftp` logins with any password, read-only. Default off. */
  anonymous?: boolean | AnonymousOptions;
  /** Permission letters of users whose record has none. Default `elradfmwMT` (everything). */
  defaultPermissions?: string;
  /** Certificate and key: enables AUTH TLS, PBSZ, PROT and the implicit FTPS listener. */
  tls?: TlsServerOptions;
  /** Refuse USER on a cleartext control connection. Default false. */
  requireTlsForLogin?: boolean;
  /** Refuse transfers without PROT P. Default false. */
  requireTlsForData?: boolean;
  /**
   * Passive data ports, e.g. `{ min: 50000, max: 50100 }` or "50000-50100". Default: a free
   * port picked at random from 49152–65535 (any free port if a few tries fail).
   */
  passivePorts?: PortRange | string;
  /** The IPv4 address PASV announces (NAT). Default: the control connection's local address. */
  masquerade?: string;
  /** Host names accepted by HOST (RFC 7151). Default: any. */
  hosts?: string[];
  banner?: string;
  logger?: Logger;
  limits?: Partial<FtpLimits>;
  /** Failed-login delays, shared by all sessions. */
  throttle?: LoginThrottle | LoginThrottleOptions;
  /** Expect a PROXY header from these addresses (HAProxy in front). */
  proxyProtocol?: { trusted: readonly string[]; timeoutMs?: number };
  /** Extra or replacing commands (embedders' SITE-like verbs). */
  commands?: readonly FtpCommand[];
}

/** A running FTP server. */
export interface FtpServer extends AsyncDisposable {
  /** Binds the control port (plain, with AUTH TLS when TLS is configured). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Binds the implicit FTPS port (TLS from the first byte). */
  listenImplicitTls(port: number, host?: string): Promise<AddressInfo>;
  /** Graceful close of both listeners: 421 to every session, then close. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  address(): AddressInfo | null;
  implicitTlsAddress(): AddressInfo | null;
  /** Control connections open now, on both ports. */
  readonly connections: number;
  /** Counters of both listeners (control port and implicit FTPS) added up. */
  readonly counters: Counters;
  /** Serves one session over a channel the caller made (tests use the in-memory pair). */
  accept(channel: Channel, options?: { implicitTls?: boolean }): FtpSession;
}

/** Parses "50000-50100" into a port range; throws one sentence on a bad range. */
export function parsePortRange(text: string): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1024 || max > 65535 || min > max) throw new Error(`passive port range "${text}" must look like 50000-50100 (ports 1024-65535)`);
  return { min, max };
}

/**
 * The `ftp` attributes of a users-file record: `{ "ftp": { "root": "alice", "perms": "elr" } }`.
 * `writable: ["incoming"]` confines the user's changes to those directories (read elsewhere).
 */
export function ftpAttributes(user: AuthUser): { root?: string; perms?: string; writable?: string[] } {
  const raw = user.attributes['ftp'];
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object') throw new Error(`user ${user.name}: "ftp" must be an object`);
  const { root, perms, writable } = raw as { root?: unknown; perms?: unknown; writable?: unknown };
  if (root !== undefined && typeof root !== 'string') throw new Error(`user ${user.name}: ftp.root must be a string`);
  if (perms !== undefined && typeof perms !== 'string') throw new Error(`user ${user.name}: ftp.perms must be a string`);
  if (writable !== undefined && !(Array.isArray(writable) && writable.every((d) => typeof d === 'string'))) {
    throw new Error(`user ${user.name}: ftp.writable must be a list of directories`);
  }
  return {
    ...(root === undefined ? {} : { root }),
    ...(perms === undefined ? {} : { perms }),
    ...(writable === undefined ? {} : { writable: writable as string[] }),
  };
}

/**
 * Creates an FTP server: RFC 959 with FEAT/OPTS, SIZE/MDTM/MLST/MLSD/REST STREAM, EPSV/EPRT,
 * AUTH TLS/PBSZ/PROT, UTF8, HOST and MFMT, over `@gorgon/core` listeners.
 * @see RFC 959, RFC 2389, RFC 2428, RFC 2640, RFC 3659, RFC 4217, RFC 7151
 */
export function createFtpServer(options: FtpServerOptions): FtpServer {
  if (!options.fs && !options.root) throw new Error('createFtpServer needs fs or root');
  const limits: FtpLimits = { ...defaultFtpLimits, ...options.limits };
  const logger = options.logger ?? silentLogger;
  const secureContext: tls.SecureContext | undefined = options.tls ? toSecureContext(options.tls) : undefined;
  const throttle = options.throttle instanceof LoginThrottle ? options.throttle : new LoginThrottle(options.throttle);
  const passivePorts = typeof options.passivePorts === 'string' ? parsePortRange(options.passivePorts) : options.passivePorts;
  const defaultPerms = parsePermissions(options.defaultPermissions ?? ALL_PERMISSIONS);
  // The helper threads of large listings, one set for every DiskFs made here (per-user roots
  // included), made at the first large listing and ended by close().
  const lister = new DirectoryLister();
  const disks = new Map<string, DiskFs>();
  const disk = (path: string): DiskFs => {
    let fs = disks.get(path);
    if (!fs) disks.set(path, (fs = new DiskFs(path, { ...options.disk, [kSharedLister]: lister } as DiskFsOptions)));
    return fs;
  };
  const anonymous = options.anonymous === true ? {} : options.anonymous || undefined;
  // Once, at the first listen, in the background: temporary files of uploads cut off by a
  // crash are removed from the disk roots (DiskFs.sweepStaleUploads), and the outcome logged.
  let swept = false;
  const sweepUploads = (): void => {
    if (swept) return;
    swept = true;
    for (const root of new Set([options.root, anonymous?.root])) {
      if (root === undefined || !disk(root).sweepsUploads) continue;
      disk(root).sweepStaleUploads().then(
        (r) => logger.info({ event: 'upload-sweep', root, ...r }, `removed ${r.removed} stale temporary upload file(s)`),
        (err: unknown) => logger.warn({ event: 'upload-sweep-failed', root }, errorText(err)),
      );
    }
  };

  async function fsFor(user: AuthUser, root: string | undefined): Promise<VirtualFs> {
    if (typeof options.fs === 'function') return options.fs(user);
    if (options.root) return disk(root === undefined ? options.root : resolveHostPath(options.root, root));
    return options.fs!;
  }

  async function login(name: string, password: string, remoteAddress: string, secure: boolean): Promise<FtpUser | undefined> {
    if (anonymous && (name === 'anonymous' || name === 'ftp')) {
      const fs = anonymous.fs ?? (anonymous.root ? disk(anonymous.root) : await fsFor({ name, attributes: {} }, undefined));
      return { name, anonymous: true, fs, perms: parsePermissions(READ_PERMISSIONS), home: '/' };
    }
    if (!options.auth) return undefined;
    const user = await options.auth.authenticate({ user: name, password, remoteAddress, secure });
    if (!user) return undefined;
    const attrs = ftpAttributes(user);
    const perms = attrs.perms === undefined ? defaultPerms : parsePermissions(attrs.perms);
    const fs = await fsFor(user, attrs.root);
    return { name: user.name, anonymous: false, fs: attrs.writable ? writableOnlyUnder(fs, attrs.writable) : fs, perms, home: '/', auth: user };
  }

  // Sessions not logged in yet, swept by the listeners' housekeeping tick (RFC 2577 §2 slowloris guard).
  const awaitingLogin = new Set<FtpSession>();
  const sweepLogins = (now: number): void => {
    for (const session of awaitingLogin) session.checkLoginTimeout(now);
  };
  const ctx: ServerContext = {
    limits,
    banner: options.banner ?? DEFAULT_BANNER,
    logger,
    table: commandTable(options.commands),
    throttle,
    auth: options.auth,
    anonymousEnabled: anonymous !== undefined,
    login,
    secureContext,
    requireTlsForLogin: options.requireTlsForLogin === true,
    requireTlsForData: options.requireTlsForData === true,
    passivePorts,
    masquerade: options.masquerade,
    hosts: options.hosts,
    sessionOpened: (session) => void awaitingLogin.add(session),
    sessionLoggedIn: (session) => void awaitingLogin.delete(session),
    sessionClosed: (session) => void awaitingLogin.delete(session),
  };

  const listenerOptions = {
    logger,
    maxConnections: limits.maxConnections,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    idleTimeoutMs: limits.idleTimeoutMs,
    closeTimeoutMs: limits.closeTimeoutMs,
    onTick: sweepLogins,
    rejectReply: (reason: string) =>
      formatReply(replies.closing(reason === 'max-per-ip' ? 'Too many connections from your address, try again later.' : 'Too many connections, try again later.')),
    ...(options.proxyProtocol ? { proxyProtocol: options.proxyProtocol } : {}),
  };
  const accept = (channel: Channel, opts: { implicitTls?: boolean } = {}): FtpSession => new FtpSession(channel, ctx, opts);
  // Sessions over channels the embedder made (no listener owns them): close() ends them too.
  const external = new Set<Channel>();
  const acceptExternal = (channel: Channel, opts: { implicitTls?: boolean } = {}): FtpSession => {
    const session = accept(channel, opts);
    external.add(channel);
    void channel.closed.then(() => external.delete(channel));
    return session;
  };
  const plain: Listener = createListener({ ...listenerOptions, name: 'ftp' }, (ch) => accept(ch));
  let implicit: Listener | undefined;

  const server: FtpServer = {
    listen: async (port, host) => {
      sweepUploads();
      return (await plain.listen(port, host)) as AddressInfo;
    },
    async listenImplicitTls(port, host) {
      if (!secureContext) throw new Error('implicit FTPS needs the tls option');
      sweepUploads();
      implicit ??= createListener({ ...listenerOptions, name: 'ftps', tls: { secureContext } }, (ch) => accept(ch, { implicitTls: true }));
      return (await implicit.listen(port, host)) as AddressInfo;
    },
    async close(closeOptions) {
      for (const channel of external) channel.requestShutdown();
      await Promise.all([plain.close(closeOptions), implicit?.close(closeOptions), ...[...external].map((c) => c.closed)]);
      // No thread of this server outlives it: the lister of the DiskFs it made, and those of the DiskFs given to it.
      const given = [options.fs, anonymous?.fs].filter((fs): fs is DiskFs => fs instanceof DiskFs);
      await Promise.all([lister.close(), ...given.map((fs) => fs.close())]);
    },
    address: () => plain.address() as AddressInfo | null,
    implicitTlsAddress: () => (implicit?.address() as AddressInfo | null | undefined) ?? null,
    get connections() {
      return plain.connections + (implicit?.connections ?? 0);
    },
    get counters() {
      // Both listeners added up, as POP3 does: the implicit-FTPS sessions count too.
      if (!implicit) return plain.counters;
      const sum = { ...plain.counters };
      for (const key of Object.keys(sum) as Array<keyof Counters>) sum[key] += implicit.counters[key];
      return sum;
    },
    accept: acceptExternal,
    [Symbol.asyncDispose]: () => server.close({ timeoutMs: 1000 }),
  };
  return server;
}
