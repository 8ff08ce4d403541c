import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpawnedDaemon } from './spawn-cli.js';

// Signals around the daemons' life (issue 13): SIGHUP during start-up, finger's SIGHUP,
// SIGUSR1 with and without --log-file.

const main = process.env.GORGON_CLI_MAIN ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-signals-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** One finger query: the whole answer. */
function finger(port: number, query: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${query}\r\n`));
    let text = '';
    socket.on('data', (b: Buffer) => (text += b.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

async function writeFingerUsers(name: string): Promise<void> {
  await writeFile(join(dir, 'finger.json'), JSON.stringify({ users: [{ login: 'ann', name }] }));
}

describe('signals (built CLI)', () => {
  it('a SIGHUP during start-up (demo data and certificate being made) does not kill: it is applied once running', async () => {
    // Before the fix, SIGHUP before runDaemons found Node's default action and the process died.
    const daemon = new SpawnedDaemon(['serve', '--demo', '--ephemeral-ports', '--data', join(dir, 'demo')], dir);
    let sent = false;
    daemon.child.stderr!.on('data', () => {
      if (!sent) {
        sent = true;
        daemon.child.kill('SIGHUP'); // at the first log line: the daemons are still being built
      }
    });
    try {
      const ready = await daemon.waitFor((r) => r.event === 'ready');
      const readyAt = daemon.records.indexOf(ready);
      expect(sent).toBe(true);
      const reload = await daemon.waitFor((r) => r.event === 'reload', readyAt);
      expect(reload.msg).toMatch(/^SIGHUP: reloaded finger users file/);
      expect(daemon.alive).toBe(true);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);

  it('fingerd: after SIGHUP the next query sees the users file at once (no 1 s cache), and SIGUSR1 without a log file is harmless', async () => {
    await writeFingerUsers('Ann Before');
    const daemon = new SpawnedDaemon(['fingerd', '--users', 'finger.json', '--port', '0'], dir);
    try {
      const port = await daemon.started('fingerd');
      expect(await finger(port, 'ann')).toMatch(/Ann Before/);
      await writeFingerUsers('Ann After!');
      let mark = daemon.records.length;
      daemon.child.kill('SIGHUP');
      expect((await daemon.waitFor((r) => r.event === 'reload', mark)).msg).toMatch(/finger users file .*finger\.json \(1 user\)/);
      expect(await finger(port, 'ann')).toMatch(/Ann After!/);

      mark = daemon.records.length;
      daemon.child.kill('SIGUSR1');
      const usr1 = await daemon.waitFor((r) => r.event === 'log-reopened', mark);
      expect(usr1.msg).toBe('SIGUSR1: no log file to reopen (logs go to stderr)');
      expect(daemon.alive).toBe(true);
      expect(await finger(port, 'ann')).toMatch(/Ann After!/);
    } finally {
      await daemon.stop();
    }
    expect(daemon.child.exitCode).toBe(0);
  }, 60_000);

  it('--log-file: appends there; after a rename and SIGUSR1 new lines land in the new file, none lost', async () => {
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
    await writeFingerUsers('Ann');
    const log = join(dir, 'gorgon.log');
    const rotated = join(dir, 'gorgon.log.1');
    await writeFile(log, '{"msg":"a line from before"}\n');
    const child = spawn(
      process.execPath,
      [main, 'fingerd', '--users', 'finger.json', '--port', '0', '--log-format', 'json', '--log-file', log],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines = async (path: string): Promise<Array<Record<string, unknown>>> =>
      (await readFile(path, 'utf8').catch(() => ''))
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const waitFor = async (path: string, match: (r: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = (await lines(path)).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no such line in ${path}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      const started = await waitFor(log, (r) => r.event === 'started');
      const port = Number(String(started.address).split(':').pop());
      // A client queries all along; each query is one log line naming it.
      let n = 0; // queries answered
      let stop = false;
      const client = (async () => {
        while (!stop) {
          await finger(port, `q${n}`);
          n++;
        }
      })();
      while (n < 5) await new Promise((r) => setTimeout(r, 5));
      await rename(log, rotated);
      while (n < 10) await new Promise((r) => setTimeout(r, 5)); // these still go to the renamed file
      child.kill('SIGUSR1');
      await waitFor(log, (r) => r.event === 'log-reopened');
      const after = n;
      while (n < after + 5) await new Promise((r) => setTimeout(r, 5));
      stop = true;
      await client;
      child.kill('SIGTERM');
      expect(await exited).toBe(0);

      const old = await lines(rotated);
      const fresh = await lines(log);
      expect(old[0]!.msg).toBe('a line from before'); // appended, not truncated
      expect(stderr).toBe('');
      const reopened = fresh.find((r) => r.event === 'log-reopened')!;
      expect(reopened.msg).toBe(`SIGUSR1: reopened ${log}`);
      expect(fresh.some((r) => r.event === 'shutdown')).toBe(true);
      const queries = [...old, ...fresh].filter((r) => r.event === 'query').map((r) => String(r.query));
      // Every query logged exactly once, across the two files.
      expect(queries.sort()).toEqual(Array.from({ length: n }, (_, i) => `q${i}`).sort());
      expect(old.filter((r) => r.event === 'query').length).toBeGreaterThanOrEqual(10);
      expect(fresh.filter((r) => r.event === 'query').length).toBeGreaterThanOrEqual(5);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
