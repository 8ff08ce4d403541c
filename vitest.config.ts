import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

// Tests import @gorgon/* from src, so no build step is needed to run them.
const alias = [
  { find: /^@gorgon\/core\/demo-certificate$/, replacement: src('core/src/demo-certificate.ts') },
  { find: /^@gorgon\/([a-z0-9-]+)\/testing$/, replacement: src('$1/src/testing/index.ts') },
  { find: /^@gorgon\/([a-z0-9-]+)\/(server|client)$/, replacement: src('$1/src/exports/$2.ts') },
  { find: /^@gorgon\/([a-z0-9-]+)$/, replacement: src('$1/src/index.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        resolve: { alias },
        test: { name: 'interop', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
