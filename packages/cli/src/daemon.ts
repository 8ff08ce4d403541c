import type { AddressInfo } from 'node:net';
import { formatAddress, type Logger } from '@gorgon/core';
import { CliError, describeListenError, messageOf } from './errors.js';
import { dropPrivileges, warnIfRoot, type Identity } from './privileges.js';
import type { RunningDaemon, Suite } from './suite.js';

/** A server the CLI runs: what every createXServer returns. */
export interface RunnableServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Something SIGHUP reads again: a users file, a certificate and key. */
export interface Reloader {
  /** What it is, for the log: "pop3 users file /etc/gorgon/users.json". */
  what: string;
  /** Reads it again; resolves with a detail for the log ("3 users"), or throws. */
  reload(): Promise<string | undefined>;
  /** False when a failed reload does not keep the old one in force (the log then says so). */
  keepsOld?: boolean;
}

/** One daemon to start: its name for messages, the server, and where it listens. */
export interface DaemonSpec {
  name: string;
  server: RunnableServer;
  port: number;
  host: string;
  /** How to move this listener when its port is in use (default: "pick another with --port"). */
  inUseAdvice?: string;
  /** What SIGHUP reloads for this daemon (given once when two specs share one server). */
  reloaders?: Reloader[];
  /** The protocol key of its config section ("pop3"); defaults to `name`. */
  protocol?: string;
}

/** How {@link runDaemons} runs: the user to become after binding, if any. */
export interface RunOptions {
  runAs?: Identity | undefined;
  /** Kept current with the phase and the running daemons (for the admin listener). */
  suite?: Suite | undefined;
  /**
   * A listener that starts once every daemon listens (before root is dropped, so it may take a
   * low port too) and closes after all of them: the admin listener, which must answer
   * `/healthz` with 503 while the daemons drain. `start` throws a CliError to stop the start.
   */
  after?: { start(): Promise<void>; close(): Promise<void> } | undefined;
}

/**
 * A daemon's whole life: start every listener, drop root, then serve until SIGINT or SIGTERM,
 * reloading users files and certificates on SIGHUP, as Dovecot, vsftpd and INN do: new
 * connections get the new users and certificates, open ones keep theirs, and whatever fails to
 * load is reported with the old one kept. Other settings are read only at start-up.
 */
export async function runDaemons(specs: DaemonSpec[], log: Logger, options: RunOptions = {}): Promise<void> {
  const reloaders = specs.flatMap((spec) => spec.reloaders ?? []);
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let pending = false;
  let reloading = Promise.resolve();
  // One listener for the whole life: removing Node's last SIGHUP listener restores the default
  // action (exit), so swapping listeners between phases could let a signal kill the process.
  const onHangup = (): void => {
    if (phase === 'starting') pending = true;
    // Signals that arrive while a reload runs make one more reload after it.
    else if (phase === 'running') reloading = reloading.then(() => reloadAll(reloaders, log));
  };
  process.on('SIGHUP', onHangup);
  // SIGINT/SIGTERM handlers are in place before any listener is bound, so a signal sent the
  // moment `ready` is logged (or during start-up) shuts down gracefully instead of killing.
  const stopping = (): boolean => phase === 'stopping';
  let stop: (() => Promise<void>) | undefined;
  let stopRequested: (() => void) | undefined;
  const { stopped, detach } = untilSignal(async () => {
    phase = 'stopping';
    options.suite?.setPhase('draining');
    if (stop) await stop();
    else await new Promise<void>((resolve) => (stopRequested = resolve));
  }, log);
  try {
    stop = await startDaemons(specs, log, options);
    if (stopping()) {
      // A signal came during start-up: its shutdown waited for the listeners to exist.
      await stop();
      stopRequested?.();
    } else {
      phase = 'running';
      options.suite?.setPhase('running');
      if (pending) onHangup();
    }
    await stopped;
    options.suite?.setPhase('stopped');
  } catch (err) {
    detach();
    throw err;
  } finally {
    process.off('SIGHUP', onHangup);
    await options.after?.close();
  }
}

/**
 * Starts every daemon, or none: if one cannot listen, those already started are closed and the
 * error is thrown as one sentence. Then drops root when asked (warns when still root otherwise)
 * and logs `ready`. Returns a function that closes them all.
 */
