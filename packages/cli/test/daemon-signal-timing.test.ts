import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = process.env.GORGON_CLI_MAIN ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * Starts fingerd and sends SIGTERM the moment a log line with `event` appears (in the same
 * stderr callback, so no time passes): the daemon must shut down gracefully and exit 0.
 */
function termAt(event: string, cwd: string, users: string): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  const child = spawn(process.execPath, [main, 'fingerd', '--users', users, '--port', '0', '--log-format', 'json'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let sent = false;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!sent && stderr.includes(`"event":"${event}"`)) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

describe('SIGTERM at the edges of start-up', () => {
  let dir: string;
  let users: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-sigtiming-'));
    users = join(dir, 'users.json');
    await writeFile(users, JSON.stringify({ users: [{ login: 'alice', name: 'Alice' }] }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Before the fix, ready was logged before the SIGINT/SIGTERM handlers existed, so a signal
  // sent at once found Node's default action and the process died by the signal.
  it.each(['ready', 'started'])(
    'a SIGTERM sent as "%s" is logged shuts down gracefully (exit 0)',
    async (event) => {
      for (let i = 0; i < 3; i++) {
        const { code, signal, stderr } = await termAt(event, dir, users);
        expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
        expect(stderr).toContain('"event":"shutdown"');
      }
    },
    30_000,
  );
});
