import type { Duplex } from 'node:stream';
import { Channel, type ChannelHandler, type ChannelOptions } from './channel.js';
import { CoreError } from './errors.js';
import { OutputFifo, type FifoOwner } from './output-fifo.js';
import type { Producer } from './producers.js';

/** Options of an {@link OutputChannel}. */
export interface OutputChannelOptions extends ChannelOptions {
  /**
   * A producer failed: called before the connection is closed without a flush, so the owner
   * may end it its own way first (an FTP download resets it: a FIN would mean "complete").
   */
  onProducerError?: (err: unknown) => void;
}

const EMPTY = Buffer.alloc(0);

/**
 * A connection that carries only output, through the same {@link OutputFifo} and producers as
 * a session's replies (the same batching, `drain` backpressure and producer contract): an FTP
 * data connection sending a file or a listing. Its input is not read, so a peer's early FIN
 * cannot end our side under a transfer. Ending the connection stays the owner's decision
 * (FIN after {@link written}, close_notify under TLS, or a reset for a failed transfer).
 * Give it its own loop (the default), not a listener's: a listener's loop is its registry of
 * connections, which an FTP data connection is not.
 */
export class OutputChannel implements ChannelHandler, FifoOwner {
  readonly channel: Channel;
  readonly #fifo: OutputFifo;
  readonly #onProducerError: ((err: unknown) => void) | undefined;
  #failure: { err: unknown } | undefined;

  constructor(stream: Duplex, options: OutputChannelOptions = {}) {
    const { onProducerError, ...channelOptions } = options;
    this.#onProducerError = onProducerError;
    this.channel = new Channel(stream, channelOptions);
    this.#fifo = new OutputFifo(this.channel, this);
    this.channel.attach(this, { input: false });
  }

  /** Queues data or a producer. */
  push(item: Buffer | string | Producer): void {
    this.#fifo.push(item);
  }

  /**
   * Resolves once everything pushed so far was written and the stream's callback for the last
   * write has run (under TLS 1.3 a close_notify sent while the last record is still queued is
   * rejected by strict peers: end only after this). Rejects with a producer's error, or with a
   * `closed` CoreError when the connection closed first.
   */
  async written(): Promise<void> {
    await this.#fifo.flush();
    this.#check();
    const stream = this.channel.stream;
    // Callbacks run in write order: an empty write's comes after every earlier one's.
    await new Promise<void>((resolve, reject) =>
      stream.write(EMPTY, (err) => (err ? reject(new CoreError('closed', `connection closed: ${err.message}`)) : resolve())),
    );
    this.#check();
  }

  #check(): void {
    if (this.#failure) throw this.#failure.err;
    if (this.channel.isClosed || !this.channel.writable) throw new CoreError('closed', 'connection closed before the output was written');
  }

  // FifoOwner
  progress(): void {}

  producerFailed(err: unknown): void {
    this.#failure ??= { err };
    this.#onProducerError?.(err);
  }

  // ChannelHandler: only output events are bound (attach with input: false).
  data(): void {}
  end(): void {}
  close(): void {
    this.#fifo.abort();
  }
  drain(): void {
    this.#fifo.drained();
  }
  timeout(): void {
    this.channel.close({ flush: false });
  }
  /** The owner ends the connection (an FTP session resets a download and replies 426 first). */
  shutdown(): void {}
}
