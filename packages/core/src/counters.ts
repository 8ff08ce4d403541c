/** Counters a listener keeps and its channels update: what a status page or metrics export reads. */
export interface Counters {
  /** Connections accepted since start. */
  connections: number;
  /** Connections open now. */
  active: number;
  /** Connections refused by a limit (total or per address). */
  rejected: number;
  /** Commands (units) dispatched by sessions. */
  commands: number;
  bytesIn: number;
  bytesOut: number;
  /** Errors: handler exceptions, TLS failures, protocol violations logged as errors. */
  errors: number;
  /** Connections closed by an idle or total timeout. */
  timeouts: number;
  /**
   * Times the process ran out of file descriptors (EMFILE/ENFILE), once per burst: while it
   * lasts, new connections are dropped unanswered. Counted by the listener that saw it first.
   */
  fdExhausted: number;
}

/** Fresh counters, all zero. */
export function createCounters(): Counters {
  return { connections: 0, active: 0, rejected: 0, commands: 0, bytesIn: 0, bytesOut: 0, errors: 0, timeouts: 0, fdExhausted: 0 };
}
