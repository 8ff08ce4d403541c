import type { z } from 'zod';
import type { Logger } from '@gorgon/core';
import type { DaemonSpec } from '../daemon.js';
import type { CheckContext, SectionProblem } from './checks.js';

/** What a protocol needs from the CLI to build its servers. */
export interface BuildContext {
  logger: Logger;
  /** Relative paths in the config resolve against this directory. */
  baseDir: string;
  /**
   * Set in a worker of `gorgon serve --workers`: which one, of how many, and whether it is a
   * restart after a crash (the other workers are serving meanwhile).
   */
  worker?: { index: number; count: number; restart: boolean } | undefined;
}

/**
 * One protocol as the suite sees it: the schema of its section in the config file, the demo
 * data it creates for `gorgon serve --demo`, and how it turns a section into daemons. The
 * single-protocol commands (`gorgon fingerd`, …) map their flags onto the same section.
 */
export interface SuiteProtocol<C> {
  key: string;
  schema: z.ZodType<C>;
  /** Writes demo data under `dataDir` and returns the section that serves it. */
  demo(dataDir: string): Promise<C>;
  build(section: C, context: BuildContext): Promise<DaemonSpec[]>;
  /**
   * What `gorgon check-config` can check without starting anything: the files and directories
   * the section names exist and can be used (users files, certificate and key, roots).
   */
  check(section: C, context: CheckContext): Promise<SectionProblem[]>;
  /**
   * The section as worker `index` of `count` (`gorgon serve --workers`) runs it, when a worker
   * needs something of its own: FTP gives each worker its own share of the passive ports.
   * Absent: every worker runs the section as it is. Throws a CliError when it cannot be shared.
   */
  forWorker?(section: C, worker: { index: number; count: number }): C;
}
