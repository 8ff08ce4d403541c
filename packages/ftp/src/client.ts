import { Readable, type Writable } from 'node:stream';
import type * as tls from 'node:tls';
import { connect, CoreError, errorText, silentLogger, type Logger } from '@gorgon/core';
import { ControlConnection } from './client-control.js';
import { DataConnection, type DataTlsOptions } from './client-data.js';
import { FtpClientError, FtpError } from './client-errors.js';
import { parseList, parseMlsd, parseMlsdTime, parseNlst, type FtpEntry } from './client-list.js';
import { resolveClientOptions, type FtpClientOptions, type ResolvedFtpClientOptions } from './client-options.js';
import { choosePassiveAddress } from './client-passive.js';
import { parseEpsvReply, parseFeatures, parsePasvReply, replyText, type FtpReply } from './client-reply.js';
import { tlsConnectOptions as tlsFor, verifyPeer } from './client-tls.js';

/** Largest listing the client reads into memory. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

/** Options of a download. */
export interface DownloadOptions {
  /** Start at this byte (REST). @see RFC 3659 §5 */
  offset?: number;
  /** Called for every chunk received, with its size. */
  onData?: (bytes: number) => void;
}

/** Options of an upload. */
export interface UploadOptions {
  /** Resume the remote file at this byte (REST before STOR). */
  offset?: number;
  /** APPE instead of STOR. */
  append?: boolean;
  onData?: (bytes: number) => void;
}

/**
 * An FTP client on the core's machinery: the control connection is a {@link ControlConnection}
 * (a LineSession) over `connect()`, data connections are passive TCP sockets with TCP_NODELAY,
 * protected with TLS under PROT P and resuming the control connection's TLS session.
 *
 * Commands run one at a time; concurrent calls queue. A negative reply throws {@link FtpError}
 * (with the reply `code`) and leaves the session usable; a lost connection, a timeout or a broken
 * reply throws {@link FtpClientError} and closes the session.
 *
 * ```ts
 * await using client = await FtpClient.connect({ host: 'ftp.example.org' });
 * const entries = await client.listDir('/pub');
 * await client.download('/pub/README', createWriteStream('README'));
 * ```
 * @see RFC 959, RFC 2389 (FEAT), RFC 2428 (EPSV), RFC 3659 (SIZE, MDTM, REST, MLSD), RFC 4217 (FTPS)
 */
export class FtpClient {
  readonly options: ResolvedFtpClientOptions;
  readonly #control: ControlConnection;
  readonly #log: Logger;
  #features = new Map<string, string>();
  #queue: Promise<unknown> = Promise.resolve();
  #epsvRefused = false;
  #protected = false;
  #session: Buffer | undefined;
  #type: string | undefined;
  #closed = false;
  /** The data connection of the transfer in progress, aborted when the session ends. */
  #data: DataConnection | undefined;

