import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `pnpm start` (issue 9.12): SIGINT or SIGTERM sent to the pnpm process alone, not to its
// process group (a process manager, `kill PID`), must stop the server gracefully. pnpm passes
// the signal to its child; a shell between pnpm and the server did not pass it on. The root's
// start script runs in a scratch package with its build step left out: a build here could
// rewrite dist/ under tests that run the CLI at the same time.

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const BUILD = 'turbo run build && ';

/** The pids of every descendant of `pid`, from /proc. */
function descendants(pid: number): Array<{ pid: number; cmdline: string }> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: Array<{ pid: number; cmdline: string }> = [];
  const walk = (p: number): void => {
    for (const child of children.get(p) ?? []) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        continue;
      }
      out.push({ pid: child, cmdline });
      walk(child);
    }
  };
  walk(pid);
  return out;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-start-'));
  const start = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  expect(start.startsWith(BUILD)).toBe(true);
  // `true` stands in for the build, keeping the script's shape (a list the shell runs).
  const script = `true && ${start.slice(BUILD.length)}`.replace('packages/cli/dist/main.js', join(repo, 'packages/cli/dist/main.js'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'gorgon-start-test', private: true, scripts: { start: script } }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe.skipIf(process.platform !== 'linux')('pnpm start', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s to the pnpm process alone shuts the demo server down gracefully',
    async (signal) => {
      const child = spawn(
        'npx',
        ['-y', 'pnpm@10.34.9', 'start', '--', '--ephemeral-ports', '--data', join(dir, signal), '--log-format', 'json'],
        {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true, // its own process group, as under a process manager: nothing else gets the signal
        },
      );
      let output = '';
      const collect = (chunk: Buffer): void => {
        output += chunk.toString();
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      try {
        await waitUntil(
          () => output.includes('"event":"ready"'),
          20_000,
          () => output,
        );
        const tree = descendants(child.pid!);
        const pnpm = tree.find((p) => p.cmdline.startsWith('node') && /pnpm/.test(p.cmdline) && /\bstart\b/.test(p.cmdline));
        const server = tree.find((p) => p.cmdline.startsWith('node') && p.cmdline.includes('main.js serve --demo'));
        expect(pnpm, JSON.stringify(tree)).toBeDefined();
        expect(server, JSON.stringify(tree)).toBeDefined();
        process.kill(pnpm!.pid, signal);
        await waitUntil(
          () => output.includes(`"event":"shutdown","signal":"${signal}"`),
          5000,
          () => output,
        );
        await waitUntil(
          () => !alive(server!.pid),
          5000,
          () => output,
        );
        await exited;
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL'); // whatever is left of the group
        } catch {
          // already gone
        }
      }
    },
    30_000,
  );
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie has ended
  } catch {
    return false;
  }
}

async function waitUntil(done: () => boolean, timeoutMs: number, show: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out:\n${show()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
