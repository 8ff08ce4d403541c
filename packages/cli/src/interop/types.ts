import type { ExecOptions, ExecResult } from './exec.js';

/** The protocols the matrix drives. */
export type Protocol = 'ftp' | 'pop3' | 'nntp' | 'http' | 'finger';

/** One column of the matrix. `tls` is the upgrade (AUTH TLS, STLS, STARTTLS) on a plain URL and the implicit handshake on ftps://, pop3s://, nntps://. */
export type Feature =
  | 'login'
  | 'tls'
  | 'list'
  | 'retrieve'
  | 'resume'
  | 'top'
  | 'overview'
  | 'head'
  | 'conditional'
  | 'keep-alive'
  | 'store'
  | 'post'
  | 'delete'
  | 'query';

/** The columns of each protocol, in the order the table shows them. */
export const FEATURES: Record<Protocol, readonly Feature[]> = {
  ftp: ['login', 'tls', 'list', 'retrieve', 'resume', 'store', 'delete'],
  pop3: ['login', 'tls', 'list', 'retrieve', 'top', 'delete'],
  nntp: ['login', 'tls', 'list', 'overview', 'retrieve', 'post'],
  http: ['retrieve', 'head', 'resume', 'conditional', 'keep-alive'],
  finger: ['list', 'query'],
};

/** A server to test, from its URL. */
export interface Target {
  /** The URL as given, with any password replaced by `***`. */
  url: string;
  protocol: Protocol;
  /** TLS from the first byte (ftps, pop3s, nntps, https). */
  implicitTls: boolean;
  host: string;
  port: number;
  /** The URL's path, decoded, without the leading slash. */
  path: string;
  user?: string;
  password?: string;
}

/** Settings of one run, from the command's flags. */
export interface Settings {
  /** Do not verify certificates. */
  insecure: boolean;
  /** PEM file of CA certificates to trust. */
  caFile?: string;
  /** Run the features that change the server (FTP store/delete, NNTP post). */
  write: boolean;
  /** FTP: the directory to upload into (default: the URL's directory). */
  uploadDir?: string;
  /** NNTP: the group to post to (default: the URL's group). */
  postGroup?: string;
  /** Seconds each client command may take. */
  timeoutMs: number;
}

/** What a look at the server before the clients run found out (all optional: a probe may fail). */
export interface Probe {
  /** Why the probe failed; the cells still run and show the server's behaviour. */
  error?: string;
  /** Upper-case capability words (FEAT, CAPA, CAPABILITIES); undefined when unknown. */
  capabilities?: ReadonlySet<string>;
  /** The reference content a retrieve is checked against: an FTP file, POP3 message, NNTP article, HTTP resource. */
  sample?: { name: string; data: Buffer };
  /** FTP: the directory listed; NNTP: the group read. */
  directory?: string;
  group?: string;
  /** POP3: the message retrieved; NNTP: the article number in `group`. */
  number?: number;
  messageId?: string;
  /** HTTP: the Last-Modified of the resource. */
  lastModified?: string;
  /** Why there is no sample (an empty mailbox, a directory without files). */
  noSample?: string;
}

/** A stock client found (or not) on this machine. */
export interface Client {
  /** What `--clients` names: curl, lftp, wget, python, mpop, fetchmail, suck, rpost, finger, nc. */
  id: string;
  /** The row label: the program, or for Python the library and the interpreter. */
  label: string;
  /** The program to run; undefined when it is not installed. */
  bin?: string;
  /** The version read from the machine, e.g. `7.88.1`. */
  version?: string;
  /** Why it cannot run here (not installed), when it cannot. */
  missing?: string;
}

/** Everything a scenario needs to run one cell. */
export interface Context {
  target: Target;
  settings: Settings;
  probe: Probe;
  client: Client;
  /** A fresh directory for this cell's files (HOME, downloads, rc files). */
  dir: string;
  /** Runs a command under the run's timeout, in `dir` with HOME=`dir`. */
  exec(argv: readonly string[], options?: Partial<ExecOptions>): Promise<ExecResult>;
  /** A name no other run uses: `gorgon-interop-<client>-<random><suffix>`. */
  unique(suffix: string): string;
}

/** A cell's outcome from a scenario: nothing is a pass; a string is the failure's reason. */
export type Outcome = string | undefined;

/** One row of a protocol's table: a client doing a feature. */
export interface Scenario {
  /** The client's id (`python` runs once per Python interpreter found). */
  client: string;
  /** For Python: the standard library module used (ftplib, poplib, nntplib, http.client). */
  library?: string;
  feature: Feature;
  /** Why this cell does not apply here (shown as n/a), or undefined. */
  skip?(c: Context): string | undefined;
  run(c: Context): Promise<Outcome>;
}

/** A result in the matrix. */
export interface Cell {
  client: string;
  feature: Feature;
  status: 'pass' | 'fail' | 'n/a';
  reason?: string;
  ms?: number;
}
