import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The short chaos soak (issue 13): bench/soak/run.mjs with 20 SIGKILLs instead of 1,000 and a
// few seconds of the memory phase, the same drivers and the same invariant checks as `pnpm
// soak` (docs/operations.md, "Chaos soak"). It fails when any invariant is violated. It runs
// the built CLI and packages (`pnpm build` first, as `pnpm test` does).

const repo = fileURLToPath(new URL('../..', import.meta.url));
const runner = join(repo, 'bench/soak/run.mjs');

interface OpCounts {
  attempted: number;
  acknowledged: number;
  refused: number;
  unknown: number;
  reset: number;
}

interface SoakReport {
  kills: number;
  ops: Record<string, OpCounts>;
  checks: { full: number; tempAfterSweep: number };
  ledger: Record<string, number>;
  violations: number;
  violationsByKind: Record<string, number>;
  violationDetails: Array<{ kind: string; detail: string }>;
  memory?: { samples: number };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-soak-test-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function soak(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [runner, ...args], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('chaos soak, short', () => {
  it('20 SIGKILLs under FTP, POP3 and NNTP load with resets: no invariant violated', { timeout: 120_000 }, async () => {
    if (!existsSync(join(repo, 'packages/cli/dist/main.js'))) throw new Error('packages/cli/dist is missing: run pnpm build first');
    const out = join(dir, 'report.json');
    const { code, stderr } = await soak(['--kills', '20', '--seconds', '4', '--check-every', '3', '--out', out]);
    const report = JSON.parse(await readFile(out, 'utf8')) as SoakReport;
    expect(report.violationDetails, stderr).toEqual([]);
    expect(report.violations).toBe(0);
    expect(code).toBe(0);
    expect(report.kills).toBe(20);
    // Every kind of operation ran and was acknowledged at least once; the checks ran while
    // servers were down, after restarts' sweeps, and at the end.
    for (const kind of ['STOR', 'APPE', 'deliver', 'RETR', 'DELE', 'QUIT', 'POST', 'TAKETHIS', 'ARTICLE']) {
      expect(report.ops[kind]?.acknowledged, kind).toBeGreaterThan(0);
    }
    expect(report.ops['POST-duplicate']?.refused ?? 0).toBeGreaterThan(0);
    expect(report.checks.full).toBeGreaterThan(2);
    expect(report.checks.tempAfterSweep).toBeGreaterThan(5);
    expect(report.memory?.samples).toBeGreaterThan(2);
  });
});
