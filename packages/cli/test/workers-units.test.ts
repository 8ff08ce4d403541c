import { describe, expect, it } from 'vitest';
import type { SuiteStatus } from '../src/admin/source.js';
import { workerCount } from '../src/commands/serve.js';
import { ftpProtocol } from '../src/protocols/ftp.js';
import { nntpProtocol } from '../src/protocols/nntp.js';
import { mergeStatuses } from '../src/workers/cluster-source.js';
import { splitPortRange } from '../src/workers/port-split.js';

describe('splitPortRange', () => {
  it('gives each worker a disjoint slice, and together the whole range', () => {
    for (const [min, max, count] of [
      [50000, 50099, 2],
      [50000, 50100, 3],
      [40000, 40006, 7],
      [40000, 40010, 4],
    ] as const) {
      const seen = new Set<number>();
      for (let i = 0; i < count; i++) {
        const share = splitPortRange({ min, max }, count, i);
        expect(share.max).toBeGreaterThanOrEqual(share.min);
        for (let p = share.min; p <= share.max; p++) {
          expect(seen.has(p)).toBe(false);
          seen.add(p);
        }
      }
      expect(seen.size).toBe(max - min + 1);
      expect(Math.min(...seen)).toBe(min);
      expect(Math.max(...seen)).toBe(max);
    }
  });

  it('refuses fewer ports than workers', () => {
    expect(() => splitPortRange({ min: 50000, max: 50000 }, 2, 0)).toThrow(/1 port cannot be split between 2 workers/);
  });
});

describe('the ftp section per worker', () => {
  const section = ftpProtocol.schema.parse({ root: '/srv/ftp', pasvRange: '50000-50009' });

  it('gives worker i its share of pasvRange', () => {
    expect(ftpProtocol.forWorker!(section, { index: 0, count: 2 }).pasvRange).toBe('50000-50004');
    expect(ftpProtocol.forWorker!(section, { index: 1, count: 2 }).pasvRange).toBe('50005-50009');
  });

  it('leaves a section without a range alone (each worker binds random ports of its own)', () => {
    const plain = ftpProtocol.schema.parse({ root: '/srv/ftp' });
    expect(ftpProtocol.forWorker!(plain, { index: 1, count: 4 })).toEqual(plain);
  });

  it('says in one sentence when the range is too small', () => {
    expect(() => ftpProtocol.forWorker!(section, { index: 0, count: 11 })).toThrow(
      'ftp: pasvRange 50000-50009 has 10 ports for 11 workers; give at least one port per worker.',
    );
  });
});

describe('the nntp section per worker', () => {
  it('runs in the first worker only (one process numbers the spool)', () => {
    const section = nntpProtocol.schema.parse({ spool: '/srv/news' });
    expect(nntpProtocol.forWorker!(section, { index: 0, count: 2 }).enabled).toBe(true);
    expect(nntpProtocol.forWorker!(section, { index: 1, count: 2 }).enabled).toBe(false);
  });
});

describe('workerCount', () => {
  it('reads the flag first, then the config, else 1', () => {
    expect(workerCount(undefined, undefined)).toBe(1);
    expect(workerCount('3', 2)).toBe(3);
    expect(workerCount(undefined, 2)).toBe(2);
    expect(workerCount('auto', undefined)).toBeGreaterThanOrEqual(1);
  });

  it('refuses what is not a count', () => {
    for (const bad of ['0', '-1', 'two', '1.5', '']) expect(() => workerCount(bad, undefined)).toThrow(/--workers must be a whole number/);
  });
});

function status(over: Partial<SuiteStatus>): SuiteStatus {
  return {
    version: '0.1.0',
    pid: 1,
    startedAt: 0,
    phase: 'running',
    workers: 1,
    daemons: [],
    history: [],
    topClients: [],
    recentErrors: [],
    process: { rssBytes: 100, heapUsedBytes: 10, cpuSeconds: 1, eventLoopLagSeconds: 0.001 },
    ...over,
  };
}

describe('mergeStatuses', () => {
  const daemon = { protocol: 'pop3', address: '127.0.0.1:1110', rejected: 0, bytesIn: 10, bytesOut: 20, errors: 0 };
  const a = status({
    pid: 11,
    daemons: [{ name: 'pop3d', connections: 2, total: 5, ...daemon }],
    history: [
      { t: 10_000, connections: { pop3d: 1 } },
      { t: 15_000, connections: { pop3d: 2 } },
      { t: 20_000, connections: { pop3d: 2 } },
    ],
    topClients: [
      { address: '10.0.0.1', connections: 3 },
      { address: '10.0.0.2', connections: 2 },
    ],
    recentErrors: [
      { t: 300, kind: 'tls', message: 'a2' },
      { t: 100, kind: 'tls', message: 'a1' },
    ],
    process: { rssBytes: 100, heapUsedBytes: 10, cpuSeconds: 1, eventLoopLagSeconds: 0.002 },
  });
  const b = status({
    pid: 12,
    daemons: [
      { name: 'pop3d', connections: 1, total: 4, ...daemon },
      { name: 'ftpd', connections: 1, total: 1, ...daemon, protocol: 'ftp' },
    ],
    history: [
      { t: 11_000, connections: { pop3d: 5, ftpd: 1 } },
      { t: 16_000, connections: { pop3d: 1 } },
      { t: 21_000, connections: { pop3d: 0 } },
    ],
    topClients: [
      { address: '10.0.0.2', connections: 4 },
      { address: '10.0.0.3', connections: 1 },
    ],
    recentErrors: [{ t: 200, kind: 'line', message: 'b1' }],
    process: { rssBytes: 200, heapUsedBytes: 20, cpuSeconds: 2, eventLoopLagSeconds: 0.005 },
  });
  const merged = mergeStatuses([a, b], {
    pid: 10,
    startedAt: 5,
    phase: 'running',
    process: { rssBytes: 1, heapUsedBytes: 1, cpuSeconds: 0.5 },
  });

  it('sums daemons by name and counts the workers that answered', () => {
    expect(merged.workers).toBe(2);
    expect(merged.pid).toBe(10);
    expect(merged.daemons.find((d) => d.name === 'pop3d')).toMatchObject({ connections: 3, total: 9, bytesIn: 20, bytesOut: 40 });
    expect(merged.daemons.find((d) => d.name === 'ftpd')).toMatchObject({ connections: 1, total: 1 });
  });

  it('lines history up by time bucket (the sampling interval), one sample per worker per bucket', () => {
    expect(merged.history).toEqual([
      { t: 10_000, connections: { pop3d: 6, ftpd: 1 } },
      { t: 15_000, connections: { pop3d: 3 } },
      { t: 20_000, connections: { pop3d: 2 } },
    ]);
  });

  it('merges top clients by address and recent errors newest first', () => {
    expect(merged.topClients).toEqual([
      { address: '10.0.0.2', connections: 6 },
      { address: '10.0.0.1', connections: 3 },
    ]);
    expect(merged.recentErrors.map((e) => e.message)).toEqual(['a2', 'b1']);
  });

  it('adds process figures up (the primary too), keeping the worst event-loop lag', () => {
    expect(merged.process).toEqual({ rssBytes: 301, heapUsedBytes: 31, cpuSeconds: 3.5, eventLoopLagSeconds: 0.005 });
  });

  it('is an empty view when no worker answers', () => {
    const none = mergeStatuses([], { pid: 10, startedAt: 5, phase: 'draining' });
    expect(none).toMatchObject({ workers: 0, daemons: [], history: [], phase: 'draining' });
  });
});
