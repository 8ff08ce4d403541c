import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Logger } from '@gorgon/core';
import type { AdminSource } from '../admin/source.js';
import { loadConfig, type SuiteConfig } from '../config.js';
import { runDaemons, type DaemonSpec } from '../daemon.js';
import { CliError, UsageError } from '../errors.js';
import { createCliLogger } from '../logging.js';
import { protocols } from '../protocols/index.js';
import { Suite } from '../suite.js';
import { runPrimary } from '../workers/primary.js';
import { endWorker, failWorker, linkWorker, shareEphemeralPorts, workerIdentity, type WorkerAdmin } from '../workers/worker.js';
import { runAsFrom, runAsOptions, type GlobalArgs, type RunAsArgs } from './options.js';

interface ServeArgs extends GlobalArgs, RunAsArgs {
  config?: string;
  demo: boolean;
  data: string;
  'ephemeral-ports': boolean;
  workers?: string;
}

/**
 * The admin listener's parts under `--workers`: each worker's own source and registry, and the
 * primary's listener over the sum of them. Empty until the admin listener is wired in.
 */
export const workersAdmin: {
  worker: WorkerAdmin;
  startAdmin?: (source: AdminSource) => Promise<() => Promise<void>>;
} = { worker: {} };

/** `gorgon serve`: every configured daemon in one process. */
export const serveCommand: CommandModule<GlobalArgs, ServeArgs> = {
  command: 'serve',
  describe: 'run every configured daemon in one process',
  builder: (yargs: Argv<GlobalArgs>) =>
    runAsOptions(yargs)
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
    const config = await chooseConfig(args);
    const log = createCliLogger(config.log?.format ?? args['log-format'], config.log?.level ?? args['log-level']);
    const workers = workerCount(args.workers, config.workers);
    if (workers > 1) {
      if (args.demo) log.info({ event: 'demo', data: resolve(args.data) }, `demo data in ${resolve(args.data)}`);
      await runPrimary({ workers, log, startAdmin: workersAdmin.startAdmin });
      return;
    }
    const daemons = await buildDaemons(config, args, log);
    if (args.demo) log.info({ event: 'demo', data: resolve(args.data) }, `demo data in ${resolve(args.data)}`);
    await runDaemons(daemons, log, { runAs: runAsFrom(args, config.runAs) });
  },
};

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
 * what cannot be shared (FTP passive ports), a log line tag `worker: i`, and the link to the
 * primary (ready, drain, reload, status). A start-up failure goes to the primary, which reports it.
 */
async function serveAsWorker(
  args: ArgumentsCamelCase<ServeArgs>,
  worker: { index: number; count: number; restart: boolean },
): Promise<void> {
  const suite = new Suite();
  let unlink = (): void => {};
  try {
    const config = await chooseConfig(args);
    const base = createCliLogger(config.log?.format ?? args['log-format'], config.log?.level ?? args['log-level']);
    const log = base.child({ worker: worker.index + 1 });
    const daemons = await buildDaemons(config, args, log, worker);
    const ports: Record<string, number> = {};
    await shareEphemeralPorts(daemons, ports);
    unlink = linkWorker(suite, worker.index, log, workersAdmin.worker, ports);
    await runDaemons(daemons, log, { runAs: runAsFrom(args, config.runAs), suite });
  } catch (err) {
    await failWorker(err);
  } finally {
    unlink();
  }
  endWorker();
}

/** Every daemon the config enables, built (not yet listening). */
async function buildDaemons(
  config: SuiteConfig,
  args: ServeArgs,
  log: Logger,
  worker?: { index: number; count: number; restart: boolean },
): Promise<DaemonSpec[]> {
  const daemons: DaemonSpec[] = [];
  for (const protocol of protocols) {
    let section = config.sections.get(protocol.key);
    if (section === undefined) continue;
    if (worker && protocol.forWorker) section = protocol.forWorker(section, worker);
    const built = await protocol.build(section, { logger: log, baseDir: config.baseDir, worker });
    // serve has no --port: name what moves each listener (the first is the plain one, the
    // next the implicit-TLS one).
    built.forEach((daemon, i) => {
      const key = `${protocol.key}.${i === 0 ? 'port' : 'tlsPort'}`;
      daemon.inUseAdvice = args.config
        ? `set ${key} in ${args.config} to a free port, or run gorgon serve --ephemeral-ports`
        : args.demo
          ? 'stop what listens there, or run gorgon serve --demo --ephemeral-ports'
          : `set ${key} in gorgon.yaml to a free port, or run gorgon serve --ephemeral-ports`;
    });
    for (const daemon of built) daemon.protocol = protocol.key;
    daemons.push(...built);
  }
  // A worker after the first may have nothing of its own (NNTP alone runs in the first): it idles.
  if (daemons.length === 0 && (worker?.index ?? 0) === 0) throw new CliError('serve: the config enables no daemon.');
  if (args['ephemeral-ports']) for (const daemon of daemons) daemon.port = 0;
  return daemons;
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
