import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The helper threads' module loads wherever the package runs from: the built dist/ (as
// installed), and src/ through `pnpm dev`'s ts-node loader. (Under vitest, from src/:
// lister-threads.test.ts.) The pack test runs the same child in an app that installed the tarball.
const pkg = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/lister-child.mjs', import.meta.url));
const devRegister = fileURLToPath(new URL('../../../scripts/dev-register.mjs', import.meta.url));

interface Seen {
  from: string;
  listed: number;
  sizes: boolean;
  made: number;
  answers: number;
  exited: number;
  errors: string[];
  listenersAdded: boolean;
}

async function run(nodeArgs: string[], arg?: string): Promise<Seen> {
  const env = { ...process.env };
  delete env.INIT_CWD; // dev-register.mjs would chdir to where pnpm was started
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, child, ...(arg ? [arg] : [])], {
    cwd: pkg,
    env,
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Seen;
}

function expectListedByThreads(seen: Seen): void {
  expect(seen).toMatchObject({ listed: 600, sizes: true, errors: [], listenersAdded: false });
  expect(seen.made).toBeGreaterThan(0);
  expect(seen.answers).toBeGreaterThan(0); // the threads answered: no thread-pool fallback
}

describe('the directory-listing worker is a real module (issue 10)', () => {
  it('works from the built dist/; close() ends the threads', async () => {
    if (!existsSync(`${pkg}/dist/fs-disk-lister-worker.mjs`)) throw new Error(`${pkg}dist is missing or old: run 'pnpm build' first`);
    const seen = await run([]);
    expect(seen.from).toMatch(/\/dist\/index\.js$/);
    expectListedByThreads(seen);
    expect(seen.exited).toBe(seen.made);
  });

  it('from dist/, threads left running do not keep the process alive', async () => {
    const seen = await run([], 'keep');
    expectListedByThreads(seen);
    expect(seen.exited).toBe(0);
  });

  it('works from src/ under pnpm dev (ts-node)', async () => {
    const seen = await run(['--conditions=gorgon-source', '--import', devRegister]);
    expect(seen.from).toMatch(/\/src\/index\.ts$/);
    expectListedByThreads(seen);
    expect(seen.exited).toBe(seen.made);
  });
});
