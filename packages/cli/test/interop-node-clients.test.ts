/**
 * `gorgon interop`'s npm client libraries (basic-ftp, node-pop3) are found where Node would
 * find them: from the working directory first, then from the CLI's own location; the version is
 * that of the package the entry file belongs to. Fake packages in temporary directories.
 */
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_IDS, findNodeLibrary } from '../src/interop/clients.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-interop-libs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fake node-pop3 shaped like the real one: an exports map without package.json, a nested package.json in lib/. */
async function fakeNodePop3(root: string, version: string): Promise<string> {
  const pkg = join(root, 'node_modules/node-pop3');
  await mkdir(join(pkg, 'lib'), { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'node-pop3', version, type: 'module', exports: { import: './src/Command.js', require: './lib/Command.cjs' } }),
  );
  await writeFile(join(pkg, 'lib/package.json'), JSON.stringify({ type: 'commonjs' }));
  await writeFile(join(pkg, 'lib/Command.cjs'), 'module.exports = class Pop3Command {};\n');
  return realpath(join(pkg, 'lib/Command.cjs'));
}

describe('findNodeLibrary', () => {
  it('takes the working directory before the CLI location, and reads the version of the package named (past a nested package.json)', async () => {
    const cwd = join(dir, 'project');
    const entry = await fakeNodePop3(cwd, '9.8.7-fake');
    const cliLocation = join(dir, 'elsewhere/cli.js');
    const other = await fakeNodePop3(join(dir, 'elsewhere'), '1.0.0-other');
    expect(findNodeLibrary('node-pop3', [join(cwd, 'noop.js'), cliLocation])).toEqual({
      id: 'node-pop3',
      label: 'node-pop3',
      bin: entry,
      version: '9.8.7-fake',
    });
    // Not in the working directory: the CLI location's.
    expect(findNodeLibrary('node-pop3', [join(dir, 'noop.js'), cliLocation])).toMatchObject({ bin: other, version: '1.0.0-other' });
  });

  it('is missing, with how to install it, when neither place has it', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    expect(findNodeLibrary('basic-ftp', [join(empty, 'noop.js')])).toEqual({
      id: 'basic-ftp',
      label: 'basic-ftp',
      missing: 'basic-ftp is not installed (npm i basic-ftp where gorgon interop runs)',
    });
  });

  it('finds the repository pins by default, and --clients takes their ids', async () => {
    const pinned = (
      JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> }
    ).devDependencies;
    for (const name of ['basic-ftp', 'node-pop3']) {
      const client = findNodeLibrary(name);
      expect(client.missing).toBeUndefined();
      expect(client.version).toBe(pinned[name]);
      expect(CLIENT_IDS).toContain(name);
    }
  });
});
