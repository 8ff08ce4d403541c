/**
 * Runs the matrix: for every target, its protocol's probe, then every scenario of its table with
 * every client found, one cell at a time (each client gets a fresh directory as HOME and cwd).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, release, tmpdir, type as osType } from 'node:os';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { exec } from './exec.js';
import { fingerScenarios, probeFinger } from './finger.js';
import { ftpScenarios, probeFtp } from './ftp.js';
import { httpScenarios, probeHttp } from './http.js';
import { nntpScenarios, probeNntp } from './nntp.js';
import { pop3Scenarios, probePop3 } from './pop3.js';
import {
  type Cell,
  type Client,
  type Context,
  FEATURES,
  type Feature,
  type Probe,
  type Protocol,
  type Scenario,
  type Settings,
  type Target,
} from './types.js';

/** The reason of a cell whose client has no such feature (the tables show it as a dash). */
export const LACKS = 'the client lacks this feature';

/** Each protocol's probe and table. */
const PROTOCOLS: Record<Protocol, { probe(t: Target, s: Settings): Promise<Probe>; scenarios: Scenario[] }> = {
  ftp: { probe: probeFtp, scenarios: ftpScenarios },
  pop3: { probe: probePop3, scenarios: pop3Scenarios },
  nntp: { probe: probeNntp, scenarios: nntpScenarios },
  http: { probe: probeHttp, scenarios: httpScenarios },
  finger: { probe: probeFinger, scenarios: fingerScenarios },
};

/** The client ids a protocol's table uses. */
export function clientsOf(protocol: Protocol): string[] {
  return [...new Set(PROTOCOLS[protocol].scenarios.map((s) => s.client))];
}

/** One row of a target's table: a client (a Python library per interpreter) with its cells. */
export interface Row {
  client: string;
  label: string;
  version?: string;
  cells: Cell[];
}

export interface TargetReport {
  url: string;
  protocol: Protocol;
  implicitTls: boolean;
  probe: { error?: string; sample?: string; capabilities?: string[] };
  features: readonly Feature[];
  rows: Row[];
}

/** The whole run, as `--json` prints it. */
export interface Report {
  date: string;
  machine: { host: string; os: string; node: string };
  clients: Client[];
  targets: TargetReport[];
  totals: { pass: number; fail: number; 'n/a': number };
}

/** Called as each cell finishes (the command prints progress on stderr). */
export type OnCell = (target: Target, row: Row, cell: Cell) => void;

export async function runMatrix(
  targets: readonly Target[],
  settings: Settings,
  clients: readonly Client[],
  onCell?: OnCell,
): Promise<Report> {
  const work = await mkdtemp(join(tmpdir(), 'gorgon-interop-'));
  const reports: TargetReport[] = [];
  try {
    for (const target of targets) reports.push(await runTarget(target, settings, clients, work, onCell));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const cells = reports.flatMap((r) => r.rows.flatMap((row) => row.cells));
  return {
    date: new Date().toISOString(),
    machine: { host: hostname(), os: `${osType()} ${release()}`, node: process.version },
    clients: [...clients],
    targets: reports,
    totals: {
      pass: cells.filter((c) => c.status === 'pass').length,
      fail: cells.filter((c) => c.status === 'fail').length,
      'n/a': cells.filter((c) => c.status === 'n/a').length,
    },
  };
}

async function runTarget(
  target: Target,
  settings: Settings,
  clients: readonly Client[],
  work: string,
  onCell?: OnCell,
): Promise<TargetReport> {
  const { probe: probeOf, scenarios } = PROTOCOLS[target.protocol];
  const probe = await probeOf(target, settings).catch((err: unknown): Probe => ({ error: messageOf(err) }));
  const features = FEATURES[target.protocol];
  const rows: Row[] = [];
  for (const client of clients) {
    const libraries = [...new Set(scenarios.filter((s) => s.client === client.id).map((s) => s.library))];
    for (const library of libraries) {
      const row: Row = {
        client: client.id,
        label: library ? `${library} (${client.label})` : client.label,
        ...(client.version ? { version: client.version } : {}),
        cells: [],
      };
      rows.push(row);
      for (const feature of features) {
        const scenario = scenarios.find((s) => s.client === client.id && s.library === library && s.feature === feature);
        const cell = await runCell(scenario, feature, { target, settings, probe, client, work });
        row.cells.push(cell);
        onCell?.(target, row, cell);
      }
    }
  }
  return {
    url: target.url,
    protocol: target.protocol,
    implicitTls: target.implicitTls,
    probe: {
      ...(probe.error ? { error: probe.error } : {}),
      ...(probe.sample ? { sample: probe.sample.name } : {}),
      ...(probe.capabilities ? { capabilities: [...probe.capabilities].sort() } : {}),
    },
    features,
    rows,
  };
}

async function runCell(
  scenario: Scenario | undefined,
  feature: Feature,
  base: { target: Target; settings: Settings; probe: Probe; client: Client; work: string },
): Promise<Cell> {
  const { client } = base;
  const cell = (status: Cell['status'], reason?: string, ms?: number): Cell => ({
    client: client.id,
    feature,
    status,
    ...(reason ? { reason } : {}),
    ...(ms !== undefined ? { ms } : {}),
  });
  if (!scenario) return cell('n/a', LACKS);
  if (client.missing || !client.bin) return cell('n/a', client.missing ?? 'not installed');
  const dir = await mkdtemp(join(base.work, `${client.id}-${feature}-`));
  const context: Context = {
    target: base.target,
    settings: base.settings,
    probe: base.probe,
    client,
    dir,
    exec: (argv, options) => exec(argv, { cwd: dir, timeoutMs: base.settings.timeoutMs, ...options, env: { HOME: dir, ...options?.env } }),
    unique: (suffix) => `gorgon-interop-${client.id}-${randomBytes(6).toString('hex')}${suffix}`,
  };
  const skip = scenario.skip?.(context);
  if (skip) return cell('n/a', skip);
  const started = Date.now();
  try {
    const failure = await scenario.run(context);
    return cell(failure ? 'fail' : 'pass', failure, Date.now() - started);
  } catch (err) {
    return cell('fail', messageOf(err), Date.now() - started);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
