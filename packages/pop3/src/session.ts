import {
  CompositeProducer,
  CoreError,
  GlobbingProducer,
  errorText,
  finishCommand,
  LineSession,
  logTlsFailure,
  printable,
  startCommand,
  type Channel,
  type CommandTiming,
  type CommandSpec,
  type GateRefusal,
  type Producer,
} from '@gorgon/core';
import { apopTimestamp } from './apop.js';
import type { Pop3Context } from './context.js';
import { MaildropError, type Maildrop } from './maildrop.js';
import { MultilineReplyProducer } from './multiline-reply-producer.js';
import { formatContinuation, formatReply, Pop3ReplyError, replies, type Pop3Reply } from './replies.js';

/** The three states of a POP3 session. @see RFC 1939 §3 */
export type Pop3State = 'authorization' | 'transaction' | 'update';

/** The greeting when APOP is not offered. @see RFC 1939 §4 */
const PLAIN_GREETING = formatReply(replies.greeting());

/** Multi-line replies are written in pieces of about this size. */
const GLOB_BYTES = 64 * 1024;

/** Verbs whose arguments are secrets: logged as `****`. */
const SECRET_ARGS = new Set(['PASS', 'AUTH']);

/**
 * One POP3 connection: the RFC 1939 state machine over a {@link LineSession}. Commands are
 * dispatched through the server's command table; the transitions AUTHORIZATION → TRANSACTION
 * (`enterTransaction`) and TRANSACTION → UPDATE (`enterUpdate`) happen here and nowhere else.
 * A connection that ends without QUIT never enters UPDATE: its maildrop is released unchanged.
 * @see RFC 1939 §3, §6
 */
/**
 * What a custom command's `run(session, arg)` (the `commands` option) may use of the session:
 * its state, the logged-in user, and the two ways to answer. @see RFC 1939 §3
 */
export interface Pop3CommandSession {
  readonly state: Pop3State;
  /** The user once logged in (TRANSACTION state). */
  readonly user: string | undefined;
  /** The user's maildrop, opened and locked (TRANSACTION state only: throws before login). */
  readonly maildrop: Maildrop;
  /** Sends one status line (`+OK text` or `-ERR [CODE] text`). */
  reply(reply: Pop3Reply): void;
  /** Sends a status line and a multi-line body, dot-stuffed and terminated unless `escapeBody` is false. */
  replyMultiline(reply: Pop3Reply, body: Producer | string, escapeBody?: boolean): void;
}

/** A command an embedder adds (`commands` option): the core's command spec over {@link Pop3CommandSession}. */
export type Pop3CustomCommand = CommandSpec<Pop3State, Pop3CommandSession>;

export class Pop3Session extends LineSession implements Pop3CommandSession {
  readonly ctx: Pop3Context;
  /** The greeting's `<timestamp>`, when APOP is offered. */
  readonly timestamp: string | undefined;
  /** The name given by USER, waiting for PASS. */
  pendingUser: string | undefined;
  #deleted: Set<number> | undefined;
  #retrieved: Set<number> | undefined;
  #state: Pop3State = 'authorization';
  #user: string | undefined;
  #maildrop: Maildrop | undefined;
  #authFailures = 0;
  #unknownCommands = 0;
  #continuation: ((line: string) => void | Promise<void>) | undefined;
  /** The command waiting for its status line, while someone watches `commandDone`. */
  #timing: CommandTiming | undefined;

  constructor(channel: Channel, ctx: Pop3Context) {
    // maxLineLength excludes the CRLF, as LineSession's does (the default maps RFC 2449's 255).
    super(channel, { maxLineLength: ctx.limits.maxLineLength });
    this.ctx = ctx;
    this.timestamp = ctx.mechanisms.has('apop') ? apopTimestamp(ctx.hostname) : undefined;
    // Without APOP every greeting is the same string: share it rather than build one per connection.
    this.push(this.timestamp ? formatReply(replies.greeting(this.timestamp)) : PLAIN_GREETING);
  }

  /**
   * Message indexes (0-based) marked by DELE. Made at first use: an idle connection that never
   * logs in should cost as little memory as possible.
   */
  get deleted(): Set<number> {
    this.#deleted ??= new Set();
    return this.#deleted;
  }

  /** Message indexes retrieved by RETR (removed at UPDATE when EXPIRE is 0). */
  get retrieved(): Set<number> {
    this.#retrieved ??= new Set();
    return this.#retrieved;
  }

  get state(): Pop3State {
    return this.#state;
  }

  /** The logged-in user (TRANSACTION and UPDATE). */
  get user(): string | undefined {
    return this.#user;
  }

