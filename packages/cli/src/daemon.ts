import type { AddressInfo } from 'node:net';
import { formatAddress, type ListenerHandoff, type Logger } from '@gorgon/core';
import { defaultShutdown, type ShutdownSettings } from './config.js';
import { CliError, describeListenError, messageOf } from './errors.js';
import { releaseHeldSignals } from './early-signals.js';
import { reopenLogFiles } from './logging.js';
import { dropPrivileges, warnIfRoot, type Identity } from './privileges.js';
import { reloadConfig, type ConfigSource, type Unit } from './reload.js';
import type { RunningDaemon, Suite } from './suite.js';

export { holdSignals } from './early-signals.js';

/** A server the CLI runs: what every createXServer returns (or a view of its implicit-TLS side). */
export interface RunnableServer {
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Accepts on a socket a predecessor handed off (a config reload; the port never closes). */
  listen(handoff: ListenerHandoff): Promise<AddressInfo>;
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Gives up this listener's bound socket for a successor; null when not bound. */
  handOff?(): ListenerHandoff | null;
  /** Stops accepting, lets open sessions run to their end, then releases (see GorgonServer.retire). */
  retire?(): Promise<void>;
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

/** How {@link runDaemons} runs. */
export interface RunOptions {
  /** The user to become after binding, if any. */
  runAs?: Identity | undefined;
  /** Kept current with the phase and the running daemons (for the admin listener). */
  suite?: Suite | undefined;
  /**
   * The config file the daemons come from: SIGHUP reads it again and applies it (without it,
   * SIGHUP reloads users files and certificates only).
   */
  config?: ConfigSource | undefined;
  /** How SIGTERM and SIGINT drain (default: no delay, 5 s for sessions to finish). */
  shutdown?: ShutdownSettings | undefined;
  /**
   * A listener that starts once every daemon listens (before root is dropped, so it may take a
   * low port too) and closes after all of them: the admin listener, which must answer
   * `/healthz` with 503 while the daemons drain. `start` throws a CliError to stop the start.
   */
  after?: { start(): Promise<void>; close(): Promise<void> } | undefined;
}

/** One started listener: its spec, its address, and its entry in the Suite. */
export interface StartedDaemon {
  spec: DaemonSpec;
  address: string;
  entry?: RunningDaemon;
}

/**
 * The life of a set of daemons, as operations a signal (or the primary of `--workers`, through
 * its worker) triggers: `start`, `reload` (SIGHUP), `reopenLogs` (SIGUSR1), `shutdown`
 * (SIGTERM, SIGINT). {@link runDaemons} wires these to the process's signals.
 */
export class DaemonRunner {
  readonly log: Logger;
  readonly options: RunOptions;
  /** The running daemons, by config section (protocol key). */
  readonly units = new Map<string, Unit>();
  /** Servers replaced by a reload whose sessions are still running; SIGTERM closes them too. */
  readonly retiring = new Set<RunnableServer>();
  #shutdown: ShutdownSettings;
  #reloading: Promise<void> = Promise.resolve();

  constructor(log: Logger, options: RunOptions = {}) {
    this.log = log;
    this.options = options;
    this.#shutdown = options.shutdown ?? defaultShutdown;
  }

  get shutdownSettings(): ShutdownSettings {
    return this.#shutdown;
  }

  set shutdownSettings(settings: ShutdownSettings) {
    this.#shutdown = settings;
  }

  /**
   * Starts every daemon, or none: if one cannot listen, those already started are closed and the
   * error is thrown as one sentence. Then drops root when asked (warns when still root otherwise)
   * and logs `ready`.
   */
  async start(specs: DaemonSpec[], fingerprints?: ReadonlyMap<string, string>): Promise<void> {
    const started: StartedDaemon[] = [];
    for (const spec of specs) {
      try {
        started.push(await this.listen(spec, spec.port));
      } catch (err) {
        await this.#stopAll(started);
        throw describeListenError(err, spec.name, spec.port, spec.host, spec.inUseAdvice);
      }
    }
    for (const daemon of started) {
      const key = unitKey(daemon.spec);
      let unit = this.units.get(key);
      if (!unit) {
        unit = { key, fingerprint: fingerprints?.get(key), daemons: [] };
        this.units.set(key, unit);
      }
      unit.daemons.push(daemon);
    }
    if (this.options.after) {
      try {
        await this.options.after.start();
      } catch (err) {
        await this.#stopAll(started);
        throw err instanceof CliError ? err : new CliError(messageOf(err));
      }
    }
    try {
      if (this.options.runAs) dropPrivileges(this.options.runAs, this.log);
      else warnIfRoot(this.log);
    } catch (err) {
      await this.#stopAll(started);
      throw err instanceof CliError ? err : new CliError(`cannot run as user "${this.options.runAs?.user}": ${messageOf(err)}`);
    }
    this.log.info({ event: 'ready', daemons: specs.map((s) => s.name) }, `ready: ${specs.map((s) => s.name).join(', ')}`);
  }

