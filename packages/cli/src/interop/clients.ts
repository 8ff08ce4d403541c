/**
 * The stock clients the matrix drives, found on this machine with their versions read from the
 * programs themselves (`curl --version`, `python3 -c 'import sys; print(sys.version)'`).
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
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

/** Every id `--clients` takes. */
export const CLIENT_IDS = [...SPECS.map((s) => s.id), 'python'];

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
  return clients;
}
