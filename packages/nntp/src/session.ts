import {
  CoreError,
  errorText,
  escapeMultiline,
  finishCommand,
  LineSession,
  logTlsFailure,
  printable,
  replyClassOf,
  startCommand,
  type Channel,
  type CommandTiming,
  type GateRefusal,
} from '@gorgon/core';
import type { NntpContext } from './context.js';
import { NewsStoreError } from './store.js';
import { formatReply, replies, type NntpReply } from './replies.js';
import type { Matcher } from './wildmat.js';

/** NNTP has one command state; MODE READER / MODE STREAM are flags. @see RFC 3977 §5.3, RFC 4644 §2.3 */
export type NntpState = 'ready';

/** A reply the handler throws; the session sends it and goes on. */
export class NntpReplyError extends Error {
  constructor(readonly reply: NntpReply) {
    super(reply.text);
  }
}

/** An article being received (POST, IHAVE, TAKETHIS): bounded by maxArticleBytes. */
interface Receiving {
  parts: string[];
  bytes: number;
  /** Why it is already refused (too big, a line too long), read on to the end regardless. */
  refused: string | undefined;
  done: (text: string | undefined, refused: string | undefined) => void | Promise<void>;
}

const SECRET = /^(AUTHINFO\s+(PASS|SASL))\b/i;

/** Streamed articles being committed at once on one connection before reading waits (RFC 4644 §2.5). */
const MAX_DEFERRED = 64;

/** The line that ends a multi-line reply. @see RFC 3977 §3.1.1 */
const TERMINATOR = Buffer.from('.\r\n');

/**
 * One NNTP connection: commands through the server's table, the currently selected group and
 * article (RFC 3977 §6.1), the logged-in user, and the reading of dot-terminated articles.
 * Lines are decoded as latin1 so an article's bytes survive exactly. @see RFC 3977 §3
 */
export class NntpSession extends LineSession {
  readonly ctx: NntpContext;
  group: string | undefined;
  /** Current article number, or undefined (RFC 3977 §6.1.1: invalid after GROUP of an empty group). */
  article: number | undefined;
  pendingUser: string | undefined;
  streaming = false;
  #user: string | undefined;
  #access: { read: Matcher; post: Matcher; anyPost: boolean };
  #receiving: Receiving | undefined;
  /** The command waiting for its reply, while someone watches `commandDone`. */
  #timing: CommandTiming | undefined;
  #continuation: ((line: string) => void | Promise<void>) | undefined;
  #authFailures = 0;
  #errors = 0;
  #forceClose: NodeJS.Timeout | undefined;
  /** Replies promised in order and not yet known (streamed articles being committed). */
  readonly #deferred: Promise<unknown>[] = [];

  constructor(channel: Channel, ctx: NntpContext) {
    super(channel, { maxLineLength: ctx.limits.maxArticleLineLength, encoding: 'latin1', maxDiscardBytes: ctx.limits.maxArticleBytes * 2 });
    this.ctx = ctx;
    this.#access = ctx.access(undefined);
    this.reply(this.mayPostAnywhere ? replies.greetingPosting : replies.greetingNoPosting);
  }

  get user(): string | undefined {
    return this.#user;
  }

  get access(): { read: Matcher; post: Matcher } {
    return this.#access;
  }

  /** Whether this client may post somewhere at all (greeting 200/201, MODE READER). */
  get mayPostAnywhere(): boolean {
    return this.#access.anyPost;
  }

