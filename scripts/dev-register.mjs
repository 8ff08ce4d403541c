// `pnpm dev <gorgon command…>`: runs the CLI from its TypeScript sources, no build needed.
// Loaded with `node --conditions=gorgon-source --import`, so @gorgon/* resolve to their src/
// through the "gorgon-source" export condition, and ts-node's ESM loader transpiles each file
// (transpile-only: no type check; `pnpm typecheck` does that) with the repository's TypeScript.
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

process.env.TS_NODE_TRANSPILE_ONLY = 'true';
process.env.TS_NODE_PROJECT = fileURLToPath(new URL('../packages/cli/tsconfig.json', import.meta.url));
// pnpm runs scripts from the repository root; relative paths given on the command line
// (--config ./gorgon.yaml, --root ./files) mean the directory pnpm was started in.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
register('ts-node/esm', import.meta.url);
