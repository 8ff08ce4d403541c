/**
 * Helpers of the pack-and-embed test: code blocks read out of the docs (so the guide and the
 * test cannot drift), a user-like environment for npm, and processes started and stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter } from 'node:path';

/** A fenced code block: its info string split into the language and its `key=value`/`test:` tags. */
export interface DocBlock {
  lang: string;
  tags: string[];
  body: string;
}

/** Every fenced block of a Markdown text, in order. */
export function docBlocks(markdown: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const fence = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const m of markdown.matchAll(fence)) {
    const [lang = '', ...tags] = (m[1] ?? '').trim().split(/\s+/);
    blocks.push({ lang, tags, body: m[2] ?? '' });
  }
  return blocks;
}

/** The one block carrying `tag` (`test:setup`, `file=src/pop3.ts`); throws when there is not exactly one. */
export function docBlock(markdown: string, tag: string): DocBlock {
  const found = docBlocks(markdown).filter((b) => b.tags.includes(tag));
  if (found.length !== 1) throw new Error(`expected one code block tagged ${tag}, found ${found.length}`);
  return found[0]!;
}

/** The `file=PATH` blocks of a doc: what a reader saves, by path. */
export function docFiles(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const b of docBlocks(markdown)) {
    const tag = b.tags.find((t) => t.startsWith('file='));
    if (tag) files.set(tag.slice('file='.length), b.body);
  }
  return files;
}

/** A shell block with its `GORGON=…` line pointing at `gorgonDir` instead of the reader's clone. */
export function withGorgonDir(script: string, gorgonDir: string): string {
  if (!/^GORGON=.*$/m.test(script)) throw new Error('the shell block sets no GORGON=');
  return script.replace(/^GORGON=.*$/m, `GORGON='${gorgonDir}'`);
}

/**
 * The environment of a user's fresh shell: no npm_/pnpm_ variables inherited from the pnpm run
 * that started the tests, no workspace node_modules/.bin on PATH, npm quiet and without audit.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|INIT_CWD$|NODE_OPTIONS$|VITEST|TS_NODE_)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter);
  return {
    ...env,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
    ...extra,
  };
}

/** Runs a command to its end; rejects with its output when it fails. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${out}`));
    });
    if (child.stdin) {
      // A program that exits without reading its input must not fail the test with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** A started program and what it printed so far. */
export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a program and resolves once its output matches `ready` (with the match). */
export function start(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number },
): Promise<{ started: Started; match: RegExpMatchArray }> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const started: Started = { child, output: () => out, exited };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not print ${options.ready} in time:\n${out}`));
    }, options.timeoutMs ?? 30_000);
    const check = (d: Buffer): void => {
      out += d.toString();
      const match = out.match(options.ready);
      if (match) {
        clearTimeout(timer);
        resolve({ started, match });
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
}

/** SIGTERM, then the exit status; SIGKILL (and a rejection) when it does not exit within `ms`. */
export async function stop(started: Started, ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return started.exited;
  started.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      started.child.kill('SIGKILL');
      reject(new Error(`did not exit within ${ms} ms of SIGTERM:\n${started.output()}`));
    }, ms);
  });
  try {
    return await Promise.race([started.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
