import type { ShutdownSettings } from './config.js';
import { type DaemonRunner, type DaemonSpec, type RunnableServer, type StartedDaemon, runReloaders } from './daemon.js';
import { describeListenError, messageOf } from './errors.js';

/** The daemons of one config section, as they run. */
export interface Unit {
  /** The section's key ("pop3"), or a daemon's name without a config. */
  key: string;
  /** The section as validated (canonical JSON), to tell a changed section from an unchanged one. */
  fingerprint: string | undefined;
  daemons: StartedDaemon[];
}

/** One section of a config read again: what it says, and how to build its daemons. */
export interface UnitPlan {
  fingerprint: string;
  build(): Promise<DaemonSpec[]>;
}

/** A config read (again): its sections in start order, and the settings that apply at once. */
export interface ConfigPlan {
  units: Map<string, UnitPlan>;
  shutdown: ShutdownSettings;
  /** Settings read only at start (log, runAs, admin): a change is named in the log as needing a restart. */
  startOnly: string;
}

/** Where the config comes from: SIGHUP calls `load` again. */
export interface ConfigSource {
  /** "config file gorgon.yaml", for the log. */
  what: string;
  /** Reads and validates the config; throws one sentence (with line numbers) when it does not. */
  load(): Promise<ConfigPlan>;
  /** What `startOnly` was when the daemons started. */
  startOnly: string;
}

/**
 * SIGHUP with a config file: read it again; if it does not validate, one warning says why (with
 * its line) and nothing changes. Otherwise each section is compared with the running one:
 * - unchanged: its users files and certificates are read again (new connections use them);
 * - changed: a new server is built from the new section; each listener whose address did not
 *   change hands its bound socket to the new server (no connection is refused meanwhile), a
 *   moved one is bound anew first; the old server stops accepting and its open sessions run to
 *   their natural end on the old settings;
 * - removed (or `enabled: false`): the old server stops accepting, its sessions finish;
 * - added: started.
 * A section whose new daemons cannot be built or bound is left as it was (one warning). One
 * line per section says what changed, and one line sums it up.
 */
export async function reloadConfig(runner: DaemonRunner, source: ConfigSource): Promise<void> {
  const { log } = runner;
  let plan: ConfigPlan;
  try {
    plan = await source.load();
  } catch (err) {
    const reason = messageOf(err);
    const sentence = /[.!?]$/.test(reason) ? reason : `${reason}.`;
    log.warn({ event: 'reload-refused', signal: 'SIGHUP', error: reason }, `SIGHUP: ${sentence} The running config stays in force.`);
    return;
  }
  runner.shutdownSettings = plan.shutdown;
  const summary: string[] = [];
  const keys = [...new Set([...runner.units.keys(), ...plan.units.keys()])];
  for (const key of keys) {
    const unit = runner.units.get(key);
    const next = plan.units.get(key);
    if (unit && next && unit.fingerprint === next.fingerprint) {
      const reloaded = await runReloaders(
        unit.daemons.flatMap((d) => d.spec.reloaders ?? []),
        log,
      );
      const detail = reloaded.length > 0 ? `; reloaded ${reloaded.join(', ')}` : '';
      log.info({ event: 'reload-section', signal: 'SIGHUP', section: key, change: 'unchanged' }, `SIGHUP: ${key} unchanged${detail}`);
      summary.push(`${key} unchanged`);
      continue;
    }
    let specs: DaemonSpec[] = [];
    if (next) {
      try {
        specs = await next.build();
      } catch (err) {
        log.warn(
          { event: 'reload-section-failed', signal: 'SIGHUP', section: key, error: messageOf(err) },
          `SIGHUP: ${key}: ${messageOf(err).replace(/\.$/, '')}; ${unit ? 'the running one stays in force' : 'not started'}`,
        );
        summary.push(`${key} failed`);
        continue;
      }
    }
    if (specs.length === 0) {
      if (!unit) continue;
      runner.units.delete(key);
      retire(runner, key, unit.daemons);
      const names = unit.daemons.map((d) => `${d.spec.name} on ${d.address}`).join(', ');
      log.info(
        { event: 'reload-section', signal: 'SIGHUP', section: key, change: 'removed' },
        `SIGHUP: ${key} removed: ${names} stopped accepting; open sessions finish`,
      );
      summary.push(`${key} removed`);
      continue;
    }
    const moved = await replace(runner, key, unit, specs, next!.fingerprint);
    if (moved === undefined) {
      summary.push(`${key} failed`);
      continue;
    }
    const change = unit ? `changed (${changedKeys(unit.fingerprint, next!.fingerprint).join(', ')})` : 'added';
    log.info(
      { event: 'reload-section', signal: 'SIGHUP', section: key, change: unit ? 'changed' : 'added' },
      `SIGHUP: ${key} ${change}: ${moved.join(', ')}${unit ? '; open sessions finish on the old settings' : ''}`,
    );
    summary.push(`${key} ${unit ? 'changed' : 'added'}`);
  }
  const restart = plan.startOnly !== source.startOnly ? '; log, runAs and admin changes need a restart' : '';
  log.info(
    { event: 'reload', signal: 'SIGHUP', config: source.what },
    `SIGHUP: ${source.what} applied: ${summary.join(', ') || 'no sections'}${restart}`,
  );
}

