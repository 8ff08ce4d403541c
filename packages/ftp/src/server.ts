import type { AddressInfo } from 'node:net';
import { resolve as resolveHostPath } from 'node:path';
import type * as tls from 'node:tls';
import {
  checkCommonOptions,
  observeCommands,
  createProtocolServer,
  errorText,
  LoginFlow,
  resolveLimits,
  ServerEvents,
  ServerOptionError,
  silentLogger,
  toSecureContext,
  trustList,
  type AuthUser,
  type CommonServerOptions,
  type GorgonServer,
  type LoginThrottle,
  type LoginThrottleOptions,
  type ServerEventMap,
} from '@gorgon/core';
import { commandTable, tlsVerbs } from './commands/index.js';
import type { FtpCustomCommand } from './commands/table.js';
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

/**
 * Options of {@link createFtpServer}: the common server options (`store`, `auth`, `logger`,
 * `tls`, `limits`, `proxyProtocol`, `commands`, `hooks`, `on`) and FTP's own. Every option is
 * optional except a way to find files (`store` or `root`).
 */
export interface FtpServerOptions extends CommonServerOptions<FtpLimits, VirtualFs | FsFactory, FtpCustomCommand> {
  /** One filesystem for every user, or a factory per user. */
  store?: VirtualFs | FsFactory;
  /** @deprecated The old name of `store`. */
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
  /** Allow `anonymous`/`ftp` logins with any password, read-only. Default off. */
  anonymous?: boolean | AnonymousOptions;
  /** Permission letters of users whose record has none. Default `elradfmwMT` (everything). */
  defaultPermissions?: string;
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
  /** Failed-login delays, shared by all sessions. */
  throttle?: LoginThrottle | LoginThrottleOptions;
}

/**
 * A running FTP server: the core's one server shape (`listen` for the control port with AUTH
 * TLS, `listenTls` for implicit FTPS, `accept(stream)`, `close`, `address`, `tlsAddress`,
 * `connections`, `counters`, `on(event)`), plus the old names of the implicit-TLS members.
 */
export interface FtpServer extends GorgonServer {
  /** @deprecated Use `listenTls`. */
  listenImplicitTls(port: number, host?: string): Promise<AddressInfo>;
  /** @deprecated Use `tlsAddress`. */
  implicitTlsAddress(): AddressInfo | null;
}

/** Resolves one FTP option, turning its parser's error into the one-sentence ServerOptionError. */
function option<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new ServerOptionError('ftp', name, `is not valid: ${errorText(err)}`);
  }
}

/** Parses "50000-50100" into a port range; throws one sentence on a bad range. */
export function parsePortRange(text: string): PortRange {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1024 || max > 65535 || min > max)
    throw new Error(`passive port range "${text}" must look like 50000-50100 (ports 1024-65535)`);
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
  checkCommonOptions('ftp', options);
  const store = options.store ?? options.fs;
  if (!store && !options.root) throw new ServerOptionError('ftp', 'store', 'or root is required (a VirtualFs, a factory, or a directory)');
  if (store && typeof store !== 'function' && typeof (store as Partial<VirtualFs>).stat !== 'function') {
    throw new ServerOptionError('ftp', 'store', 'must be a VirtualFs or a function of the user returning one');
  }
  const limits = resolveLimits('ftp', defaultFtpLimits, options.limits, { writeChunkBytes: 1 });
  const logger = options.logger ?? silentLogger;
  const secureContext: tls.SecureContext | undefined = options.tls ? toSecureContext(options.tls) : undefined;
  const events = new ServerEvents(logger);
  for (const [name, fn] of Object.entries(options.on ?? {})) events.on(name as keyof ServerEventMap, fn as (e: unknown) => void);
  const loginFlow = new LoginFlow({ throttle: options.throttle, maxAuthFailures: limits.maxAuthFailures, events });
  const passivePorts = option('passivePorts', () =>
    typeof options.passivePorts === 'string' ? parsePortRange(options.passivePorts) : options.passivePorts,
  );
  const defaultPerms = option('defaultPermissions', () => parsePermissions(options.defaultPermissions ?? ALL_PERMISSIONS));
  // The helper threads of large listings, one set for every DiskFs made here (per-user roots
  // included), made at the first large listing and ended by close().
  const lister = new DirectoryLister();
  const disks = new Map<string, DiskFs>();
  const disk = (path: string): DiskFs => {
    let fs = disks.get(path);
    if (!fs) {
      fs = new DiskFs(path, { ...options.disk, [kSharedLister]: lister } as DiskFsOptions);
      disks.set(path, fs);
    }
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
      disk(root)
        .sweepStaleUploads()
        .then(
          (r) => logger.info({ event: 'upload-sweep', root, ...r }, `removed ${r.removed} stale temporary upload file(s)`),
          (err: unknown) => logger.warn({ event: 'upload-sweep-failed', root }, errorText(err)),
        );
    }
  };

  async function fsFor(user: AuthUser, root: string | undefined): Promise<VirtualFs> {
    if (typeof store === 'function') return store(user);
    if (options.root) return disk(root === undefined ? options.root : resolveHostPath(options.root, root));
    return store!;
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
    return {
      name: user.name,
      anonymous: false,
      fs: attrs.writable ? writableOnlyUnder(fs, attrs.writable) : fs,
      perms,
      home: '/',
      auth: user,
    };
  }

  const table = commandTable(options.commands, secureContext !== undefined);
  observeCommands(table, events);
  const ctx: ServerContext = {
    limits,
    banner: options.banner ?? DEFAULT_BANNER,
    logger,
    table,
    loginFlow,
    throttle: loginFlow.throttle,
    events,
    unoffered: secureContext ? new Set() : tlsVerbs(),
    auth: options.auth,
    anonymousEnabled: anonymous !== undefined,
    login,
    secureContext,
    requireTlsForLogin: options.requireTlsForLogin === true,
    requireTlsForData: options.requireTlsForData === true,
    passivePorts,
    masquerade: options.masquerade,
    // The control listener reads the same list (checked by checkCommonOptions above).
    proxy: options.proxyProtocol
      ? { trusted: trustList(options.proxyProtocol.trusted), timeoutMs: options.proxyProtocol.timeoutMs ?? 5000 }
      : undefined,
    hosts: options.hosts,
  };

  const server = createProtocolServer({
    name: 'ftp',
    logger,
    limits,
    secureContext,
    proxyProtocol: options.proxyProtocol,
    hooks: options.hooks,
    events,
    rejectReply: (reason) =>
      formatReply(
        replies.closing(
          reason === 'max-per-ip'
            ? 'Too many connections from your address, try again later.'
            : reason === 'refused'
              ? 'Service not available, closing control connection.'
              : 'Too many connections, try again later.',
        ),
      ),
    // The session returns itself: the core sweeps its login deadline (RFC 2577 §2 slowloris guard).
    createSession: (channel, how) => new FtpSession(channel, ctx, how),
    beforeListen: sweepUploads,
    async afterClose() {
      // No thread of this server outlives it: the lister of the DiskFs it made, and those of the DiskFs given to it.
      const given = [store, anonymous?.fs].filter((fs): fs is DiskFs => fs instanceof DiskFs);
      await Promise.all([lister.close(), ...given.map((fs) => fs.close())]);
    },
  });
  return Object.assign(server, {
    listenImplicitTls: (port: number, host?: string) => server.listenTls(port, host),
    implicitTlsAddress: () => server.tlsAddress(),
  });
}
