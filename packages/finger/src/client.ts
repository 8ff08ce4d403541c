import { AsyncChat, connect, errorText, type Channel } from '@gorgon/core';
import { defaultFingerLimits } from './defaults.js';

/**
 * Options of {@link finger}.
 * @see RFC 1288 §2.1
 */
export interface FingerQueryOptions {
  /** The host to ask (name, IPv4 or IPv6 address). */
  host: string;
  /** Default 79. @see RFC 1288 §2.1 */
  port?: number;
  /** Send `/W` for the verbose answer. @see RFC 1288 §2.5.4 */
  verbose?: boolean;
  /** Give up after this long, connect to close. Default 10 s. */
  timeoutMs?: number;
  /** Largest reply accepted. Default 1 MiB. */
  maxBytes?: number;
}

/**
 * Why {@link finger} failed.
 * @see RFC 1288 §2.1
 */
export type FingerErrorCode = 'bad-query' | 'connect-failed' | 'timeout' | 'too-large';

/**
 * The error {@link finger} rejects with; `code` says why, the message says it in a sentence.
 * @see RFC 1288 §2.1
 */
export class FingerError extends Error {
  readonly code: FingerErrorCode;
  constructor(code: FingerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FingerError';
    this.code = code;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: CR, LF and NUL in a query would end or split the request line; matched to refuse them
const LINE_BREAKING = /[\r\n\x00]/;

/** Reads a whole reply: the seed's finger client, an AsyncChat with a `null` terminator. */
class ReplyReader extends AsyncChat {
  readonly #parts: Buffer[] = [];
  #size = 0;
  readonly #maxBytes: number;
  readonly #done: (result: Buffer | FingerError) => void;

  constructor(channel: Channel, maxBytes: number, done: (result: Buffer | FingerError) => void) {
    super(channel);
    this.#maxBytes = maxBytes;
    this.#done = done;
    this.setTerminator(null);
  }

  protected override collectIncomingData(data: Buffer): void {
    this.#size += data.length;
    if (this.#size > this.#maxBytes) {
      this.#done(new FingerError('too-large', `The finger reply is larger than ${this.#maxBytes} bytes.`));
      this.close({ flush: false });
      return;
    }
    this.#parts.push(data);
  }

  protected override foundTerminator(): void {
    // A null terminator never completes a unit: the reply ends when the server closes.
  }

  protected override handleEnd(): void {
    this.#done(Buffer.concat(this.#parts, Math.min(this.#size, this.#maxBytes)));
    this.close();
  }

  protected override handleClose(): void {
    // A server that resets after writing its reply: what arrived is the reply.
    this.#done(Buffer.concat(this.#parts));
  }
}

/**
 * Asks a finger server about `user` (`''` for the user list, `alice@other` to have the server
 * forward the query) and returns the reply text as received, with CRLF turned into `\n`.
 * Sends `{U}{C}` or `/W {U}{C}`, then reads until the server closes, bounded by `maxBytes` and
 * `timeoutMs`. Rejects with a {@link FingerError}.
 * @see RFC 1288 §2.1, §2.3
 */
export async function finger(user: string, options: FingerQueryOptions): Promise<string> {
  if (LINE_BREAKING.test(user)) {
    throw new FingerError('bad-query', 'A finger query cannot contain line breaks or NUL characters.');
  }
  const timeoutMs = options.timeoutMs ?? defaultFingerLimits.clientTimeoutMs;
  const maxBytes = options.maxBytes ?? defaultFingerLimits.clientMaxBytes;
  const port = options.port ?? 79;
  const started = Date.now();
  let channel: Channel;
  try {
    channel = await connect({ host: options.host, port, connectTimeoutMs: timeoutMs });
  } catch (err) {
    const code = (err as { code?: unknown }).code === 'timeout' ? 'timeout' : 'connect-failed';
    throw new FingerError(code, errorText(err), { cause: err });
  }
  const reply = await new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const settle = (result: Buffer | FingerError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (result instanceof FingerError) reject(result);
      else resolve(result);
    };
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const timer = setTimeout(() => {
      settle(new FingerError('timeout', `No complete finger reply from ${options.host}:${port} within ${timeoutMs} ms.`));
      reader.close({ flush: false });
    }, left);
    const reader = new ReplyReader(channel, maxBytes, settle);
    const query = options.verbose ? (user === '' ? '/W' : `/W ${user}`) : user;
    reader.push(`${query}\r\n`);
  });
  return reply.toString('utf8').replace(/\r\n/g, '\n');
}