  /** Whether this client may feed articles (IHAVE, streaming). */
  get mayFeed(): boolean {
    return this.ctx.feeders({ remoteAddress: this.channel.remoteAddress, user: this.#user });
  }

  get authFailures(): number {
    return this.#authFailures;
  }

  /** Cleartext logins allowed here. @see RFC 4643 §2.2 */
  get plaintextAllowed(): boolean {
    const a = this.channel.remoteAddress;
    return !this.ctx.requireTlsForAuth || this.channel.secure || a === '::1' || a.startsWith('127.');
  }

  reply(reply: NntpReply): void {
    if (this.#timing) this.#finished(reply);
    this.push(formatReply(reply));
  }

  /**
   * The reply that ends the command being timed. In NNTP every reply is final for its command
   * (1xx is information, 3xx asks for the next step, which is not a command of its own).
   */
  #finished(reply: NntpReply): void {
    this.#timing = finishCommand(this.ctx.events, this.channel.id, this.#timing!, replyClassOf(reply.code));
  }

  /** A status line and text lines (dot-stuffed here), then the terminating dot. */
  replyLines(reply: NntpReply, lines: readonly string[]): void {
    if (this.#timing) this.#finished(reply);
    const stuffed = new Array<string>(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      stuffed[i] = l.charCodeAt(0) === 0x2e ? `.${l}` : l;
    }
    const body = lines.length === 0 ? '' : `${stuffed.join('\r\n')}\r\n`;
    this.push(Buffer.from(`${formatReply(reply)}${body}.\r\n`, 'latin1'));
  }

  /**
   * A status line, text lines already rendered (dot-stuffed and CRLF-terminated, in pieces), then
   * the terminating dot: one buffer, one write.
   */
  replyRendered(reply: NntpReply, body: readonly Buffer[]): void {
    if (this.#timing) this.#finished(reply);
    this.push(Buffer.concat([Buffer.from(formatReply(reply), 'latin1'), ...body, TERMINATOR]));
  }

  /** A status line and stored bytes, escaped and terminated by the core. @see RFC 3977 §3.1.1 */
  replyData(reply: NntpReply, data: Buffer): void {
    if (this.#timing) this.#finished(reply);
    this.push(escapeMultiline(data, formatReply(reply)));
  }

  /** The bytes {@link replyData} would send: one buffer, status line and escaped data together. */
  static dataReply(reply: NntpReply, data: Buffer): Buffer {
    return escapeMultiline(data, formatReply(reply));
  }

  /**
   * A reply that is known later (a streamed article waiting for its group commit, an article
   * being read from disk), sent in its place among the others: a status, or the bytes of a
   * whole reply. The session reads on meanwhile, so articles streamed back to back share one
   * commit and pipelined ARTICLE reads overlap; past {@link MAX_DEFERRED} unanswered ones, the
   * returned promise makes reading wait for the oldest. @see RFC 3977 §3.5, RFC 4644 §2.5
   */
  replyLater(reply: Promise<NntpReply | Buffer>): Promise<void> | undefined {
    const out = reply.then(
      (r) => (Buffer.isBuffer(r) ? r : formatReply(r)),
      (err: unknown) => {
        if (err instanceof NntpReplyError) return formatReply(err.reply);
        this.channel.counters.errors++;
        this.channel.log.error({ event: err instanceof NewsStoreError ? 'store-error' : 'handler-error' }, errorText(err));
        return formatReply(replies.internalFault);
      },
    );
    this.pushLater(out);
    const settled: Promise<void> = out.then(() => {
      this.#deferred.splice(this.#deferred.indexOf(settled), 1);
    });
    this.#deferred.push(settled);
    return this.#deferred.length > MAX_DEFERRED ? this.#deferred[0]!.then(() => undefined) : undefined;
  }

  /** Logged in: the user's access applies from now on. */
  loggedIn(user: string): void {
    this.#user = user;
    this.pendingUser = undefined;
    this.#access = this.ctx.access(user);
    this.ctx.stats.logins++;
    this.channel.log.info({ event: 'login', user }, `${user} logged in`);
    this.reply(replies.authAccepted);
  }

  loginFailed(failures: number, disconnect: boolean): void {
    this.#authFailures = failures;
    this.ctx.stats.authFailures++;
    this.pendingUser = undefined;
    if (this.closing) return;
    if (disconnect) {
      this.reply(replies.tooManyAuthFailures);
      this.closeWhenDone();
    } else this.reply(replies.authFailed);
  }

  /** Reads a dot-terminated article next; `done` gets its text (unstuffed, CRLF) or a refusal. */
  receiveArticle(done: Receiving['done']): void {
    this.#receiving = { parts: [], bytes: 0, refused: undefined, done };
  }

  /** The next line is a SASL response. @see RFC 4643 §2.4 */
  expectContinuation(handler: (line: string) => void | Promise<void>): void {
    this.#continuation = handler;
    this.reply(replies.saslContinue);
  }

  /** STARTTLS: forget everything learned in cleartext. @see RFC 4642 §2.2 */
  resetForTls(): void {
    this.pendingUser = undefined;
  }

  protected override onLine(line: string): void | Promise<void> {
    const rx = this.#receiving;
    if (rx) return this.#articleLine(rx, line);
    const continuation = this.#continuation;
    if (continuation) {
      this.#continuation = undefined;
      return continuation(line);
    }
    if (this.channel.logs('debug'))
      this.channel.log.debug({ event: 'command' }, SECRET.test(line) ? line.replace(/^(\S+\s+\S+).*/, '$1 ****') : printable(line, 80));
    const { events, table } = this.ctx;
    if (events.wants.commandDone) this.#timing = startCommand(events, table.knownVerb(line));
    if (line.length > this.ctx.limits.maxLineLength) {
      this.reply(replies.lineTooLong);
      return undefined;
    }
    return this.ctx.table.dispatch(this, 'ready', line, (refusal) => this.#refuse(refusal));
  }

  #articleLine(rx: Receiving, line: string): void | Promise<void> {
    if (line === '.') {
      this.#receiving = undefined;
      return rx.done(rx.refused ? undefined : rx.parts.join(''), rx.refused);
    }
    if (rx.refused) return undefined;
    const text = `${line.startsWith('.') ? line.slice(1) : line}\r\n`;
    rx.bytes += text.length;
    if (rx.bytes > this.ctx.limits.maxArticleBytes) {
      rx.refused = 'article too large';
      rx.parts = [];
      return undefined;
    }
    rx.parts.push(text);
    return undefined;
  }

  protected override onLineTooLong(): void {
    const rx = this.#receiving;
    if (rx) {
      rx.refused = 'line too long';
      rx.parts = [];
      return;
    }
    if (this.#continuation) {
      this.#continuation = undefined;
      this.reply(replies.syntaxError);
      return;
    }
    this.reply(replies.lineTooLong);
  }

  protected override handleError(err: unknown): void {
    if (this.channel.isClosed) return;
    if (err instanceof NntpReplyError) {
      this.reply(err.reply);
      return;
    }
    this.channel.counters.errors++;
    if (err instanceof CoreError && err.code === 'tls-failed') {
      logTlsFailure(this.channel, err);
      this.close({ flush: false });
      return;
    }
    this.channel.log.error({ event: err instanceof NewsStoreError ? 'store-error' : 'handler-error' }, errorText(err));
    this.reply(replies.internalFault);
  }

  protected override handleTimeout(): void {
    this.reply(replies.idleTimeout);
    this.#closeSoon();
  }

  protected override handleShutdown(): void {
    this.reply(replies.shuttingDown);
    this.#closeSoon();
  }

  #closeSoon(): void {
    this.closeWhenDone();
    this.#forceClose ??= setTimeout(() => this.close({ flush: false }), this.ctx.limits.closeTimeoutMs);
    this.#forceClose.unref();
  }

  protected override handleClose(): void {
    if (this.#forceClose) clearTimeout(this.#forceClose);
    this.#receiving = undefined;
  }

  #refuse(refusal: GateRefusal): void {
    if (refusal.kind === 'unknown') {
      this.#errors++;
      if (this.#errors >= this.ctx.limits.maxUnknownCommands) {
        this.reply(replies.tooManyErrors);
        this.closeWhenDone();
        return;
      }
      this.reply(replies.unknownCommand);
    } else if (refusal.kind === 'login-required') this.reply(replies.authRequired);
    else if (refusal.kind === 'syntax') this.reply(replies.syntaxError);
    else this.reply(replies.notPermitted);
  }
}