  /** Binds one daemon (on a port, or on a predecessor's handed-off socket) and adds it to the Suite. */
  async listen(spec: DaemonSpec, on: number | ListenerHandoff): Promise<StartedDaemon> {
    const bound = typeof on === 'number' ? await spec.server.listen(on, spec.host) : await spec.server.listen(on);
    const address = formatAddress(bound);
    this.log.info(
      { event: 'started', daemon: spec.name, address, ...(typeof on === 'number' ? {} : { handedOver: true }) },
      `${spec.name} on ${address}`,
    );
    const started: StartedDaemon = { spec, address };
    if (this.options.suite && isObservable(spec.server)) {
      started.entry = { name: spec.name, protocol: unitKey(spec), address, server: spec.server };
      this.options.suite.add(started.entry);
    } else if (this.options.suite) {
      // The implicit-TLS port of the daemon built just before it (a protocol builds the plain
      // daemon first, then its TLS port on the same server): the same daemon, a second address.
      const plain = [...this.options.suite.daemons].reverse().find((d) => d.protocol === unitKey(spec));
      if (plain) plain.tlsAddress = address;
    }
    return started;
  }

  /** Takes a daemon out of the Suite (its server is closed or retired by the caller). */
  forget(daemon: StartedDaemon): void {
    if (daemon.entry) this.options.suite?.remove(daemon.entry);
  }