/**
 * Starts the new daemons of a section in place of the old ones. Listeners at a new address are
 * bound first (a failure leaves the section as it was); then the sockets of unchanged addresses
 * are handed over, and the old servers retire. Returns a phrase per daemon, or undefined.
 */
async function replace(
  runner: DaemonRunner,
  key: string,
  unit: Unit | undefined,
  specs: DaemonSpec[],
  fingerprint: string,
): Promise<string[] | undefined> {
  const old = unit?.daemons ?? [];
  const predecessor = new Map<DaemonSpec, StartedDaemon>();
  for (const spec of specs) {
    const same = old.find(
      (d) =>
        d.spec.host === spec.host && d.spec.port === spec.port && (spec.port !== 0 || d.spec.name === spec.name) && d.spec.server.handOff,
    );
    if (same && ![...predecessor.values()].includes(same)) predecessor.set(spec, same);
  }
  const started: StartedDaemon[] = [];
  const phrases: string[] = [];
  for (const spec of specs.filter((s) => !predecessor.has(s))) {
    try {
      const daemon = await runner.listen(spec, spec.port);
      started.push(daemon);
      const was = old.find((d) => d.spec.name === spec.name);
      phrases.push(was ? `${spec.name} moved from ${was.address} to ${daemon.address}` : `${spec.name} on ${daemon.address}`);
    } catch (err) {
      const reason = describeListenError(err, spec.name, spec.port, spec.host, spec.inUseAdvice).message;
      runner.log.warn(
        { event: 'reload-section-failed', signal: 'SIGHUP', section: key, error: reason },
        `SIGHUP: ${reason.replace(/\.$/, '')}; ${unit ? `the running ${key} stays in force` : `${key} not started`}`,
      );
      for (const d of started) runner.forget(d);
      await Promise.all(distinctServers(specs).map((s) => s.close({ timeoutMs: 0 })));
      return undefined;
    }
  }
  for (const [spec, was] of predecessor) {
    const handoff = was.spec.server.handOff!();
    // Not bound any more (cannot happen for a running daemon): bind the port afresh.
    const daemon = await runner.listen(spec, handoff ?? spec.port);
    started.push(daemon);
    phrases.push(`${spec.name} keeps ${daemon.address}`);
  }
  retire(runner, key, old);
  // Start order, as in the new section.
  started.sort((a, b) => specs.indexOf(a.spec) - specs.indexOf(b.spec));
  runner.units.set(key, { key, fingerprint, daemons: started });
  return phrases;
}

/** The old daemons leave the Suite and stop accepting; their sessions run to their end, then they release everything. */
function retire(runner: DaemonRunner, key: string, daemons: StartedDaemon[]): void {
  for (const daemon of daemons) runner.forget(daemon);
  const names = daemons.map((d) => d.spec.name).join(', ');
  for (const server of distinctServers(daemons.map((d) => d.spec))) {
    runner.retiring.add(server);
    const done = server.retire ? server.retire() : server.close({ timeoutMs: runner.shutdownSettings.timeoutMs });
    done.then(
      () => {
        // Once per section: the wrappers of one server (plain, implicit TLS) retire together.
        if (runner.retiring.delete(server) && server === daemons[0]?.spec.server) {
          runner.log.info({ event: 'retired', section: key }, `${key}: the old ${names} retired (its last session ended)`);
        }
      },
      (err: unknown) => {
        runner.retiring.delete(server);
        runner.log.error({ event: 'retire-failed', error: messageOf(err) }, `an old server failed to close: ${messageOf(err)}`);
      },
    );
  }
}

function distinctServers(specs: DaemonSpec[]): RunnableServer[] {
  return [...new Set(specs.map((s) => s.server))];
}

/** The top-level keys whose values differ between two sections (canonical JSON). */
function changedKeys(before: string | undefined, after: string): string[] {
  const a = (before ? JSON.parse(before) : {}) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return keys.length > 0 ? keys : ['files'];
}
