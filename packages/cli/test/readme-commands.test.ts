import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { commands } from '../src/commands/index.js';

// The CLI README's table lists every command the CLI has, so a new command cannot go unlisted.
it('the CLI README lists every command', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const names = commands.map((c) => String(c.command).split(' ')[0]);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(readme, name).toMatch(new RegExp(`^\\| \`gorgon ${name}[ \`]`, 'm'));
});