export async function startDaemons(specs: DaemonSpec[], log: Logger, options: RunOptions = {}): Promise<() => Promise<void>> {
  const started: DaemonSpec[] = [];
  const running: RunningDaemon[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((d) => d.server.close({ timeoutMs: 5000 })));
    for (const daemon of running) options.suite?.remove(daemon);
  };
  for (const spec of specs) {
    try {
      const address = await spec.server.listen(spec.port, spec.host);
      log.info({ event: 'started', daemon: spec.name, address: formatAddress(address) }, `${spec.name} on ${formatAddress(address)}`);
      started.push(spec);
      if (options.suite && isObservable(spec.server)) {
        const daemon = { name: spec.name, protocol: spec.protocol ?? spec.name, address: formatAddress(address), server: spec.server };
        running.push(daemon);
        options.suite.add(daemon);
      } else if (options.suite) {
        // The implicit-TLS port of the daemon built just before it (a protocol builds the plain
        // daemon first, then its TLS port on the same server): the same daemon, a second address.
        const protocol = spec.protocol ?? spec.name;
        const plain = [...running].reverse().find((d) => d.protocol === protocol);
        if (plain) plain.tlsAddress = formatAddress(address);
      }
    } catch (err) {
      await stopAll();
      throw describeListenError(err, spec.name, spec.port, spec.host, spec.inUseAdvice);
    }
  }
  if (options.after) {
    try {
      await options.after.start();
    } catch (err) {
      await stopAll();
      throw err instanceof CliError ? err : new CliError(messageOf(err));
    }
  }
  try {
    if (options.runAs) dropPrivileges(options.runAs, log);
    else warnIfRoot(log);
  } catch (err) {
    await stopAll();
    throw err instanceof CliError ? err : new CliError(`cannot run as user "${options.runAs?.user}": ${messageOf(err)}`);
  }
  log.info({ event: 'ready', daemons: specs.map((s) => s.name) }, `ready: ${specs.map((s) => s.name).join(', ')}`);
  return stopAll;
}

/** Whether a daemon's server has the events and counters the admin listener reads (every createXServer does). */
function isObservable(server: RunnableServer): server is RunnableServer & RunningDaemon['server'] {
  const s = server as Partial<RunningDaemon['server']>;
  return typeof s.on === 'function' && typeof s.off === 'function' && typeof s.counters === 'object';
}

/**
 * Resolves `stopped` after the first SIGINT or SIGTERM has run `stop` (graceful shutdown; a
 * second signal forces exit). `detach` removes the handlers without stopping.
 */
export function untilSignal(stop: () => Promise<void>, log: Logger): { stopped: Promise<void>; detach: () => void } {
  let detach = (): void => {};
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ event: 'forced-exit', signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ event: 'shutdown', signal }, `${signal}: shutting down`);
      void stop().then(() => {
        detach();
        resolve();
      });
    };
    detach = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return { stopped, detach };
}

/** One info line naming what was reloaded, and one warn line per thing that failed. */
export async function reloadAll(reloaders: Reloader[], log: Logger): Promise<void> {
  const results = await Promise.all(
    reloaders.map(async (r) => {
      try {
        const detail = await r.reload();
        return { r, ok: true as const, text: detail ? `${r.what} (${detail})` : r.what };
      } catch (err) {
        return { r, ok: false as const, text: messageOf(err) };
      }
    }),
  );
  for (const failed of results.filter((x) => !x.ok)) {
    const consequence = failed.r.keepsOld === false ? '' : '; the old one stays in force';
    log.warn(
      { event: 'reload-failed', signal: 'SIGHUP', what: failed.r.what, error: failed.text },
      `SIGHUP: cannot reload ${failed.r.what}: ${failed.text}${consequence}`,
    );
  }
  const reloaded = results.filter((x) => x.ok).map((x) => x.text);
  const list = reloaded.length > 0 ? `reloaded ${reloaded.join(', ')}` : 'nothing reloaded';
  log.info({ event: 'reload', signal: 'SIGHUP', reloaded }, `SIGHUP: ${list}; other settings need a restart`);
}
