import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finger } from '@gorgon/finger';
import type { SuiteStatus } from '../src/admin/source.js';

const fixture = fileURLToPath(new URL('./fixtures/cluster-source.mjs', import.meta.url));
const built = fileURLToPath(new URL('../dist/workers/primary.js', import.meta.url));

interface Answer {
  status: SuiteStatus;
  metrics: string;
  contentType: string;
  phase: string;
}

describe('createClusterSource: the primary adds up its workers', () => {
  let child: ChildProcess;
  let stderr = '';
  let nextId = 0;
  const ask = (): Promise<Answer> => {
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      const onMessage = (message: { id?: number; error?: string } & Partial<Answer>): void => {
        if (message.id !== id) return;
        child.off('message', onMessage);
        if (message.error) reject(new Error(message.error));
        else resolve(message as Answer);
      };
      child.on('message', onMessage);
      child.send({ op: 'status', id });
    });
  };

  beforeAll(async () => {
    if (!existsSync(built)) throw new Error(`${built} is missing: run 'pnpm build' first`);
    child = fork(fixture, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the cluster did not start:\n${stderr}`)), 30_000);
      child.on('message', (message: { ready?: boolean }) => {
        if (message.ready) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`the cluster exited (${code}):\n${stderr}`)));
    });
  }, 40_000);

  afterAll(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);

  it('sums the status and the metrics of two workers, each of which served connections', async () => {
    const before = await ask();
    expect(before.phase).toBe('running');
    expect(before.status.workers).toBe(2);
    expect(before.status.daemons).toHaveLength(1);
    const fingerd = before.status.daemons[0]!;
    expect(fingerd).toMatchObject({ name: 'fingerd', protocol: 'finger', total: 0 });
    const port = Number(fingerd.address.split(':').pop());

    // Round-robin: consecutive connections go to one worker, then the other.
    const queries = 6;
    for (let i = 0; i < queries; i++) expect(await finger('alice', { host: '127.0.0.1', port })).toMatch(/Alice Liddell/);

    const after = await ask();
    expect(after.status.workers).toBe(2);
    expect(after.status.daemons[0]).toMatchObject({ name: 'fingerd', total: queries });
    expect(after.status.daemons[0]!.bytesOut).toBeGreaterThan(0);
    expect(after.status.topClients).toEqual([{ address: '127.0.0.1', connections: queries }]);
    expect(after.status.pid).toBe(child.pid);

    // prom-client's cluster aggregation: the unlabelled gauge summed, the labelled one per worker.
    expect(after.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const value = (line: RegExp): number => Number(after.metrics.match(line)?.[1]);
    expect(value(/^fixture_connections_all (\d+)$/m)).toBe(queries);
    const one = value(/^fixture_connections\{worker="1"\} (\d+)$/m);
    const two = value(/^fixture_connections\{worker="2"\} (\d+)$/m);
    expect(one).toBeGreaterThan(0);
    expect(two).toBeGreaterThan(0);
    expect(one + two).toBe(queries);
  });
});
