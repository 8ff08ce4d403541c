/** Why a transfer stopped early. */
export type TransferFailure = 'aborted' | 'stalled' | 'connection-lost' | 'too-large' | 'storage';

/** A transfer that did not complete; `reason` picks the reply (426, 451, 552). */
export class TransferError extends Error {
  readonly reason: TransferFailure;
  constructor(reason: TransferFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransferError';
    this.reason = reason;
  }
}