  /**
   * SIGHUP. With a config file: read it again and apply it (see {@link reloadConfig}); without
   * one: read the users files and certificates again. Signals that arrive while a reload runs
   * make one more reload after it.
   */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      try {
        if (this.options.config) await reloadConfig(this, this.options.config);
        else
          await reloadAll(
            [...this.units.values()].flatMap((u) => u.daemons.flatMap((d) => d.spec.reloaders ?? [])),
            this.log,
          );
      } catch (err) {
        // A reload never takes the process down: whatever escaped is one line, and the old stays.
        this.log.error({ event: 'reload-failed', signal: 'SIGHUP', error: messageOf(err) }, `SIGHUP: reload failed: ${messageOf(err)}`);
      }
    });
    return this.#reloading;
  }

  /** SIGUSR1: opens the log files again under their names (after logrotate moved them). */
  reopenLogs(): void {
    const { reopened, failed } = reopenLogFiles();
    for (const f of failed) {
      this.log.error(
        { event: 'log-reopen-failed', signal: 'SIGUSR1', file: f.path, error: f.error },
        `SIGUSR1: cannot reopen ${f.path}: ${f.error}`,
      );
    }
    if (reopened.length > 0)
      this.log.info({ event: 'log-reopened', signal: 'SIGUSR1', files: reopened }, `SIGUSR1: reopened ${reopened.join(', ')}`);
    else if (failed.length === 0)
      this.log.info({ event: 'log-reopened', signal: 'SIGUSR1', files: [] }, 'SIGUSR1: no log file to reopen (logs go to stderr)');
  }

  /**
   * SIGTERM/SIGINT: the Suite says `draining` first (so `/healthz` answers 503 before anything
   * closes), then after `drainDelayMs` every listener stops accepting and every session hears the
   * protocol's goodbye; running transfers get up to `timeoutMs` to finish, then are cut.
   */
  async shutdown(): Promise<void> {
    this.options.suite?.setPhase('draining');
    const { drainDelayMs, timeoutMs } = this.#shutdown;
    if (drainDelayMs > 0) {
      this.log.info({ event: 'draining', drainDelayMs }, `draining: listeners close in ${drainDelayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
    }
    await this.#reloading.catch(() => {});
    const daemons = [...this.units.values()].flatMap((u) => u.daemons);
    await Promise.all([this.#stopAll(daemons), ...[...this.retiring].map((s) => s.close({ timeoutMs }))]);
    this.units.clear();
  }

  async #stopAll(daemons: StartedDaemon[]): Promise<void> {
    const { timeoutMs } = this.#shutdown;
    await Promise.all(daemons.map((d) => d.spec.server.close({ timeoutMs })));
    for (const daemon of daemons) this.forget(daemon);
  }
}

/** The config section a spec belongs to. */
export function unitKey(spec: DaemonSpec): string {
  return spec.protocol ?? spec.name;
}

/**
 * A daemon's whole life: start every listener, drop root, then serve until SIGINT or SIGTERM
 * (see {@link DaemonRunner.shutdown}), reloading on SIGHUP (see {@link DaemonRunner.reload}),
 * reopening log files on SIGUSR1.
 */
export async function runDaemons(specs: DaemonSpec[], log: Logger, options: RunOptions = {}): Promise<void> {
  const runner = new DaemonRunner(log, options);
  return runWith(runner, specs);
}

/** {@link runDaemons} with a runner made by the caller (a config source, a worker's runner). */
export async function runWith(runner: DaemonRunner, specs: DaemonSpec[], fingerprints?: ReadonlyMap<string, string>): Promise<void> {
  const { log, options } = runner;
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let pending = false;
  // One listener for the whole life: removing Node's last SIGHUP listener restores the default
  // action (exit), so swapping listeners between phases could let a signal kill the process.
  const onHangup = (): void => {
    if (phase === 'starting') pending = true;
    else if (phase === 'running') void runner.reload();
  };
  const onUsr1 = (): void => runner.reopenLogs();
  process.on('SIGHUP', onHangup);
  process.on('SIGUSR1', onUsr1);
  const arrived = releaseHeldSignals();
  pending = arrived.hangup;
  if (arrived.usr1) runner.reopenLogs();
  // SIGINT/SIGTERM handlers are in place before any listener is bound, so a signal sent the
  // moment `ready` is logged (or during start-up) shuts down gracefully instead of killing.
  const stopping = (): boolean => phase === 'stopping';
  let started = false;
  let stopRequested: (() => void) | undefined;
  const { stopped, detach } = untilSignal(async () => {
    phase = 'stopping';
    options.suite?.setPhase('draining');
    // A signal during start-up waits for the listeners to exist, then closes them.
    if (!started) await new Promise<void>((resolve) => (stopRequested = resolve));
    await runner.shutdown();
  }, log);
  try {
    await runner.start(specs, fingerprints);
    started = true;
    if (stopping()) stopRequested?.();
    else {
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
    process.off('SIGUSR1', onUsr1);
    await options.after?.close();
  }
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
  const stopped = new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ event: 'forced-exit', signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ event: 'shutdown', signal }, `${signal}: shutting down`);
      // A close that fails (a spool that cannot write its files on a full disk) ends the
      // shutdown too: one log line, and the command fails with that sentence (exit status 1).
      void stop().then(
        () => {
          detach();
          resolve();
        },
        (err: unknown) => {
          detach();
          const text = `shutdown did not complete cleanly: ${messageOf(err)}`;
          log.error({ event: 'shutdown-failed' }, text);
          reject(new CliError(text));
        },
      );
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

/** What a list of reloaders did: the parts reloaded ("pop3 users file … (3 users)") and the failures. */
export async function runReloaders(reloaders: Reloader[], log: Logger): Promise<string[]> {
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
  return results.filter((x) => x.ok).map((x) => x.text);
}

/** One info line naming what was reloaded, and one warn line per thing that failed. */
export async function reloadAll(reloaders: Reloader[], log: Logger): Promise<void> {
  const reloaded = await runReloaders(reloaders, log);
  const list = reloaded.length > 0 ? `reloaded ${reloaded.join(', ')}` : 'nothing reloaded';
  log.info({ event: 'reload', signal: 'SIGHUP', reloaded }, `SIGHUP: ${list}; other settings need a restart`);
}
