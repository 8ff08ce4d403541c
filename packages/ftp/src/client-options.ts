import type { Logger, Loop } from '@gorgon/core';

/** How the client protects the session. @see RFC 4217 (explicit), RFC 4217 §1 / ftps (implicit) */
export type FtpSecurity = false | 'explicit' | 'implicit';

/** TLS settings for FTPS. */
export interface FtpTlsOptions {
  /** Trusted CA certificates (PEM), for a self-signed server certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the server certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** The name to verify (and send as SNI); default the host. */
  servername?: string;
}

/** Which passive command to use: EPSV with a fall-back to PASV (default), or only one of them. */
export type PassiveMode = 'auto' | 'epsv' | 'pasv';

/** Options of {@link FtpClient.connect}. */
export interface FtpClientOptions {
  host: string;
  /** Default 21, or 990 with implicit TLS. */
  port?: number;
  /** `'explicit'`: AUTH TLS on the control port; `'implicit'`: TLS from the first byte (ftps://). */
  secure?: FtpSecurity;
  tls?: FtpTlsOptions;
  /** Default `anonymous`. */
  user?: string;
  /** Default `anonymous@` (the address-as-password convention of RFC 1635). */
  password?: string;
  /** Sent with ACCT when the server asks for it (332). */
  account?: string;
  /** Wait this long for each reply. Default 30 s. */
  timeoutMs?: number;
  /** Wait this long for the control and each data connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Give up on a data connection that moves no byte for this long. Default 30 s. */
  dataTimeoutMs?: number;
  /** Default `'auto'`: EPSV, and PASV when the server refuses EPSV with 500/501/502. */
  passive?: PassiveMode;
  /**
   * Use the address a PASV reply names. Default false: connect to the control connection's peer
   * with the reply's port, as curl's --ftp-skip-pasv-ip does, since servers behind NAT often
   * name an address nobody can reach. Even when true, an unroutable address is ignored.
   */
  trustPasvAddress?: boolean;
  /** Command and reply lines at debug level, with the password masked. */
  logger?: Logger;
  /** The core loop that sweeps the control connection; share one between many clients. */
  loop?: Loop;
}

/** Options with their defaults filled in. */
export type ResolvedFtpClientOptions = Required<Omit<FtpClientOptions, 'tls' | 'account' | 'logger' | 'loop'>> &
  Pick<FtpClientOptions, 'tls' | 'account' | 'logger' | 'loop'>;

/** Fills in the defaults of {@link FtpClientOptions}. */
export function resolveClientOptions(options: FtpClientOptions): ResolvedFtpClientOptions {
  const secure = options.secure ?? false;
  return {
    host: options.host,
    port: options.port ?? (secure === 'implicit' ? 990 : 21),
    secure,
    tls: options.tls,
    user: options.user ?? 'anonymous',
    password: options.password ?? 'anonymous@',
    account: options.account,
    timeoutMs: options.timeoutMs ?? 30_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    dataTimeoutMs: options.dataTimeoutMs ?? 30_000,
    passive: options.passive ?? 'auto',
    trustPasvAddress: options.trustPasvAddress ?? false,
    logger: options.logger,
    loop: options.loop,
  };
}
