import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { protocols } from '../src/protocols/index.js';

// gorgon.example.yaml shows every protocol's section, and every key it shows commented out is
// a real key with a valid value: uncommented, the file still passes the strict schema.
const example = fileURLToPath(new URL('../../../gorgon.example.yaml', import.meta.url));
let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('gorgon.example.yaml has a section for every protocol and validates', async () => {
  const config = await loadConfig(example);
  expect([...config.sections.keys()].sort()).toEqual(protocols.map((p) => p.key).sort());
  expect(config.log).toEqual({ format: 'pretty', level: 'info' });
});

it('every key it shows commented out is valid once uncommented', async () => {
  const text = await readFile(example, 'utf8');
  const uncommented = text.replace(/^(\s*)# ( *)([a-zA-Z]+):(.*)$/gm, '$1$2$3:$4');
  expect(uncommented).not.toBe(text);
  dir = await mkdtemp(join(tmpdir(), 'gorgon-example-config-'));
  const path = join(dir, 'gorgon.yaml');
  await writeFile(path, uncommented);
  const config = await loadConfig(path);
  expect(config.runAs).toEqual({ user: 'gorgon', group: 'gorgon' });
  for (const p of protocols) expect(config.sections.has(p.key)).toBe(true);
});
