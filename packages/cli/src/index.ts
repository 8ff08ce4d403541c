/**
 * @gorgon/cli: the `gorgon` command. Importable for tests and for embedding the suite runner.
 * @packageDocumentation
 */
export { runCli, type CliIo } from './cli.js';
export { CliError } from './errors.js';
export { loadConfig, configSchema, type SuiteConfig } from './config.js';
export { protocols } from './protocols/index.js';
export type { SuiteProtocol, BuildContext } from './protocols/protocol.js';
