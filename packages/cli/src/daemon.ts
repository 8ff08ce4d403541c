import type { AddressInfo } from 'node:net';
import { formatAddress, type Logger } from '@gorgon/core';
import { describeListenError } from './errors.js';

/** A server the CLI runs: what every createXServer returns. */
export interface RunnableServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** One daemon to start: its name for messages, the server, and where it listens. */
export interface DaemonSpec {
  name: string;
  server: RunnableServer;
  port: number;
  host: string;
  /** How to move this listener when its port is in use (default: "pick another with --port"). */
  inUseAdvice?: string;
}

/**
 * Starts every daemon, or none: if one cannot listen, those already started are closed and the
 * error is thrown as one sentence. Returns a function that closes them all.
 */
export async function startDaemons(specs: DaemonSpec[], log: Logger): Promise<() => Promise<void>> {
  const started: DaemonSpec[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((d) => d.server.close({ timeoutMs: 5000 })));
  };
  for (const spec of specs) {
    try {
      const address = await spec.server.listen(spec.port, spec.host);
      log.info({ event: 'started', daemon: spec.name, address: formatAddress(address) }, `${spec.name} on ${formatAddress(address)}`);
      started.push(spec);
    } catch (err) {
      await stopAll();
      throw describeListenError(err, spec.name, spec.port, spec.host, spec.inUseAdvice);
    }
  }
  return stopAll;
}

/** Runs until SIGINT or SIGTERM, then shuts down gracefully (a second signal forces exit). */
export function untilSignal(stop: () => Promise<void>, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ event: 'forced-exit', signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ event: 'shutdown', signal }, `${signal}: shutting down`);
      void stop().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
