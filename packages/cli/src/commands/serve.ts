import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Logger } from '@gorgon/core';
import { adminRunOptions, type AdminListen } from '../admin/run.js';
import { startAdminServer } from '../admin/admin-server.js';
import { createLocalSource } from '../admin/local-source.js';
import { registry } from '../admin/metrics.js';
import type { AdminSource } from '../admin/source.js';
import { defaultShutdown, loadConfig, type SuiteConfig } from '../config.js';
import { DaemonRunner, holdSignals, runWith, type DaemonSpec } from '../daemon.js';
import { CliError, describeListenError, UsageError } from '../errors.js';
import { createCliLogger } from '../logging.js';
import { protocols } from '../protocols/index.js';
import type { ConfigPlan, ConfigSource, UnitPlan } from '../reload.js';
import { Suite } from '../suite.js';
import { runPrimary } from '../workers/primary.js';
import { endWorker, failWorker, linkWorker, shareEphemeralPorts, workerIdentity } from '../workers/worker.js';
import { adminFrom, adminOptions, runAsFrom, runAsOptions, type AdminArgs, type GlobalArgs, type RunAsArgs } from './options.js';

/** The admin listener's port under `--demo` (the status page the README's first command shows). */
const DEMO_ADMIN_PORT = 9090;

interface ServeArgs extends GlobalArgs, RunAsArgs, AdminArgs {
  config?: string;
  demo: boolean;
  data: string;
  'ephemeral-ports': boolean;
  workers?: string;
}

/** `gorgon serve`: every configured daemon in one process. */
export const serveCommand: CommandModule<GlobalArgs, ServeArgs> = {
  command: 'serve',
  describe: 'run every configured daemon in one process',
  builder: (yargs: Argv<GlobalArgs>) =>
    adminOptions(runAsOptions(yargs))
      .option('config', { alias: 'c', type: 'string', describe: 'YAML config file (default ./gorgon.yaml if present)' })
      .option('demo', { type: 'boolean', default: false, describe: 'create demo data and serve every protocol on its default port' })
      .option('data', { type: 'string', default: './demo-data', describe: 'where --demo writes its data' })
      .option('ephemeral-ports', {
        type: 'boolean',
        default: false,
        describe: 'listen on free ports the system picks, whatever the config says (the log names each address)',
      })
      .option('workers', {
        type: 'string',
        describe: 'worker processes sharing the ports (a number, or auto: one per CPU; default 1, or workers: in the config)',
      })
      .example('$0 serve --demo', 'the whole suite with demo data')
      .example('$0 serve --config gorgon.yaml', 'the daemons a config file describes')
      .example('$0 serve --config gorgon.yaml --workers auto', 'the same on every core'),
  handler: async (args: ArgumentsCamelCase<ServeArgs>) => {
    const worker = workerIdentity();
    if (worker) {
      await serveAsWorker(args, worker);
      return;
    }
    holdSignals();
    const config = await chooseConfig(args);
    const log = loggerOf(args, config);
    const admin = adminListenOf(args, config);
    const workers = workerCount(args.workers, config.workers);
    if (workers > 1) {
      if (args.demo) log.info({ event: 'demo', data: resolve(args.data) }, `demo data in ${resolve(args.data)}`);
      // The primary serves the admin listener over the sum of its workers.
      const startAdmin = admin ? (source: AdminSource) => startPrimaryAdmin(source, admin, log) : undefined;
      await runPrimary({ workers, log, startAdmin });
      return;
    }
    const plan = planFor(config, args, log);
    const daemons: DaemonSpec[] = [];
    for (const unit of plan.units.values()) daemons.push(...(await unit.build()));
    if (daemons.length === 0) throw new CliError('serve: the config enables no daemon.');
    if (args.demo) log.info({ event: 'demo', data: resolve(args.data) }, `demo data in ${resolve(args.data)}`);
    const options = adminRunOptions(admin, log);
    const runner = new DaemonRunner(log, {
      runAs: runAsFrom(args, config.runAs),
      suite: options.suite ?? new Suite(),
      after: options.after,
      config: configSource(config, args, log),
      shutdown: plan.shutdown,
    });
    await runWith(runner, daemons, fingerprintsOf(plan));
  },
};

/** The log of a serve process: flags and the config's `log:` section (flags win for the file). */
function loggerOf(args: ServeArgs, config: SuiteConfig): Logger {
  const logFile = args['log-file'] ?? (config.log?.file ? resolve(config.baseDir, config.log.file) : undefined);
  return createCliLogger(config.log?.format ?? args['log-format'], config.log?.level ?? args['log-level'], logFile);
}

/** Where the admin listener listens: the demo has its status page; a config file when its admin: section asks. */
function adminListenOf(args: ServeArgs, config: SuiteConfig): AdminListen | undefined {
  let adminConfig = config.admin ?? (args.demo ? { port: DEMO_ADMIN_PORT, host: '127.0.0.1' } : undefined);
  if (adminConfig && args['ephemeral-ports']) adminConfig = { ...adminConfig, port: 0 };
  return adminFrom(args, adminConfig);
}

