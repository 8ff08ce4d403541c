import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Logger } from '@gorgon/core';
import { defaultShutdown, loadConfig, type SuiteConfig } from '../config.js';
import { DaemonRunner, holdSignals, runWith, type DaemonSpec } from '../daemon.js';
import { CliError } from '../errors.js';
import { createCliLogger } from '../logging.js';
import { protocols } from '../protocols/index.js';
import { adminRunOptions } from '../admin/run.js';
import type { ConfigPlan, ConfigSource, UnitPlan } from '../reload.js';
import { Suite } from '../suite.js';
import { adminFrom, adminOptions, runAsFrom, runAsOptions, type AdminArgs, type GlobalArgs, type RunAsArgs } from './options.js';

/** The admin listener's port under `--demo` (the status page the README's first command shows). */
const DEMO_ADMIN_PORT = 9090;

interface ServeArgs extends GlobalArgs, RunAsArgs, AdminArgs {
  config?: string;
  demo: boolean;
  data: string;
  'ephemeral-ports': boolean;
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
      .example('$0 serve --demo', 'the whole suite with demo data')
      .example('$0 serve --config gorgon.yaml', 'the daemons a config file describes'),
  handler: async (args: ArgumentsCamelCase<ServeArgs>) => {
    holdSignals();
    const config = await chooseConfig(args);
    const logFile = args['log-file'] ?? (config.log?.file ? resolve(config.baseDir, config.log.file) : undefined);
    const log = createCliLogger(config.log?.format ?? args['log-format'], config.log?.level ?? args['log-level'], logFile);
    const runAs = runAsFrom(args, config.runAs);
    const plan = planFor(config, args, log);
    const daemons: DaemonSpec[] = [];
    for (const unit of plan.units.values()) daemons.push(...(await unit.build()));
    if (daemons.length === 0) throw new CliError('serve: the config enables no daemon.');
    if (args.demo) log.info({ event: 'demo', data: resolve(args.data) }, `demo data in ${resolve(args.data)}`);
    const path = config.path;
    // With a config file, SIGHUP reads it again and applies what changed (docs/operations.md).
    const source: ConfigSource | undefined = path
      ? { what: `config file ${path}`, startOnly: plan.startOnly, load: async () => planFor(await loadConfig(path), args, log) }
      : undefined;
    // The demo has its status page; a config file has one when its admin: section asks.
    let adminConfig = config.admin ?? (args.demo ? { port: DEMO_ADMIN_PORT, host: '127.0.0.1' } : undefined);
    if (adminConfig && args['ephemeral-ports']) adminConfig = { ...adminConfig, port: 0 };
    const admin = adminRunOptions(adminFrom(args, adminConfig), log);
    const runner = new DaemonRunner(log, {
      runAs,
      suite: admin.suite ?? new Suite(),
      after: admin.after,
      config: source,
      shutdown: plan.shutdown,
    });
    await runWith(runner, daemons, new Map([...plan.units].map(([key, unit]) => [key, unit.fingerprint])));
  },
};

/** What a config asks for: per section, its canonical form and how to build its daemons. */
function planFor(config: SuiteConfig, args: ServeArgs, log: Logger): ConfigPlan {
  const units = new Map<string, UnitPlan>();
  for (const protocol of protocols) {
    const section = config.sections.get(protocol.key);
    if (section === undefined) continue;
    units.set(protocol.key, {
      fingerprint: JSON.stringify(section),
      build: async () => {
        const built = await protocol.build(section, { logger: log, baseDir: config.baseDir });
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
  return { units, shutdown: config.shutdown ?? defaultShutdown, startOnly: JSON.stringify([config.log, config.runAs, config.admin]) };
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