  /** The open maildrop; a reply error outside TRANSACTION (the table prevents that). */
  get maildrop(): Maildrop {
    if (!this.#maildrop) throw new Error('no maildrop open');
    return this.#maildrop;
  }

  /** True when USER/PASS and PLAIN are allowed here: TLS, loopback, or no TLS requirement. */
  get plaintextAllowed(): boolean {
    return !this.ctx.requireTlsForPlaintext || this.channel.secure || isLoopback(this.channel.remoteAddress);
  }

  /** Tells the server's `transfer` watchers that a message went out (RETR, TOP). */
  transferred(kind: string, index: number, bytes: number): void {
    const events = this.ctx.events;
    if (!events.wants.transfer) return;
    events.emit('transfer', { id: this.channel.id, kind, user: this.#user, path: String(index + 1), bytes, ms: 0, ok: true });
  }

  /** Sends one status line. */
  reply(reply: Pop3Reply): void {
    if (this.#timing) this.#finished(reply);
    this.push(formatReply(reply));
  }

  /** The status line that ends the command being timed: `+OK` counts as `2xx`, `-ERR` as `5xx`. */
  #finished(reply: Pop3Reply): void {
    this.#timing = finishCommand(this.ctx.events, this.channel.id, this.#timing!, reply.ok ? '2xx' : '5xx');
  }

  /**
   * Sends a status line and a multi-line body: dot-stuffed, CRLF-normalised and terminated by
   * MultilineReplyProducer (the core's LineEscapingProducer rules). A string, or a producer with `escapeBody = false`, is sent as
   * it is and must carry its own terminating line. @see RFC 1939 §3
   */
  replyMultiline(reply: Pop3Reply, body: Producer | string, escapeBody = true): void {
    if (this.#timing) this.#finished(reply);
    if (typeof body === 'string') {
      this.push(formatReply(reply) + body);
      return;
    }
    // One write for the status line, a small body and its terminator (instead of three); a
    // body to escape is escaped with one copy per piece (LF Maildirs need a CR on every line).
    if (escapeBody) this.pushWithProducer(new MultilineReplyProducer(formatReply(reply), body));
    else this.pushWithProducer(new GlobbingProducer(new CompositeProducer([formatReply(reply), body]), GLOB_BYTES));
  }

  /**
   * Sends a status line and a message held in memory, escaped and terminated, as one plain
   * push: no producer, so pipelined commands go on at once and their replies share writes.
   */
  replyMessage(reply: Pop3Reply, data: Buffer): void {
    if (this.#timing) this.#finished(reply);
    this.push(MultilineReplyProducer.whole(formatReply(reply), data));
  }

  /** The next line is a SASL response for `handler`, not a command. @see RFC 5034 §4 */
  expectContinuation(challenge: string, handler: (line: string) => void | Promise<void>): void {
    this.#continuation = handler;
    this.push(formatContinuation(challenge));
  }

  /**
   * AUTHORIZATION → TRANSACTION, once the user is authenticated and the maildrop locked.
   * @see RFC 1939 §4
   */
  enterTransaction(user: string, maildrop: Maildrop): void {
    this.#state = 'transaction';
    this.#user = user;
    this.#maildrop = maildrop;
    this.pendingUser = undefined;
    this.ctx.stats.logins++;
    this.channel.log.info({ event: 'login', user }, `${user} logged in`);
    const { count, octets } = this.totals();
    this.reply(replies.maildropReady(count, octets));
  }

  /**
   * TRANSACTION → UPDATE on QUIT: removes the marked messages, releases the lock, says goodbye
   * and closes. @see RFC 1939 §6
   */
  async enterUpdate(): Promise<void> {
    this.#state = 'update';
    const maildrop = this.#maildrop!;
    this.#maildrop = undefined;
    const doomed = new Set(this.#deleted);
    if (this.ctx.expire === 0) for (const i of this.#retrieved ?? []) doomed.add(i);
    let reply: Pop3Reply;
    try {
      const { failed } = await maildrop.commit(doomed);
      this.ctx.stats.messagesDeleted += doomed.size - failed;
      reply = failed === 0 ? replies.byeAfterUpdate(maildrop.messages.length - doomed.size) : replies.updateFailed;
      if (failed > 0) this.channel.log.error({ event: 'update-failed', failed }, `${failed} messages not removed`);
    } catch (err) {
      this.channel.log.error({ event: 'update-failed' }, errorText(err));
      await maildrop.release().catch(() => undefined);
      reply = replies.updateFailed;
    }
    this.reply(reply);
    this.closeWhenDone();
  }

  /**
   * Called by the server's housekeeping tick while this session is in AUTHORIZATION: closes it
   * once `loginTimeoutMs` has passed since the connection was made, whatever it sent meanwhile.
   * Returns false once the session no longer needs the check (logged in, closing or closed).
   */
  checkLoginTimeout(now: number): boolean {
    if (this.#state !== 'authorization' || this.closing) return false;
    const limit = this.ctx.limits.loginTimeoutMs;
    if (limit <= 0) return false;
    if (now - this.channel.openedAt < limit) return true;
    this.channel.log.info({ event: 'login-timeout' }, 'no login in time');
    this.reply(replies.loginTimeout);
    this.#closeSoon();
    return false;
  }

  /** Messages not marked deleted, and their octets. @see RFC 1939 §5 (STAT) */
  totals(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    const deleted = this.#deleted;
    this.maildrop.messages.forEach((m, i) => {
      if (deleted?.has(i)) return;
      count++;
      octets += m.size;
    });
    return { count, octets };
  }

  /** Failed logins on this connection so far (the core's LoginFlow counts with it). */
  get authFailures(): number {
    return this.#authFailures;
  }

  /**
   * A failed login, after the LoginFlow's growing delay: counted, and the connection closed
   * once `maxAuthFailures` is reached. Same reply whatever went wrong.
   */
  loginFailed(failures: number, disconnect: boolean): void {
    this.#authFailures = failures;
    this.ctx.stats.authFailures++;
    this.pendingUser = undefined;
    if (this.closing) return;
    if (disconnect) {
      this.reply(replies.tooManyAuthFailures);
      this.closeWhenDone();
    } else {
      this.reply(replies.authFailed);
    }
  }

  protected override onLine(line: string): void | Promise<void> {
    const continuation = this.#continuation;
    if (continuation) {
      this.#continuation = undefined;
      this.channel.log.debug({ event: 'sasl-response' }, '****');
      return continuation(line);
    }
    if (this.channel.logs('debug')) this.channel.log.debug({ event: 'command', state: this.#state }, maskCommand(line));
    const { events, table } = this.ctx;
    if (events.wants.commandDone) this.#timing = startCommand(events, table.knownVerb(line));
    return this.ctx.table.dispatch(this, this.#state, line, (refusal) => this.#refuse(refusal));
  }

  protected override onLineTooLong(): void {
    this.channel.log.warn({ event: 'line-too-long' }, 'command line too long: discarded');
    if (this.#continuation) {
      this.#continuation = undefined;
      this.reply(replies.badSaslResponse);
      return;
    }
    this.reply(replies.lineTooLong);
  }

  protected override handleError(err: unknown): void {
    if (this.channel.isClosed) return;
    if (err instanceof Pop3ReplyError) {
      this.reply(err.reply);
      return;
    }
    if (err instanceof MaildropError && err.code === 'gone') {
      this.channel.log.warn({ event: 'message-gone' }, errorText(err));
      this.reply(replies.messageGone);
      return;
    }
    this.channel.counters.errors++;
    if (err instanceof CoreError && err.code === 'tls-failed') {
      // STLS refused by the client (fetchmail checking the demo certificate): its choice, not
      // our fault, so a warning with the reason; nothing can be said to it in either clear or TLS.
      logTlsFailure(this.channel, err);
      this.close({ flush: false });
      return;
    }
    this.channel.log.error({ event: 'handler-error', state: this.#state }, errorText(err));
    this.reply(replies.internalError);
  }

  protected override handleTimeout(): void {
    // RFC 1939 §3: the autologout timer closes without entering UPDATE: nothing is deleted.
    this.reply(replies.autologout);
    this.#closeSoon();
  }

  protected override handleShutdown(): void {
    this.reply(replies.shuttingDown);
    this.#closeSoon();
  }

  /**
   * Closes once the queued output (the goodbye) is written, or after `closeTimeoutMs` when the
   * client does not read it (the core's sweep ends it: `Channel.expectClose`): a stalled reader
   * cannot keep a timed-out session alive.
   */
  #closeSoon(): void {
    this.closeWhenDone();
    this.channel.expectClose();
  }

  protected override handleClose(): void {
    const maildrop = this.#maildrop;
    this.#maildrop = undefined;
    if (maildrop) {
      // Dropped without QUIT: never UPDATE. Release the lock and keep every message.
      maildrop.release().catch((err: unknown) => this.channel.log.error({ event: 'release-failed' }, errorText(err)));
    }
  }

  #refuse(refusal: GateRefusal): void {
    if (refusal.kind === 'unknown') {
      this.#unknownCommands++;
      this.channel.log.info({ event: 'unknown-command', verb: printable(refusal.verb, 16) }, 'unknown command');
      if (this.#unknownCommands >= this.ctx.limits.maxUnknownCommands) {
        this.reply(replies.tooManyUnknownCommands);
        this.closeWhenDone();
        return;
      }
      this.reply(replies.unknownCommand);
    } else if (refusal.kind !== 'syntax') {
      // wrong-state, and (for an embedder's commands) login-required or permission.
      this.reply(replies.wrongState);
    } else {
      this.reply(refusal.reason === 'missing-argument' ? replies.missingArgument : replies.unexpectedArgument);
    }
  }
}

/** A command line for the log: secrets replaced by `****`, client text escaped and cut. */
export function maskCommand(line: string): string {
  const space = line.indexOf(' ');
  const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  if (space === -1) return printable(line, 16);
  if (SECRET_ARGS.has(verb)) {
    const mechanism = verb === 'AUTH' ? (line.slice(space + 1).split(' ')[0] ?? '') : '';
    const hasSecret = verb === 'PASS' || line.slice(space + 1).includes(' ');
    return `${verb}${mechanism ? ` ${printable(mechanism, 20)}` : ''}${hasSecret ? ' ****' : ''}`;
  }
  if (verb === 'APOP') return `APOP ${printable(line.slice(space + 1).split(' ')[0] ?? '', 64)} ****`;
  return printable(line, 80);
}

/** 127.0.0.0/8 and ::1 (after the core strips the IPv4-mapped prefix). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}