  private constructor(control: ControlConnection, options: ResolvedFtpClientOptions) {
    this.#control = control;
    this.options = options;
    this.#log = control.channel.log;
    if (control.channel.secure) this.#watchSessions();
    void control.channel.closed.then(() => this.#data?.destroy());
  }

  /**
   * Connects, reads the greeting, secures the session if asked (AUTH TLS, or implicit TLS),
   * logs in, protects data connections (PBSZ 0, PROT P), reads FEAT and switches to TYPE I.
   * @see RFC 959 §5.4 (connection establishment and login sequence), RFC 4217 §4–§9
   */
  static async connect(options: FtpClientOptions): Promise<FtpClient> {
    const resolved = resolveClientOptions(options);
    const channel = await connect({
      host: resolved.host,
      port: resolved.port,
      connectTimeoutMs: resolved.connectTimeoutMs,
      logger: resolved.logger ?? silentLogger,
      ...(resolved.loop ? { loop: resolved.loop } : {}),
      ...(resolved.secure === 'implicit' ? { tls: tlsFor(resolved) } : {}),
    }).catch((err: unknown) => {
      const kind = err instanceof CoreError && err.code === 'timeout' ? 'timeout' : 'connect-failed';
      throw new FtpClientError(kind, errorText(err), { cause: err });
    });
    const client = new FtpClient(new ControlConnection(channel), resolved);
    try {
      await client.#greeting();
      if (resolved.secure === 'explicit') await client.#authTls();
      await client.login(resolved.user, resolved.password, resolved.account);
      if (resolved.secure !== false) {
        await client.#expect('PBSZ 0', [200]);
        await client.#expect('PROT P', [200]);
        client.#protected = true;
      }
      await client.features();
      if (client.#features.has('UTF8')) await client.#command('OPTS UTF8 ON');
      await client.type('I');
    } catch (err) {
      client.close();
      throw err;
    }
    return client;
  }

  /** The FEAT reply of the last `features()` call, by upper-case name. */
  get featureSet(): ReadonlyMap<string, string> {
    return this.#features;
  }

  /** True once the session is closed. */
  get closed(): boolean {
    return this.#closed || this.#control.failed;
  }

  /** USER, then PASS and ACCT as the server asks. @see RFC 959 §4.1.1, §6 (state diagrams) */
  async login(user: string, password: string, account?: string): Promise<void> {
    let reply = await this.#command(`USER ${user}`);
    if (reply.code === 331) reply = await this.#command(`PASS ${password}`, 'PASS ****');
    if (reply.code === 332) {
      if (account === undefined) throw new FtpError(reply, 'PASS ****');
      reply = await this.#command(`ACCT ${account}`);
    }
    if (reply.code !== 230 && reply.code !== 202) throw new FtpError(reply, reply.code === 530 ? 'login' : 'USER');
  }

  /** FEAT, remembered in `featureSet`; an empty map when the server has none. @see RFC 2389 §3 */
  async features(): Promise<ReadonlyMap<string, string>> {
    const reply = await this.#command('FEAT');
    this.#features = parseFeatures(reply);
    return this.#features;
  }

  /** Sends a command and returns its reply, whatever the code (no data connection). */
  async send(command: string): Promise<FtpReply> {
    return this.#command(command);
  }

  /** TYPE (I for binary, A for ASCII). @see RFC 959 §3.1.1 */
  async type(type: 'I' | 'A'): Promise<void> {
    if (this.#type === type) return;
    await this.#expect(`TYPE ${type}`, [200]);
    this.#type = type;
  }

  /** PWD, with the doubled quotes of RFC 959 Appendix II undone. */
  async pwd(): Promise<string> {
    const reply = await this.#expect('PWD', [257]);
    const match = /"((?:[^"]|"")*)"/.exec(reply.lines[0] ?? '');
    if (!match) throw new FtpClientError('protocol', `cannot read the directory in ${JSON.stringify(replyText(reply))}`);
    return match[1]!.replace(/""/g, '"');
  }

  /** CWD. @see RFC 959 §4.1.1 */
  async cd(path: string): Promise<void> {
    await this.#expect(`CWD ${path}`, [250, 200]);
  }

  /** SIZE in bytes (under TYPE I). @see RFC 3659 §4 */
  async size(path: string): Promise<number> {
    const reply = await this.#expect(`SIZE ${path}`, [213]);
    const text = (reply.lines[0] ?? '').trim();
    if (!/^\d+$/.test(text)) throw new FtpClientError('protocol', `cannot read the size in ${JSON.stringify(text)}`);
    return Number(text);
  }

  /** MDTM, in UTC. @see RFC 3659 §3 */
  async modifiedTime(path: string): Promise<Date> {
    const reply = await this.#expect(`MDTM ${path}`, [213]);
    const date = parseMlsdTime((reply.lines[0] ?? '').trim());
    if (!date) throw new FtpClientError('protocol', `cannot read the time in ${JSON.stringify(replyText(reply))}`);
    return date;
  }

