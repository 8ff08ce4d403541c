import type { Producer } from '@gorgon/core';

/** One message of an open maildrop. */
export interface MaildropMessage {
  /**
   * The unique-id listing value: 1 to 70 characters from 0x21 to 0x7E, the same for this
   * message in every session. @see RFC 1939 §7 (UIDL)
   */
  readonly uid: string;
  /**
   * Octets the message takes on the wire after CRLF normalisation, dot-stuffing excluded: what
   * LIST and STAT report, and exactly what RETR sends before the terminating line.
   * @see RFC 1939 §5 (LIST, STAT), §11
   */
  readonly size: number;
}

/**
 * A maildrop opened for one session, with its exclusive lock held. The message list is a
 * snapshot taken at open: mail delivered during the session shows up at the next login.
 * Indexes are 0-based (message number − 1).
 * @see RFC 1939 §8 (the server holds an exclusive-access lock on the maildrop)
 */
export interface Maildrop {
  readonly messages: readonly MaildropMessage[];
  /**
   * The raw bytes of message `index` as a producer (line ends as stored). Resolves once the
   * message is known to be readable, so a missing one is a reply, not a broken stream. Throws
   * {@link MaildropError} `'gone'` when the message was removed by another program.
   */
  read(index: number): Promise<Producer>;
  /**
   * The raw bytes of message `index` when they can be had at once (a small local file, a
   * message held in memory), else undefined and the caller uses `read`. Optional: it lets RETR
   * answer without a producer or an await, so pipelined RETRs go out in few writes. Throws
   * like `read` when the message is gone. The bytes are good only until the next call on this
   * maildrop or the end of the current run of code (a microtask), whichever comes first: the
   * Maildir store reuses their memory after either. Use them at once, or copy them.
   */
  readNow?(index: number): Buffer | undefined;
  /**
   * The UPDATE state: removes the messages at `deleted`, then releases the lock. Returns how
   * many could not be removed (0 when all went). @see RFC 1939 §6
   */
  commit(deleted: ReadonlySet<number>): Promise<{ failed: number }>;
  /** Releases the lock without changing anything (a dropped connection). Idempotent. */
  release(): Promise<void>;
}

/**
 * Where maildrops live: opens one per user with an exclusive lock. Implementations:
 * `MaildirStore` (disk, safe across processes) and `MemoryMaildropStore` (tests, embedding).
 */
export interface MaildropStore {
  /**
   * Opens the maildrop of `user` and takes its lock. Throws {@link MaildropError} `'in-use'`
   * when another session (in this process or another) holds it.
   */
  open(user: string): Promise<Maildrop>;
  /**
   * Called by the server when it closes: release what the store holds in the process (a
   * `MaildirStore` removes its lock templates). Optional. The store may be used again after it.
   */
  close?(): Promise<void>;
}

/** Why a maildrop operation failed. */
export type MaildropErrorCode = 'in-use' | 'gone' | 'invalid-user' | 'io';

/** A storage failure with a code the session maps to a reply. The message is for logs. */
export class MaildropError extends Error {
  readonly code: MaildropErrorCode;
  constructor(code: MaildropErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MaildropError';
    this.code = code;
  }
}
