import type { Duplex } from 'node:stream';
import {
  LineSession,
  errorText,
  finishCommand,
  printable,
  replyClassOf,
  splitCommand,
  startCommand,
  type Channel,
  type CommandTiming,
  type GateRefusal,
} from '@gorgon/core';
import type { FtpCommand } from './commands/table.js';
import type { FtpUser, ServerContext } from './context.js';
import { DataChannel } from './data-channel.js';
import { fsErrorReply, transferFailureReply } from './error-replies.js';
import { FsError } from './fs.js';
import { MLST_FACTS, type MlstFact } from './list-format.js';
import { decodeLatin1Line, toWire } from './names.js';
import { BadPathError, resolvePath } from './path.js';
import { formatReply, FtpReplyError, replies, type FtpReply } from './replies.js';

const ALL_FACTS: ReadonlySet<MlstFact> = new Set(MLST_FACTS);

/** Where a session stands in the login sequence. @see RFC 959 §5.4 (USER, PASS) */
export type LoginState = 'user' | 'password' | 'ready';

/** A transfer in progress: the child resource the session owns and aborts. */
export interface ActiveTransfer {
  readonly verb: string;
  readonly path: string;
  readonly started: number;
  bytes: number;
  readonly controller: AbortController;
  done: Promise<void>;
}

// Telnet IP/DM bytes (IAC IP IAC DM, as lines are read as latin1) that ftplib and others send before ABOR.
const TELNET_PREFIX = /^[\u00FF\u00F4\u00F2\u00F1]+/;
// ftplib sends "ABOR\r\n" with MSG_OOB: the final LF becomes the TCP urgent byte and never
// reaches a reader without SO_OOBINLINE, so the line arrives as "ABOR\r" and stops there.
const URGENT_ABOR = /(^|[\r\n\xf2])ABOR\r$/i;
// Blanks before the verb (some clients pad after a Telnet prefix); never those at the end.
const LEADING_BLANKS = /^[ \t]+/;
// RFC 2640 §3.1: a CR in a pathname is sent as CR NUL, and CR NUL on input means CR.
const BARE_CR = /\r(?!\0)/;
const CR_NUL = /\r\0/g;

/** What a session keeps that most idle sessions never set (FtpSession's `#rare`). */
interface RareState {
  pendingUser: string;
  restOffset: number;
  renameFrom: string | undefined;
  host: string | undefined;
  mlstFacts: ReadonlySet<MlstFact>;
  transfer: ActiveTransfer | undefined;
  data: DataChannel | undefined;
  authFailures: number;
  badCommands: number;
}

/** `#bits` of a session: its yes/no settings and states in one field (idle sessions are many). */
const PBSZ = 1;
const EPSV_ALL = 2;
const IMPLICIT_TLS = 4;
const QUIT_PENDING = 8;
const CONTROL_LOST = 16;
const URGENT_ABOR_SEEN = 32;
const SAID_GOODBYE = 64;

/**
 * One FTP control connection: the login state machine, the per-session settings (TYPE,
 * working directory, REST, RNFR, PROT), the data channel, and at most one transfer running as
 * a child task so that ABOR, STAT and QUIT are heard while it runs.
 * @see RFC 959 §5.4 (command–reply sequences)
 */
/**
 * What a custom command's `run(session, arg)` (the `commands` option) may use of the session:
 * its login state, whether the control connection is TLS, the user, path resolution and the
 * reply.
 * @see RFC 959 §4.2
 */
export interface FtpCommandSession {
  readonly state: LoginState;
  readonly secure: boolean;
  /** The logged-in user, with their filesystem and permissions (throws 530 before login; use `login: true`). */
  readonly me: FtpUser;
  /** The virtual path of a client's path argument, against the working directory (553 on NUL or LF). */
  resolve(arg: string): string;
  /** Sends one reply, multi-line when it has several lines. */
  reply(r: FtpReply): void;
}

export class FtpSession extends LineSession implements FtpCommandSession {
  readonly ctx: ServerContext;
  state: LoginState = 'user';
  user: FtpUser | undefined;
  cwd = '/';
  type: 'A' | 'I' = 'A';
  prot: 'C' | 'P' = 'C';
  /** Settings and state most idle sessions never set, made on first use. */
  #rare: RareState | undefined;
  #bits = 0;
  /** The command waiting for its final reply, while someone watches `commandDone`. */
  #timing: CommandTiming | undefined;