/** The primary's admin listener (over its workers' sum); resolves with the function that closes it. */
async function startPrimaryAdmin(source: AdminSource, admin: AdminListen, log: Logger): Promise<() => Promise<void>> {
  try {
    const server = await startAdminServer(source, { port: admin.port, host: admin.host, logger: log });
    return () => server.close();
  } catch (err) {
    throw describeListenError(err, 'admin listener', admin.port, admin.host, 'pick another with --admin-port or admin.port');
  }
}

/** With a config file, SIGHUP reads it again and applies what changed (docs/operations.md). */
function configSource(config: SuiteConfig, args: ServeArgs, log: Logger, worker?: WorkerSlot): ConfigSource | undefined {
  const path = config.path;
  if (!path) return undefined;
  const startOnly = planFor(config, args, log, worker).startOnly;
  return { what: `config file ${path}`, startOnly, load: async () => planFor(await loadConfig(path), args, log, worker) };
}

function fingerprintsOf(plan: ConfigPlan): Map<string, string> {
  return new Map([...plan.units].map(([key, unit]) => [key, unit.fingerprint]));
}

/** Which worker of how many (`serve --workers`), and whether it is a restart. */
type WorkerSlot = { index: number; count: number; restart: boolean };

/**
 * `--workers` (or `workers:` in the config): 1 without either; `auto` is one per CPU the
 * process may use.
 */
export function workerCount(flag: string | undefined, configured: number | 'auto' | undefined): number {
  const value = flag ?? configured;
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UsageError(`--workers must be a whole number from 1 to 1024, or auto, got "${String(value)}".`);
  }
  return n;
}

/**
 * One worker of `serve --workers N`: the same config as the primary read, its own share of
 * what cannot be shared (FTP passive ports, NNTP in the first worker only; a SIGHUP reload keeps
 * that share), a log line tag `worker: i`, and the link to the primary (ready, drain, reload,
 * status, metrics). A start-up failure goes to the primary, which reports it.
 */
async function serveAsWorker(args: ArgumentsCamelCase<ServeArgs>, worker: WorkerSlot): Promise<void> {
  holdSignals();
  const suite = new Suite();
  let unlink = (): void => {};
  try {
    const config = await chooseConfig(args);
    const log = (loggerOf(args, config) as Logger & { child(bindings: object): Logger }).child({ worker: worker.index + 1 });
    const plan = planFor(config, args, log, worker);
    const daemons: DaemonSpec[] = [];
    for (const unit of plan.units.values()) daemons.push(...(await unit.build()));
    // A worker after the first may have nothing of its own (NNTP alone runs in the first): it idles.
    if (daemons.length === 0 && worker.index === 0) throw new CliError('serve: the config enables no daemon.');
    const ports: Record<string, number> = {};
    await shareEphemeralPorts(daemons, ports);
    const admin = adminListenOf(args, config) ? { localSource: createLocalSource, registry } : {};
    unlink = linkWorker(suite, worker.index, log, admin, ports);
    const runner = new DaemonRunner(log, {
      runAs: runAsFrom(args, config.runAs),
      suite,
      config: configSource(config, args, log, worker),
      shutdown: plan.shutdown,
    });
    await runWith(runner, daemons, fingerprintsOf(plan));
  } catch (err) {
    await failWorker(err);
  } finally {
    unlink();
  }
  endWorker();
}

/** What a config asks for: per section, its canonical form and how to build its daemons. */
function planFor(config: SuiteConfig, args: ServeArgs, log: Logger, worker?: WorkerSlot): ConfigPlan {
  const units = new Map<string, UnitPlan>();
  for (const protocol of protocols) {
    let section = config.sections.get(protocol.key);
    if (section === undefined) continue;
    if (worker && protocol.forWorker) section = protocol.forWorker(section, worker);
    const own = section;
    units.set(protocol.key, {
      fingerprint: JSON.stringify(own),
      build: async () => {
        const built = await protocol.build(own, { logger: log, baseDir: config.baseDir, worker });
        // serve has no --port: name what moves each listener (the first is the plain one, the
        // next the implicit-TLS one).
        built.forEach((daemon, i) => {
          const key = `${protocol.key}.${i === 0 ? 'port' : 'tlsPort'}`;
          daemon.inUseAdvice = args.config
            ? `set ${key} in ${args.config} to a free port, or run gorgon serve --ephemeral-ports`
            : args.demo
              ? 'stop what listens there, or run gorgon serve --demo --ephemeral-ports'
              : `set ${key} in gorgon.yaml to a free port, or run gorgon serve --ephemeral-ports`;
          daemon.protocol = protocol.key;
          if (args['ephemeral-ports']) daemon.port = 0;
        });
        return built;
      },
    });
  }
  return {
    units,
    shutdown: config.shutdown ?? defaultShutdown,
    startOnly: JSON.stringify([config.log, config.runAs, config.admin, config.workers]),
  };
}

async function chooseConfig(args: ServeArgs): Promise<SuiteConfig> {
  if (args.config) return loadConfig(args.config);
  if (args.demo) {
    const dataDir = resolve(args.data);
    const sections = new Map<string, unknown>();
    for (const protocol of protocols) sections.set(protocol.key, await protocol.demo(dataDir));
    return { sections, baseDir: dataDir };
  }
  if (existsSync('gorgon.yaml')) return loadConfig('gorgon.yaml');
  throw new CliError('serve: no config: give --config FILE, put a gorgon.yaml here, or use --demo.', 2);
}
