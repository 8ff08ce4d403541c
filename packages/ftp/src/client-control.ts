import { LineSession, errorText, type Channel } from '@gorgon/core';
import { FtpClientError } from './client-errors.js';
import { ReplyParser, type FtpReply } from './client-reply.js';

interface Waiter {
  resolve: (reply: FtpReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Options of a {@link ControlConnection}. */
export interface ControlConnectionOptions {
  /** Longest reply line accepted. Default 8 KiB. */
  maxLineLength?: number;
  /** Most lines in one multi-line reply. Default 100,000. */
  maxReplyLines?: number;
}

/**
 * The client side of an FTP control connection: a {@link LineSession} whose lines are framed into
 * replies by a {@link ReplyParser}. Replies are queued in arrival order and handed out by `read`,
 * so a reply that comes unasked (a 421 before the server hangs up) answers the next command, as
 * the protocol intends. When the connection closes, every pending and later `read` fails.
 * @see RFC 959 §4.2, §5.4 (sequencing of commands and replies)
 */
export class ControlConnection extends LineSession {
  readonly #parser: ReplyParser;
  readonly #replies: FtpReply[] = [];
  readonly #waiters: Waiter[] = [];
  #failure: Error | undefined;

  constructor(channel: Channel, options: ControlConnectionOptions = {}) {
    super(channel, { maxLineLength: options.maxLineLength ?? 8192 });
    this.#parser = new ReplyParser({ maxLines: options.maxReplyLines ?? 100_000 });
  }

  /** Sends one command line (CRLF added). */
  send(line: string): void {
    if (/[\r\n]/.test(line)) throw new FtpClientError('protocol', 'a command must not contain CR or LF');
    this.push(`${line}\r\n`);
  }

  /**
   * The next reply, in arrival order. Rejects with `timeout` after `timeoutMs` (0 = wait
   * forever), or with `closed` once the connection is gone and no reply is left.
   */
  read(timeoutMs: number): Promise<FtpReply> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<FtpReply>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          const index = this.#waiters.indexOf(waiter);
          if (index !== -1) this.#waiters.splice(index, 1);
          reject(new FtpClientError('timeout', `no reply from the server within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#waiters.push(waiter);
    });
  }

  /** True once the connection failed or closed. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  protected override onLine(line: string): void {
    let reply: FtpReply | undefined;
    try {
      reply = this.#parser.push(line);
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      this.close({ flush: false });
      return;
    }
    if (!reply) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(reply);
    } else {
      this.#replies.push(reply);
    }
  }

  protected override onLineTooLong(): void {
    this.#fail(new FtpClientError('protocol', `the server sent a reply line longer than ${this.maxLineLength} bytes`));
    this.close({ flush: false });
  }

  protected override handleError(err: unknown): void {
    this.channel.log.warn({ event: 'ftp-client-error' }, errorText(err));
    this.#fail(err instanceof Error ? err : new Error(String(err)));
    this.close({ flush: false });
  }

  protected override handleTimeout(): void {
    this.#fail(new FtpClientError('timeout', 'the control connection timed out'));
    this.close({ flush: false });
  }

  protected override handleClose(): void {
    this.#fail(new FtpClientError('closed', 'the server closed the connection'));
  }

  #fail(err: Error): void {
    if (!this.#failure) this.#failure = err;
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(this.#failure);
    }
  }
}