  constructor(channel: Channel, ctx: ServerContext, options: { implicitTls?: boolean } = {}) {
    // latin1: one character per byte; onLine decodes names as bytes (names.ts), never U+FFFD.
    super(channel, { maxLineLength: ctx.limits.maxLineLength, encoding: 'latin1' });
    this.ctx = ctx;
    if (options.implicitTls === true) this.#bits = IMPLICIT_TLS;
    this.reply(replies.greeting(ctx.banner));
  }

  /** The name given by USER, waiting for PASS. */
  get pendingUser(): string {
    return this.#rare?.pendingUser ?? '';
  }
  set pendingUser(name: string) {
    if (name !== '' || this.#rare) this.#more().pendingUser = name;
  }

  /** The offset REST set for the next RETR/STOR (0: none). */
  get restOffset(): number {
    return this.#rare?.restOffset ?? 0;
  }
  set restOffset(offset: number) {
    if (offset !== 0 || this.#rare) this.#more().restOffset = offset;
  }

  /** The path RNFR named, for the RNTO that must follow. */
  get renameFrom(): string | undefined {
    return this.#rare?.renameFrom;
  }
  set renameFrom(path: string | undefined) {
    if (path !== undefined || this.#rare) this.#more().renameFrom = path;
  }

  /** The virtual host HOST selected (RFC 7151). */
  get host(): string | undefined {
    return this.#rare?.host;
  }
  set host(name: string | undefined) {
    if (name !== undefined || this.#rare) this.#more().host = name;
  }

  /** Selected MLSx facts (OPTS MLST); all of them until changed. */
  get mlstFacts(): ReadonlySet<MlstFact> {
    return this.#rare?.mlstFacts ?? ALL_FACTS;
  }
  set mlstFacts(facts: ReadonlySet<MlstFact>) {
    if (facts !== ALL_FACTS || this.#rare) this.#more().mlstFacts = facts;
  }

  /** The transfer running now, if any. */
  get transfer(): ActiveTransfer | undefined {
    return this.#rare?.transfer;
  }
  set transfer(t: ActiveTransfer | undefined) {
    if (t !== undefined || this.#rare) this.#more().transfer = t;
  }

  #more(): RareState {
    this.#rare ??= {
      pendingUser: '',
      restOffset: 0,
      renameFrom: undefined,
      host: undefined,
      mlstFacts: ALL_FACTS,
      transfer: undefined,
      data: undefined,
      authFailures: 0,
      badCommands: 0,
    };
    return this.#rare;
  }

  /** PBSZ was given (RFC 4217 §8: before PROT). */
  get pbsz(): boolean {
    return (this.#bits & PBSZ) !== 0;
  }
  set pbsz(on: boolean) {
    this.#set(PBSZ, on);
  }

  /** EPSV ALL was given: PORT, EPRT and PASV are refused from now on (RFC 2428 §4). */
  get epsvAll(): boolean {
    return (this.#bits & EPSV_ALL) !== 0;
  }
  set epsvAll(on: boolean) {
    this.#set(EPSV_ALL, on);
  }

  /** The session came in on the implicit-TLS port. */
  get implicitTls(): boolean {
    return (this.#bits & IMPLICIT_TLS) !== 0;
  }

  #is(bit: number): boolean {
    return (this.#bits & bit) !== 0;
  }

  #set(bit: number, on: boolean): void {
    this.#bits = on ? this.#bits | bit : this.#bits & ~bit;
  }

  /** The data channel, made at first use (most idle sessions never need one). */
  get data(): DataChannel {
    const rare = this.#more();
    rare.data ??= new DataChannel({
      localAddress: this.channel.localAddress === 'local' ? '127.0.0.1' : this.channel.localAddress,
      remoteAddress: this.channel.remoteAddress,
      connectTimeoutMs: this.ctx.limits.dataConnectTimeoutMs,
      log: this.channel.log,
      ...(this.ctx.passivePorts ? { passivePorts: this.ctx.passivePorts } : {}),
      ...(this.ctx.proxy ? { proxy: this.ctx.proxy } : {}),
      ...(this.ctx.secureContext ? { secureContext: this.ctx.secureContext } : {}),
    });
    return rare.data;
  }

  /**
   * Called by the server's housekeeping tick until it returns false: closes a session that has
   * not logged in in time (421). False once logged in, closing or closed.
   */
  checkLoginTimeout(now: number): boolean {
    const limit = this.ctx.limits.loginTimeoutMs;
    if (limit <= 0 || this.state === 'ready' || this.closing) return false;
    if (now - this.channel.openedAt < limit) return true;
    this.channel.log.info({ event: 'login-timeout' }, 'no login in time');
    this.reply(replies.closing('Login timeout: closing control connection.'));
    this.closeWhenDone();
    return false;
  }

  /** Sends one reply. */
  reply(r: FtpReply): void {
    if (this.channel.isClosed) return;
    // A 1xx is preliminary: RETR ends with its 226 (or 426), not with its 150.
    if (this.#timing && r.code >= 200) this.#timing = finishCommand(this.ctx.events, this.channel.id, this.#timing, replyClassOf(r.code));
    // A name that came as bytes (not UTF-8) goes back as those bytes.
    this.push(toWire(formatReply(r)));
  }

  /** True when the control connection is TLS (AUTH TLS or the implicit port). */
  get secure(): boolean {
    return this.channel.secure;
  }

  /** Resolves a client path against the working directory (553 on NUL or LF). */
  resolve(arg: string): string {
    try {
      return resolvePath(this.cwd, arg);
    } catch (err) {
      if (err instanceof BadPathError) throw new FtpReplyError(replies.nameNotAllowed('File name not allowed.'));
      throw err;
    }
  }

  /** The logged-in user; the gate guarantees one for commands that need it. */
  get me(): FtpUser {
    if (!this.user) throw new FtpReplyError(replies.notLoggedIn());
    return this.user;
  }

  /** Logs a user in after a successful check. */
  loggedIn(user: FtpUser): void {
    this.user = user;
    this.state = 'ready';
    this.cwd = user.home;
    if (this.#rare) this.#rare.authFailures = 0;
    this.channel.log.info({ event: 'login', user: user.name, anonymous: user.anonymous }, 'logged in');
  }

  /** Failed logins on this connection so far. */
  get authFailures(): number {
    return this.#rare?.authFailures ?? 0;
  }

  /** A failed login (counted and delayed by the LoginFlow); past the limit the connection closes (421). */
  loginFailed(failures: number, disconnect: boolean): void {
    this.#more().authFailures = failures;
    this.state = 'user';
    this.reply(replies.loginIncorrect());
    if (disconnect) {
      this.reply(replies.closing('Too many failed logins: closing control connection.'));
      this.closeWhenDone();
    }
  }

  /** REIN: back to the state after the greeting, keeping the TLS control connection. @see RFC 959 §4.1.1 */
  reinitialize(): void {
    this.user = undefined;
    this.state = 'user';
    this.pendingUser = '';
    this.cwd = '/';
    this.type = 'A';
    this.restOffset = 0;
    this.renameFrom = undefined;
    this.epsvAll = false;
    this.host = undefined;
    this.mlstFacts = ALL_FACTS;
    this.#rare?.data?.close();
  }

  /** QUIT: 221 now, or after the running transfer's reply. @see RFC 959 §4.1.1 */
  quit(): void {
    if (this.transfer) {
      this.#set(QUIT_PENDING, true);
      return;
    }
    this.reply(replies.goodbye());
    this.closeWhenDone();
  }

  /**
   * Runs a transfer as a child task: 150, the data connection, `work`, then 226 (or 425/426/
   * 451/552). `onFail` releases what the handler opened (an upload's temporary file).
   */
  beginTransfer(
    verb: string,
    path: string,
    opening: FtpReply,
    work: (stream: Duplex, t: ActiveTransfer) => Promise<FtpReply>,
    onFail: () => Promise<void>,
    options: { upload?: boolean } = {},
  ): void {
    const controller = new AbortController();
    const t: ActiveTransfer = { verb, path, started: Date.now(), bytes: 0, controller, done: Promise.resolve() };
    this.transfer = t;
    this.reply(opening);
    t.done = (async () => {
      let stream: Duplex;
      try {
        stream = await this.data.connect(this.prot === 'P', controller.signal, options);
      } catch (err) {
        this.data.close();
        await onFail().catch(() => undefined);
        this.channel.log.info({ event: 'data-failed', verb }, errorText(err));
        this.reply(controller.signal.aborted ? replies.transferAborted('Transfer aborted.') : replies.cannotOpenData());
        return;
      }
      try {
        const done = await work(stream, t);
        this.data.release(this.ctx.limits.closeTimeoutMs);
        this.channel.log.info(
          { event: 'transfer', verb, path: printable(path, 200), bytes: t.bytes, ms: Date.now() - t.started },
          'transfer complete',
        );
        this.#transferred(t, options.upload === true, true);
        this.reply(done);
      } catch (err) {
        this.data.reset(); // never a FIN: a cut download must not look complete
        await onFail().catch(() => undefined);
        this.channel.log.info({ event: 'transfer-failed', verb, path: printable(path, 200), bytes: t.bytes }, errorText(err));
        this.#transferred(t, options.upload === true, false);
        this.reply(transferFailureReply(err));
      }
    })().finally(() => {
      if (this.transfer === t) this.transfer = undefined;
      if (this.#is(QUIT_PENDING)) {
        this.#set(QUIT_PENDING, false);
        this.quit();
      }
    });
  }

  /** Tells the server's `transfer` watchers how a transfer ended. */
  #transferred(t: ActiveTransfer, upload: boolean, ok: boolean): void {
    const events = this.ctx.events;
    if (!events.wants.transfer) return;
    const kind = upload ? 'upload' : t.verb === 'RETR' ? 'download' : 'list';
    events.emit('transfer', {
      id: this.channel.id,
      kind,
      user: this.user?.name,
      path: t.path,
      bytes: t.bytes,
      ms: Date.now() - t.started,
      ok,
    });
  }

  /** True when the client went away without QUIT: an upload then must not be committed. */
  get controlLost(): boolean {
    return this.#is(CONTROL_LOST) || this.channel.isClosed;
  }

  protected override collectIncomingRange(buffer: Buffer, start: number, end: number): void {
    super.collectIncomingRange(buffer, start, end);
    if (end - start <= 16 && this.state === 'ready' && !this.closing && URGENT_ABOR.test(buffer.toString('latin1', start, end))) {
      // A read that ends in "ABOR\r" is an ABOR whose LF went out of band (or is still on its
      // way): act on it now rather than wait for an LF that may never come, and mark it, so
      // that when a line end does complete it, that line is not answered a second time.
      this.#set(URGENT_ABOR_SEEN, true);
      void this.abort();
    }
  }

  /** ABOR: stops the running transfer (its 426 goes first), then 226. @see RFC 959 §4.1.3 */
  async abort(): Promise<void> {
    const t = this.transfer;
    if (t) {
      t.controller.abort();
      await t.done;
    } else {
      this.#rare?.data?.close();
    }
    this.reply(replies.abortOk());
  }

  protected override async onLine(raw: string): Promise<void> {
    // A bare CR separates commands too (see URGENT_ABOR); CR NUL is a CR inside a pathname.
    const parts = raw.includes('\r') ? raw.split(BARE_CR) : [raw];
    for (const part of parts) {
      if (this.closing) return;
      // Only the start is trimmed: a path argument runs to the line end, spaces included, as
      // vsftpd reads it ("STOR victim " must not overwrite "victim"). @see RFC 959 §5.3.2
      let line = decodeLatin1Line(part.replace(TELNET_PREFIX, '').replace(LEADING_BLANKS, ''));
      if (line.includes('\r\0')) line = line.replace(CR_NUL, '\r'); // RFC 2640 §3.1
      if (this.#is(URGENT_ABOR_SEEN) && line.trimEnd().toUpperCase() === 'ABOR') {
        this.#set(URGENT_ABOR_SEEN, false); // already answered when it arrived
        continue;
      }
      if (line !== '' || parts.length === 1) await this.#command(line);
    }
  }

  async #command(line: string): Promise<void> {
    const split = splitCommand(line);
    const verb = split.verb.trimEnd(); // "NOOP\t"
    const arg = split.arg;
    if (this.channel.logs('debug'))
      this.channel.log.debug(
        { event: 'command', verb: printable(verb, 16), arg: verb === 'PASS' ? '***' : printable(arg, 120) },
        'command',
      );
    if (verb !== 'RNTO' && verb !== 'RNFR') this.renameFrom = undefined;
    const spec = this.ctx.table.getUpper(verb);
    // A transfer's command keeps its timing until its final reply; ABOR or STAT meanwhile is not timed.
    if (this.ctx.events.wants.commandDone && !this.#timing) this.#timing = startCommand(this.ctx.events, spec ? verb : 'UNKNOWN');
    if (!spec) {
      this.#refused(this.ctx.unoffered.has(verb) ? replies.notImplemented() : replies.unknownCommand(printable(verb, 16)));
      return;
    }
    if (this.transfer && !spec.duringTransfer) await this.transfer.done;
    if (this.closing) return;
    await this.#run(spec, arg);
  }

  protected override onLineTooLong(): void {
    this.channel.log.warn({ event: 'line-too-long' }, 'command line too long');
    this.#refused(replies.lineTooLong());
  }

  async #run(spec: FtpCommand, arg: string): Promise<void> {
    // The one gate (the core table's): state, login, argument rule and permission.
    const table = this.ctx.table;
    const gate = table.check(this, this.state, spec, arg);
    if (gate) {
      const refusal = gateReply(gate);
      this.channel.log.info({ event: 'refused', verb: spec.verb, code: refusal.code }, 'command refused');
      return this.reply(refusal);
    }
    try {
      await table.run(this, this.state, spec, arg);
    } catch (err) {
      const r = this.#errorReply(err, spec.verb);
      this.channel.log.info({ event: 'failed', verb: spec.verb, code: r.code }, err instanceof Error ? err.message : 'failed');
      this.reply(r);
    }
  }

  #refused(r: FtpReply): void {
    this.channel.log.info({ event: 'refused', code: r.code }, r.lines[0] ?? '');
    this.reply(r);
    if (++this.#more().badCommands >= this.ctx.limits.maxUnknownCommands) {
      this.reply(replies.closing('Too many bad commands: closing control connection.'));
      this.closeWhenDone();
    }
  }

  #errorReply(err: unknown, verb: string): FtpReply {
    if (err instanceof FtpReplyError) return err.reply;
    if (err instanceof FsError) return fsErrorReply(err);
    this.channel.counters.errors++;
    this.channel.log.error({ event: 'handler-error', verb }, errorText(err));
    return replies.localError();
  }

  protected override handleError(err: unknown): void {
    this.channel.counters.errors++;
    this.channel.log.error({ event: 'handler-error' }, errorText(err));
    this.reply(replies.localError());
  }

  protected override handleTimeout(kind: 'idle' | 'total'): void {
    // A transfer in progress is not idleness: its bytes touch the channel as they move, and a
    // transfer that moves none has its own limits (dataConnectTimeoutMs, stalledTransferMs).
    if (kind === 'idle' && this.transfer) {
      this.channel.touch();
      return;
    }
    this.reply(replies.closing(`Timeout (${Math.round(this.ctx.limits.idleTimeoutMs / 1000)} s): closing control connection.`));
    this.closeWhenDone();
  }

  protected override handleShutdown(): void {
    const goodbye = (): void => {
      if (this.#is(SAID_GOODBYE)) return;
      this.#set(SAID_GOODBYE, true);
      this.reply(replies.closing('Server shutting down.'));
      this.closeWhenDone();
    };
    const t = this.transfer;
    if (!t) {
      goodbye();
      return;
    }
    // A running transfer may finish within the shutdown's bound (its 226 goes out, then 421);
    // past the bound, handleShutdownDeadline aborts it.
    void t.done.then(goodbye);
  }

  protected override handleShutdownDeadline(): void {
    // The running transfer's data connection is reset and its 426 sent first, so that neither
    // a client reading the data nor one reading the replies can take a cut file as complete.
    const t = this.transfer;
    if (t) t.controller.abort();
    else this.closeWhenDone();
  }

  protected override handleEnd(): void {
    if (!this.#is(QUIT_PENDING)) this.#set(CONTROL_LOST, true);
    if (this.transfer && !this.#is(CONTROL_LOST)) return;
    this.closeWhenDone();
  }

  protected override handleClose(): void {
    if (!this.#is(QUIT_PENDING)) this.#set(CONTROL_LOST, true);
    this.transfer?.controller.abort();
    this.#rare?.data?.close();
  }
}

/** The reply to a command the table's gate refused. @see RFC 959 §5.4 */
function gateReply(refusal: GateRefusal): FtpReply {
  switch (refusal.kind) {
    case 'login-required':
      return replies.notLoggedIn();
    case 'syntax':
      return refusal.reason === 'missing-argument'
        ? replies.syntax(`Syntax: ${refusal.spec.help}`)
        : replies.syntax(`${refusal.spec.verb} takes no argument.`);
    case 'permission':
      return replies.permissionDenied();
    default:
      return replies.badSequence('Bad sequence of commands.');
  }
}

export { fsErrorReply } from './error-replies.js';
