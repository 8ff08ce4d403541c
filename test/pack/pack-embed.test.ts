/**
 * Packages a user can install (issue 10): every package is packed with `pnpm pack`, installed
 * with plain npm into a scratch app outside the workspace by following docs/embedding.md, the
 * guide's examples are compiled with `tsc --init` settings and run, and stock clients (curl,
 * Python's poplib, a TCP client for finger) talk to them. The CLI is installed globally from
 * its tarballs into a temporary prefix, as its README says. Needs the built dist/ (`pnpm test`
 * builds first) and the npm registry for the packages' third-party dependencies.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docBlock, docFiles, run, start, stop, userEnv, withGorgonDir, type Started } from './doc-blocks.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const PNPM = ['-y', 'pnpm@10.34.9'];
const PACKAGES = ['core', 'finger', 'pop3', 'ftp', 'http', 'cli'];
const MINUTES = 60_000;

let scratch = '';
let gorgonDir = '';
let appDir = '';
let initTsconfig = '';
const servers: Started[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gorgon-pack-'));
  gorgonDir = join(scratch, 'gorgon');
  await mkdir(join(gorgonDir, 'tarballs'), { recursive: true });
  // What `pnpm pack:all` does after its build (pnpm test built dist/ already), into the scratch
  // directory instead of the repository's tarballs/.
  await run('npx', [...PNPM, '-r', '--filter', './packages/*', 'pack', '--pack-destination', join(gorgonDir, 'tarballs')], { cwd: repo });
}, 3 * MINUTES);

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => stop(s, 3000)));
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function tarball(name: string): Promise<{ files: string[]; manifest: Record<string, unknown> }> {
  const version = JSON.parse(await readFile(join(repo, 'packages', name, 'package.json'), 'utf8')).version as string;
  const file = join(gorgonDir, 'tarballs', `gorgon-${name}-${version}.tgz`);
  const files = (await run('tar', ['tzf', file], { cwd: scratch })).split('\n').filter(Boolean);
  const manifest = JSON.parse(await run('tar', ['xzf', file, '-O', 'package/package.json'], { cwd: scratch })) as Record<string, unknown>;
  return { files, manifest };
}

describe.each(PACKAGES)('the @gorgon/%s tarball', (name) => {
  it('has its README, dist and types, and no build cache or tests', async () => {
    const { files, manifest } = await tarball(name);
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/package.json');
    expect(files.filter((f) => /tsbuildinfo|\.turbo|node_modules|(^|\/)test\/|\.test\.[jt]s/.test(f))).toEqual([]);
    const exportsMap = manifest.exports as Record<string, Record<string, string>>;
    for (const [subpath, conditions] of Object.entries(exportsMap)) {
      for (const condition of ['types', 'import']) {
        expect(files, `${subpath} ${condition}`).toContain(`package/${conditions[condition]!.slice(2)}`);
      }
    }
    expect(files).toContain(`package/${(manifest.types as string).slice(2)}`);
  });

  it('names plain versions, not workspace:, and says license, engines and ESM', async () => {
    const { manifest } = await tarball(name);
    expect(JSON.stringify(manifest)).not.toContain('workspace:');
    expect(manifest.type).toBe('module');
    expect(manifest.license).toBe('MIT');
    expect((manifest.engines as { node?: string }).node).toBe('>=20.19');
    // What the embedding guide promises: a protocol package brings only @gorgon/core along, and
    // the field libraries of DESIGN.md's table (HTTP: mime-types), never another protocol.
    const fieldLibraries: Record<string, string[]> = { http: ['mime-types'] };
    if (name !== 'cli' && name !== 'core')
      expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['@gorgon/core', ...(fieldLibraries[name] ?? [])].sort());
  });
});

it("@gorgon/core has no dependency; the demo certificate's selfsigned is an optional peer", async () => {
  const { manifest } = await tarball('core');
  expect(manifest.dependencies ?? {}).toEqual({});
  expect(manifest.peerDependenciesMeta).toEqual({ selfsigned: { optional: true } });
});

describe('docs/embedding.md followed in a scratch app outside the workspace', () => {
  let doc = '';

  beforeAll(async () => {
    doc = await readFile(join(repo, 'docs/embedding.md'), 'utf8');
    const setup = withGorgonDir(docBlock(doc, 'test:setup').body, gorgonDir);
    await run('bash', ['-euo', 'pipefail', '-c', setup], { cwd: scratch, env: userEnv() });
    appDir = join(scratch, 'my-servers');
    initTsconfig = await readFile(join(appDir, 'tsconfig.json'), 'utf8');
    for (const [path, text] of docFiles(doc)) {
      await mkdir(dirname(join(appDir, path)), { recursive: true });
      await writeFile(join(appDir, path), text);
    }
    await run('bash', ['-euo', 'pipefail', '-c', docBlock(doc, 'test:build').body], { cwd: appDir, env: userEnv() });
  }, 4 * MINUTES);

  it("the guide's tsconfig.json is tsc --init's with the four lines it says changed", () => {
    const parse = (text: string): Record<string, unknown> => {
      const parsed = ts.parseConfigFileTextToJson('tsconfig.json', text);
      if (parsed.error) throw new Error(ts.flattenDiagnosticMessageText(parsed.error.messageText, '\n'));
      return (parsed.config as { compilerOptions: Record<string, unknown> }).compilerOptions;
    };
    const expected = { ...parse(initTsconfig), rootDir: './src', outDir: './dist', lib: ['esnext'], types: ['node'] };
    expect(parse(docFiles(doc).get('tsconfig.json')!)).toEqual(expected);
  });

  it('every subpath export of the installed packages resolves, with its types, under those settings', async () => {
    const specifiers: string[] = [];
    for (const name of ['core', 'finger', 'pop3', 'ftp']) {
      const manifest = JSON.parse(await readFile(join(appDir, 'node_modules/@gorgon', name, 'package.json'), 'utf8'));
      for (const subpath of Object.keys(manifest.exports as object)) specifiers.push(`@gorgon/${name}${subpath.slice(1)}`);
    }
    expect(specifiers).toContain('@gorgon/core/demo-certificate');
    const lines = specifiers.map((s, i) => `import * as m${i} from '${s}';`);
    lines.push(`export const modules = [${specifiers.map((_, i) => `m${i}`).join(', ')}];`);
    lines.push(`for (const m of modules) if (Object.keys(m).length === 0) throw new Error('an empty entry point');`);
    await writeFile(join(appDir, 'src/subpaths.ts'), `${lines.join('\n')}\n`);
    await run('npx', ['tsc'], { cwd: appDir, env: userEnv() });
    await run('node', ['dist/subpaths.js'], { cwd: appDir, env: userEnv() });
  });

  it('finger: a TCP client gets the user and the list', async () => {
    const { started, match } = await start('node', ['dist/finger.js'], {
      cwd: appDir,
      env: userEnv({ PORT: '0' }),
      ready: /finger listening on 127\.0\.0\.1:(\d+)/,
    });
    servers.push(started);
    const port = Number(match[1]);
    const alice = await fingerQuery(port, 'alice\r\n');
    expect(alice).toContain('Alice Liddell');
    expect(alice).toContain('Tea at four.');
    const everyone = await fingerQuery(port, '\r\n');
    expect(everyone).toContain('alice');
    expect(everyone).toContain('bob');
    expect(await stop(started)).toEqual({ code: 0, signal: null });
    expect(started.output()).toContain('finger closed');
  });

  it("pop3: Python's poplib lists, reads and deletes through the custom store", async () => {
    const { started, match } = await start('node', ['dist/pop3.js'], {
      cwd: appDir,
      env: userEnv({ PORT: '0' }),
      ready: /pop3 listening on 127\.0\.0\.1:(\d+)/,
    });
    servers.push(started);
    const port = String(match[1]);
    const first = JSON.parse(await run('python3', ['-c', POPLIB, port, 'delete-first'], { cwd: appDir }));
    expect(first.stat[0]).toBe(2);
    expect(first.uidl).toEqual(['1 welcome-1', '2 welcome-2']);
    expect(first.message).toContain('I am late.');
    // Every octet LIST announced is what RETR sent (RFC 1939 §11's exact sizes).
    expect(first.listed).toBe(first.retrieved);
    const second = JSON.parse(await run('python3', ['-c', POPLIB, port, 'look'], { cwd: appDir }));
    expect(second.uidl).toEqual(['1 welcome-2']);
    expect(await stop(started)).toEqual({ code: 0, signal: null });
  });

  it("pop3: the guide's custom store passes the maildrop contract suite of the installed @gorgon/pop3/testing", async () => {
    const out = await run('node', ['dist/check-store.js'], { cwd: appDir, env: userEnv() });
    const lines = out.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('ok   '))).toEqual([]);
    expect(lines).toContain('ok   holds an exclusive lock until release or commit');
    expect(lines.length).toBeGreaterThanOrEqual(7);
  });

  it('ftp: curl lists, downloads and uploads through the custom filesystem', async () => {
    const { started, match } = await start('node', ['dist/ftp.js'], {
      cwd: appDir,
      env: userEnv({ PORT: '0' }),
      ready: /ftp listening on 127\.0\.0\.1:(\d+)/,
    });
    servers.push(started);
    const url = `ftp://127.0.0.1:${match[1]}/`;
    const curl = (...args: string[]): Promise<string> => run('curl', ['-sS', '--max-time', '20', ...args], { cwd: appDir });
    expect((await curl('--list-only', url)).split(/\r?\n/).filter(Boolean)).toEqual(['readme.txt']);
    expect(await curl(`${url}readme.txt`)).toBe('Files served from your own store.\r\n');
    const upload = join(scratch, 'upload.bin');
    const bytes = Buffer.alloc(300_000, 'gorgon ');
    await writeFile(upload, bytes);
    await curl('-u', 'alice:wonderland', '-T', upload, `${url}upload.bin`);
    expect(await curl('-u', 'alice:wonderland', `${url}upload.bin`)).toBe(bytes.toString());
    await expect(curl('-T', upload, `${url}anonymous.bin`)).rejects.toThrow(/550|553|denied|access/i);
    expect(await stop(started)).toEqual({ code: 0, signal: null });
  });

  it("ftp: a large listing runs on the installed package's helper-thread module, ended by close()", async () => {
    // The child of packages/ftp/test/lister-child.test.ts: 600 entries through DiskFs, each thread recorded.
    await copyFile(join(repo, 'packages/ftp/test/fixtures/lister-child.mjs'), join(appDir, 'lister-child.mjs'));
    const seen = JSON.parse((await run('node', ['lister-child.mjs'], { cwd: appDir, env: userEnv() })).trim().split('\n').at(-1)!);
    expect(seen).toMatchObject({ listed: 600, sizes: true, errors: [], listenersAdded: false });
    expect(seen.from).toMatch(/\/node_modules\/@gorgon\/ftp\/dist\/index\.js$/);
    expect(seen.answers).toBeGreaterThan(0); // the threads answered: no thread-pool fallback
    expect(seen.exited).toBe(seen.made);
  });
});

it(
  'the packages install from a path too (links into the built clone), the CLI globally as well',
  async () => {
    const app = join(scratch, 'from-path');
    await mkdir(app);
    const dirs = ['core', 'finger', 'pop3', 'ftp'].map((name) => join(repo, 'packages', name));
    await run('bash', ['-euo', 'pipefail', '-c', `npm init -y && npm pkg set type=module && npm install ${dirs.join(' ')}`], {
      cwd: app,
      env: userEnv(),
    });
    const script =
      "for (const p of ['core', 'finger', 'pop3', 'ftp']) await import('@gorgon/' + p); const { createPop3Server } = await import('@gorgon/pop3'); console.log(typeof createPop3Server);";
    expect((await run('node', ['--input-type=module', '-e', script], { cwd: app, env: userEnv() })).trim()).toBe('function');
    const prefix = join(scratch, 'global-link');
    await run('npm', ['install', '-g', join(repo, 'packages/cli')], { cwd: scratch, env: userEnv({ npm_config_prefix: prefix }) });
    expect((await run(join(prefix, 'bin/gorgon'), ['--version'], { cwd: scratch, env: userEnv() })).trim()).toMatch(/^\d+\.\d+\.\d+$/);
  },
  2 * MINUTES,
);

describe('the gorgon command', () => {
  it(
    'installs globally from its tarballs as the CLI README says, with gorgon on PATH',
    async () => {
      const readme = await readFile(join(repo, 'packages/cli/README.md'), 'utf8');
      const prefix = join(scratch, 'global');
      const env = userEnv({ npm_config_prefix: prefix });
      env.PATH = `${join(prefix, 'bin')}:${env.PATH}`;
      const out = await run('bash', ['-euo', 'pipefail', '-c', withGorgonDir(docBlock(readme, 'test:install-global').body, gorgonDir)], {
        cwd: scratch,
        env,
      });
      const version = JSON.parse(await readFile(join(repo, 'packages/cli/package.json'), 'utf8')).version as string;
      expect(out.trim().split('\n').at(-1)).toBe(version);
      // The installed layout finds the demo certificate's dependency: serve --demo, TLS listeners and all.
      const { started } = await start(
        'gorgon',
        ['serve', '--demo', '--data', join(scratch, 'demo'), '--ephemeral-ports', '--log-format', 'json'],
        {
          cwd: scratch,
          env,
          ready: /"event":"ready"/,
        },
      );
      servers.push(started);
      expect(await stop(started)).toEqual({ code: 0, signal: null });
    },
    3 * MINUTES,
  );

  it(
    'pnpm dev runs it from the TypeScript sources',
    async () => {
      const out = await run('npx', [...PNPM, 'dev', '--version'], { cwd: repo });
      const version = JSON.parse(await readFile(join(repo, 'packages/cli/package.json'), 'utf8')).version as string;
      expect(out.trim().split('\n').at(-1)).toBe(version);
    },
    2 * MINUTES,
  );
});

function fingerQuery(port: number, query: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(query));
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (reply += d));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

/** Logs in as alice, prints STAT, UIDL, message 1 and the octets LIST gave and RETR sent; optionally DELE 1. */
const POPLIB = `
import json, poplib, sys
port, mode = sys.argv[1:3]
p = poplib.POP3('127.0.0.1', int(port), timeout=20)
p.user('alice')
p.pass_('wonderland')
count, octets = p.stat()
_, uidl, _ = p.uidl()
_, listing, _ = p.list()
listed = sum(int(l.split()[1]) for l in listing)
retrieved, message = 0, ''
for i in range(1, count + 1):
    _, lines, _ = p.retr(i)
    body = b''.join(l + b'\\r\\n' for l in lines)
    retrieved += len(body)
    if i == 1:
        message = body.decode()
if mode == 'delete-first':
    p.dele(1)
p.quit()
print(json.dumps({'stat': [count, octets], 'uidl': [l.decode() for l in uidl], 'message': message, 'listed': listed, 'retrieved': retrieved}))
`;
