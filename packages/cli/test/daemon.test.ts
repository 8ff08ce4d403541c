import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finger } from '@gorgon/finger';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Starts the built CLI and waits until its log says every daemon is up. */
function start(args: string[], cwd: string): Promise<{ child: ChildProcess; log: () => string; ports: Map<string, number> }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  const child = spawn(process.execPath, [main, ...args, '--log-format', 'json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const ports = new Map<string, number>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up within 15 s:\n${stderr}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        const record = JSON.parse(line) as { event?: string; daemon?: string; address?: string };
        if (record.event === 'started' && record.daemon && record.address) {
          ports.set(record.daemon, Number(record.address.split(':').pop()));
        }
        if (record.event === 'started' && record.daemon === 'fingerd') {
          clearTimeout(timer);
          resolve({ child, log: () => stderr, ports });
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code} before starting:\n${stderr}`)));
  });
}

function exit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}

describe('gorgon daemons (built CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-daemon-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('serve --demo writes demo data, answers finger, and stops cleanly on SIGTERM', async () => {
    const { child, log, ports } = await start(['serve', '--demo', '--ephemeral-ports', '--data', join(dir, 'demo')], dir);
    try {
      expect(existsSync(join(dir, 'demo', 'finger', 'users.json'))).toBe(true);
      const port = ports.get('fingerd')!;
      const text = await finger('alice', { host: '127.0.0.1', port, verbose: true });
      expect(text).toMatch(/Alice Liddell/);
      expect(text).toMatch(/Tea at four/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit(child)).toBe(0);
    expect(log()).toMatch(/"event":"shutdown"/);
  });

  it('fingerd serves a users file on the port given', async () => {
    // Reuse the demo users file written by the first test.
    const users = join(dir, 'demo', 'finger', 'users.json');
    const { child, ports } = await start(['fingerd', '--users', users, '--port', '0'], dir);
    try {
      const text = await finger('', { host: '127.0.0.1', port: ports.get('fingerd')! });
      expect(text).toMatch(/alice/);
      expect(text).toMatch(/hatter/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exit(child)).toBe(0);
  });
});