  /** LIST, parsed (Unix `ls -l` or DOS form). */
  async list(path?: string): Promise<FtpEntry[]> {
    return parseList(await this.#listing(path === undefined ? 'LIST' : `LIST ${path}`));
  }

  /** MLSD, parsed into entries with their facts. @see RFC 3659 §7 */
  async mlsd(path?: string): Promise<FtpEntry[]> {
    return parseMlsd(await this.#listing(path === undefined ? 'MLSD' : `MLSD ${path}`));
  }

  /** NLST: plain names. @see RFC 959 §4.1.3 */
  async nlst(path?: string): Promise<string[]> {
    return parseNlst(await this.#listing(path === undefined ? 'NLST' : `NLST ${path}`));
  }

  /** MLSD when the server announces MLST in FEAT, else LIST. */
  async listDir(path?: string): Promise<FtpEntry[]> {
    if (this.#features.has('MLST')) {
      try {
        return await this.mlsd(path);
      } catch (err) {
        if (!(err instanceof FtpError) || ![500, 501, 502].includes(err.code)) throw err;
      }
    }
    return this.list(path);
  }

  /**
   * RETR into `sink`, from `offset` (REST) if given. Resolves with the bytes received once the
   * server confirmed the transfer (226/250) and `sink` has finished.
   * @see RFC 959 §4.1.3 (RETR), RFC 3659 §5 (REST)
   */
  async download(path: string, sink: Writable, options: DownloadOptions = {}): Promise<number> {
    return this.#transfer(`RETR ${path}`, (data) => data.pipeTo(sink, options.onData), options.offset ?? 0);
  }

  /** STOR (or APPE) from `source`; resolves with the bytes sent once the server confirmed. */
  async upload(source: Readable | Buffer | string, path: string, options: UploadOptions = {}): Promise<number> {
    const input = typeof source === 'string' || Buffer.isBuffer(source) ? Readable.from([Buffer.from(source)]) : source;
    const verb = options.append ? 'APPE' : 'STOR';
    return this.#transfer(`${verb} ${path}`, (data) => data.writeFrom(input, options.onData), options.offset ?? 0);
  }

  /** QUIT and close; never throws. @see RFC 959 §4.1.1 */
  async quit(): Promise<void> {
    if (this.closed) {
      this.close();
      return;
    }
    try {
      await this.#command('QUIT');
    } catch {
      // the goodbye is a courtesy: a server that hangs up first has said it too
    }
    this.close();
  }

  /** Closes the control connection at once. */
  close(): void {
    this.#closed = true;
    this.#control.close({ flush: false });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.quit();
  }

  async #greeting(): Promise<void> {
    let reply = await this.#read(this.options.timeoutMs, '');
    // 120: "service ready in nnn minutes"; the 220 follows. @see RFC 959 §5.4
    if (reply.code === 120) reply = await this.#read(this.options.timeoutMs, '');
    if (reply.code !== 220) throw new FtpError(reply, '');
  }

  async #authTls(): Promise<void> {
    await this.#expect('AUTH TLS', [234]);
    const options = tlsFor(this.options);
    // For an IP address there is no SNI name, and the core's upgrade would check the certificate
    // against "localhost": verify the chain there and the address here, before any byte is sent.
    const byAddress = options.servername === undefined && options.rejectUnauthorized !== false;
    try {
      await this.#control.startTls({ isServer: false, ...options, ...(byAddress ? { rejectUnauthorized: false } : {}) });
    } catch (err) {
      throw new FtpClientError('tls-failed', errorText(err), { cause: err });
    }
    if (byAddress) {
      const problem = verifyPeer(this.#control.channel.stream as tls.TLSSocket, this.options.host);
      if (problem) {
        this.close();
        throw new FtpClientError('tls-failed', `TLS handshake failed: ${problem}`);
      }
    }
    this.#watchSessions();
  }

  /** Keeps the latest TLS session of the control connection, to resume it on data connections. */
  #watchSessions(): void {
    const socket = this.#control.channel.stream as tls.TLSSocket;
    socket.on('session', (session: Buffer) => (this.#session = session));
  }

  #dataTls(): DataTlsOptions | undefined {
    if (!this.#protected) return undefined;
    const socket = this.#control.channel.stream as tls.TLSSocket;
    const options = tlsFor(this.options);
    return { ...options, servername: options.servername ?? this.options.host, session: this.#session ?? socket.getSession() };
  }

  async #listing(command: string): Promise<string> {
    const body = await this.#transfer(command, (data) => data.readAll(MAX_LISTING_BYTES), 0);
    return body.toString('utf8');
  }

  /** Opens a passive data connection (under the command lock). @see RFC 2428 §3 (EPSV), RFC 959 §4.1.2 (PASV) */
  async #passive(): Promise<DataConnection> {
    const mode = this.options.passive;
    const controlHost = this.#control.channel.remoteAddress;
    let target: { host: string; port: number } | undefined;
    if (mode !== 'pasv' && !this.#epsvRefused) {
      const reply = await this.#commandNow('EPSV');
      if (reply.code === 229) {
        target = { host: controlHost, port: parseEpsvReply(reply) };
      } else if (mode === 'epsv' || ![500, 501, 502].includes(reply.code)) {
        throw new FtpError(reply, 'EPSV');
      } else {
        this.#epsvRefused = true;
      }
    }
    if (!target) {
      const reply = await this.#expectNow('PASV', [227]);
      target = choosePassiveAddress(parsePasvReply(reply), controlHost, this.options.trustPasvAddress);
    }
    const tlsOptions = this.#dataTls();
    return DataConnection.open({
      ...target,
      connectTimeoutMs: this.options.connectTimeoutMs,
      stallTimeoutMs: this.options.dataTimeoutMs,
      ...(tlsOptions ? { tls: tlsOptions } : {}),
    });
  }

  /**
   * One transfer: passive connection, REST when resuming, the command, its preliminary reply
   * (150/125), the data, and the completion reply (226/250), all under the command lock.
   */
  #transfer<T>(command: string, run: (data: DataConnection) => Promise<T>, offset: number): Promise<T> {
    return this.#exclusive(async () => {
      const data = await this.#passive();
      this.#data = data;
      if (this.closed) data.destroy();
      try {
        if (offset > 0) await this.#expectNow(`REST ${offset}`, [350]);
        const first = await this.#commandNow(command);
        if (first.code >= 300) throw new FtpError(first, command);
        data.startTls();
        // A server may skip the 1yz reply and answer 226 straight away (an empty file).
        const final = first.code < 200 ? this.#read(0, command) : Promise.resolve(first);
        final.catch(() => {});
        let result: T;
        try {
          result = await run(data);
        } catch (err) {
          data.destroy();
          const reply = await this.#withTimeout(final, command).catch(() => undefined);
          // The server's word explains a broken connection; a local file error is ours alone.
          const local = err instanceof FtpClientError && err.kind === 'local-io';
          if (reply && reply.code >= 400 && !local) throw new FtpError(reply, command);
          throw err;
        }
        const reply = await this.#withTimeout(final, command);
        if (reply.code >= 300) throw new FtpError(reply, command);
        return result;
      } finally {
        this.#data = undefined;
        data.destroy();
      }
    });
  }

  async #withTimeout(reply: Promise<FtpReply>, command: string): Promise<FtpReply> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // The reply may still come and would answer the next command: this session is done.
        this.close();
        reject(new FtpClientError('timeout', `${command}: no reply within ${this.options.timeoutMs} ms after the transfer`));
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([reply, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #command(line: string, logged = line): Promise<FtpReply> {
    return this.#exclusive(() => this.#commandNow(line, logged));
  }

  #expect(line: string, codes: readonly number[]): Promise<FtpReply> {
    return this.#exclusive(() => this.#expectNow(line, codes));
  }

  async #expectNow(line: string, codes: readonly number[]): Promise<FtpReply> {
    const reply = await this.#commandNow(line);
    if (!codes.includes(reply.code)) throw new FtpError(reply, line);
    return reply;
  }

  async #commandNow(line: string, logged = line): Promise<FtpReply> {
    if (this.closed) throw new FtpClientError('closed', `${logged}: the connection is closed`);
    this.#log.debug({ event: 'ftp-command' }, logged);
    this.#control.send(line);
    return this.#read(this.options.timeoutMs, logged);
  }

  async #read(timeoutMs: number, command: string): Promise<FtpReply> {
    try {
      const reply = await this.#control.read(timeoutMs);
      this.#log.debug({ event: 'ftp-reply', code: reply.code }, replyText(reply));
      return reply;
    } catch (err) {
      // After a timeout a late reply would answer the wrong command: give the session up.
      this.close();
      if (err instanceof FtpClientError) throw new FtpClientError(err.kind, `${command || 'greeting'}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}
