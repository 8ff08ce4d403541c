import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Runs small server scripts in a child process against the core's *source*, for what cannot
 * be measured in the test's own process: a lowered descriptor limit (`prlimit`), or resident
 * memory. The core's files are transpiled (types stripped, nothing checked) into a temporary
 * directory once per test file; the core imports only Node built-ins, so they run from there.
 */
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

export interface ChildCore extends AsyncDisposable {
  /** The transpiled core's index.js, for `import` in a child script. */
  readonly index: string;
  readonly dir: string;
  /** Writes `source` (ESM JavaScript) as a script in the directory; returns its path. */
  script(name: string, source: string): Promise<string>;
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await tsFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Transpiles packages/core/src into a fresh temporary directory. */
export async function childCore(): Promise<ChildCore> {
  const dir = await mkdtemp(join(tmpdir(), 'gorgon-child-core-'));
  const out = join(dir, 'core');
  for (const file of await tsFiles(SRC)) {
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, lib: ['esnext'] },
      fileName: file,
    });
    const target = join(out, relative(SRC, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  return {
    index: join(out, 'index.js'),
    dir,
    async script(name, source) {
      const path = join(dir, name);
      await writeFile(path, source);
      return path;
    },
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A child process's output as lines, with a way to wait for one. */
export interface ChildLines {
  readonly lines: string[];
  /** Resolves with the first line (seen so far or later) that `match` accepts. */
  waitFor(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
}

/** Collects `child`'s stdout as lines. */
export function childLines(child: ChildProcess): ChildLines {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let tail = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    const parts = (tail + text).split('\n');
    tail = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  return {
    lines,
    waitFor(match, what, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = lines.find(match);
          if (found === undefined) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}; child said:\n${lines.join('\n')}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        const wake = (): void => void check();
        if (!check()) waiters.add(wake);
      });
    },
  };
}

/** Spawns `node script` (under `prefix`, e.g. prlimit) with its stdout collected as lines. */
export function spawnNode(
  script: string,
  prefix: string[] = [],
  args: string[] = [],
  env: Record<string, string> = {},
): { child: ChildProcess; out: ChildLines; exited: Promise<number | null> } {
  const command = prefix.length > 0 ? prefix[0]! : process.execPath;
  const argv = prefix.length > 0 ? [...prefix.slice(1), process.execPath, script, ...args] : [script, ...args];
  const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: childLines(child), exited };
}
