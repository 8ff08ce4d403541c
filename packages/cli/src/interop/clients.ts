/**
 * The stock clients the matrix drives, found on this machine with their versions read from the
 * programs themselves (`curl --version`, `python3 -c 'import sys; print(sys.version)'`), and the
 * npm client libraries (basic-ftp, node-pop3), found where Node would find them, with the version
 * of the package found.
 */
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { exec } from './exec.js';
import type { Client } from './types.js';

/** How to find one client and read its version. */
interface ClientSpec {
  id: string;
  program: string;
  /** The Debian package that installs it, for the "missing" reason. */
  pkg: string;
  versionArgs: string[];
  /** Picks the version out of the output (stdout and stderr together). */
  version: RegExp;
  /** Read the version from dpkg instead (finger(1) has no version flag). */
  dpkg?: boolean;
}

const SPECS: ClientSpec[] = [
  { id: 'curl', program: 'curl', pkg: 'curl', versionArgs: ['--version'], version: /^curl (\S+)/m },
  { id: 'lftp', program: 'lftp', pkg: 'lftp', versionArgs: ['--version'], version: /Version (\S+)/ },
  { id: 'wget', program: 'wget', pkg: 'wget', versionArgs: ['--version'], version: /^GNU Wget (\S+)/m },
  { id: 'mpop', program: 'mpop', pkg: 'mpop', versionArgs: ['--version'], version: /^mpop version (\S+)/m },
  { id: 'fetchmail', program: 'fetchmail', pkg: 'fetchmail', versionArgs: ['--version'], version: /fetchmail release ([^+\s]+)/ },
  { id: 'suck', program: 'suck', pkg: 'suck', versionArgs: ['--version'], version: /Suck version (\S+)/ },
  { id: 'rpost', program: 'rpost', pkg: 'suck', versionArgs: [], version: /^$/, dpkg: true },
  { id: 'finger', program: 'finger', pkg: 'finger', versionArgs: [], version: /^$/, dpkg: true },
  { id: 'nc', program: 'nc', pkg: 'netcat-openbsd', versionArgs: ['-h'], version: /patchlevel ([^)\s]+)/ },
];

/** The npm client libraries, run with this Node (`node -e SCRIPT`); each id is its package name. */
const NODE_LIBRARIES = ['basic-ftp', 'node-pop3'];

/** Every id `--clients` takes. */
export const CLIENT_IDS = [...SPECS.map((s) => s.id), 'python', ...NODE_LIBRARIES];

/** The program's full path on PATH, or undefined. */
export function which(program: string): string | undefined {
  if (program.includes('/')) return executable(program) ? program : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && executable(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function versionOf(spec: ClientSpec, bin: string): Promise<string | undefined> {
  // HOME in /tmp: fetchmail reads ~/.fetchmailrc even for --version.
  const r = spec.dpkg
    ? await exec(['dpkg-query', '-S', realpathSync(bin)], { timeoutMs: 5000 }).then(async (owner) => {
        const pkg = owner.stdout.toString().split(':')[0] ?? spec.pkg;
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
        return exec(['dpkg-query', '-W', '-f=${Version}\\n', pkg], { timeoutMs: 5000 });
      })
    : await exec([bin, ...spec.versionArgs], { timeoutMs: 5000, env: { HOME: '/tmp' } });
  const text = `${r.stdout.toString()}\n${r.stderr}`;
  return spec.dpkg ? r.stdout.toString().trim() || undefined : spec.version.exec(text)?.[1];
}

/**
 * The Python interpreters to run the standard-library clients with: `python3` on PATH and
 * Debian's /usr/bin/python3 when that is another build (their TLS differs: INTEROP.md), each
 * labelled by its version.
 */
async function pythons(): Promise<Client[]> {
  const found: Client[] = [];
  const seen = new Set<string>();
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const bin = which(candidate);
    if (!bin) continue;
    const r = await exec([bin, '-c', 'import sys; print(sys.version.split()[0]); print(sys.executable)'], { timeoutMs: 10_000 });
    const [version, executablePath] = r.stdout.toString().trim().split('\n');
    if (r.code !== 0 || !version || seen.has(executablePath ?? bin)) continue;
    seen.add(executablePath ?? bin);
    found.push({ id: 'python', label: `Python ${version}${found.length > 0 ? `, ${candidate}` : ''}`, bin, version });
  }
  if (found.length === 0) found.push({ id: 'python', label: 'Python', missing: 'python3 is not installed' });
  return found;
}

/**
 * An npm library as a client: its `require()` entry file (the client's `bin`, which the scripts
 * require) resolved from each of `from` in turn: by default the working directory first, then
 * the CLI's own location. The version is that of the package the entry belongs to.
 */
export function findNodeLibrary(name: string, from: readonly string[] = [join(process.cwd(), 'noop.js'), import.meta.url]): Client {
  for (const base of from) {
    let entry: string;
    try {
      entry = createRequire(base).resolve(name);
    } catch {
      continue;
    }
    const version = packageVersion(entry, name);
    return { id: name, label: name, bin: entry, ...(version ? { version } : {}) };
  }
  return { id: name, label: name, missing: `${name} is not installed (npm i ${name} where gorgon interop runs)` };
}

/**
 * The version in the package.json of the nearest directory above `file` whose package.json has
 * that `name`: not `require.resolve(name + '/package.json')`, which a package's `exports` map
 * may not allow (node-pop3's does not), and not the first package.json found, which may be a
 * nested `{"type": "commonjs"}` one.
 */
function packageVersion(file: string, name: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === name) return typeof pkg.version === 'string' ? pkg.version : undefined;
    } catch {
      // no package.json here (or not JSON): go on up
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The clients among `ids` (all when undefined), each found or with the reason it is missing. */
export async function findClients(ids?: readonly string[]): Promise<Client[]> {
  const wanted = (id: string): boolean => ids === undefined || ids.includes(id);
  const clients = await Promise.all(
    SPECS.filter((s) => wanted(s.id)).map(async (spec): Promise<Client> => {
      const bin = which(spec.program);
      if (!bin) return { id: spec.id, label: spec.id, missing: `${spec.program} is not installed (Debian package ${spec.pkg})` };
      const version = await versionOf(spec, bin).catch(() => undefined);
      return { id: spec.id, label: spec.id, bin, ...(version ? { version } : {}) };
    }),
  );
  if (wanted('python')) clients.push(...(await pythons()));
  for (const name of NODE_LIBRARIES) if (wanted(name)) clients.push(findNodeLibrary(name));
  return clients;
}
