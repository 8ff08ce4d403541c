/**
 * Storage contract suites as plain data: each protocol package's `/testing` entry exports a
 * function that takes a factory for the embedder's store and returns named async checks. They
 * throw (node:assert) on failure and depend on no test framework, so any runner can call them:
 * `for (const c of checks) it(c.name, c.run)` under vitest, jest or node:test, or
 * {@link runContract} from a plain script.
 */

/** One named check of a contract suite: resolves when the store keeps that part of the contract. */
export interface ContractCheck {
  readonly name: string;
  run(): Promise<void>;
}

/** What {@link runContract} found: the names that passed, and each failure with its error. */
export interface ContractReport {
  passed: string[];
  failed: Array<{ name: string; error: unknown }>;
}

/**
 * Runs every check in order (one at a time: stores may share a directory or a lock) and reports
 * them all; it never throws. A script fails when `failed.length > 0`.
 */
export async function runContract(checks: readonly ContractCheck[]): Promise<ContractReport> {
  const report: ContractReport = { passed: [], failed: [] };
  for (const check of checks) {
    try {
      await check.run();
      report.passed.push(check.name);
    } catch (error) {
      report.failed.push({ name: check.name, error });
    }
  }
  return report;
}
