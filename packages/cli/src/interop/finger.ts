/**
 * finger: Debian's finger(1), curl (a gopher URL sends exactly `selector CRLF`, a finger query)
 * and nc, each asking for the list of users (an empty query) and for one user (the URL's path).
 * finger(1) has no port option: on another port than 79 it runs, as root, in a private mount
 * namespace with an edited /etc/services bound over the real one (INTEROP.md).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { command } from './kit.js';
import { hostPort } from './target.js';
import type { Context, Outcome, Probe, Scenario, Settings, Target } from './types.js';
import { Wire } from './wire.js';
import { which } from './clients.js';

/** An empty query: the server must answer something and close. */
export async function probeFinger(t: Target, s: Settings): Promise<Probe> {
  try {
    const wire = await Wire.open(t.host, t.port, false, s.timeoutMs);
    wire.send('');
    const data = await wire.rest();
    return data.length > 0 ? {} : { error: 'probe: the server answered an empty query with nothing' };
  } catch (err) {
    return { error: `probe: ${messageOf(err)}` };
  }
}

const user = (c: Context): string => c.target.path.split('/')[0] ?? '';
const needsUser = (c: Context): string | undefined => (user(c) ? undefined : 'name a user in the URL (finger://host:port/user)');

/** The answer must say something, and name the user asked about. */
const answers = (query: string, text: string): Outcome => {
  if (text.trim() === '') return 'empty answer';
  return query && !text.toLowerCase().includes(query.toLowerCase()) ? `the answer does not mention ${query}` : undefined;
};

/** finger(1) on the target's port: directly on 79, else through the /etc/services bind mount. */
async function finger(c: Context, query: string): Promise<string[]> {
  const address = `${query}@${c.target.host}`;
  if (c.target.port === 79) return ['finger', address];
  const services = (await readFile('/etc/services', 'utf8')).replace(/^finger\s+\d+\/tcp/m, `finger\t\t${c.target.port}/tcp`);
  const edited = join(c.dir, 'services');
  await writeFile(edited, services);
  return ['finger', '-c', `mount --bind ${edited} /etc/services && exec ${c.client.bin} ${address}`];
}
const fingerSkip = (c: Context): string | undefined => {
  if (c.target.port === 79) return undefined;
  if (process.getuid?.() !== 0 || !which('unshare')) return 'finger(1) has no port option; another port than 79 needs root and unshare';
  return undefined;
};
/** Runs finger(1) through unshare when it needs the bind mount. */
const fingerRun = (query: (c: Context) => string): Scenario['run'] =>
  command(
    async (c) => {
      const argv = await finger(c, query(c));
      return c.target.port === 79 ? argv : ['unshare', '-m', 'sh', ...argv.slice(1)];
    },
    (r, c) => answers(query(c), r.stdout.toString('latin1')),
  );

const gopher = (c: Context, query: string): string[] => [
  'curl',
  '-sS',
  '--max-time',
  String(c.settings.timeoutMs / 1000),
  `gopher://${hostPort(c.target)}/0${encodeURIComponent(query)}`,
];
const nc = (c: Context, query: string) => ({
  argv: ['nc', '-N', '-w', String(Math.ceil(c.settings.timeoutMs / 1000)), c.target.host, String(c.target.port)],
  options: { input: `${query}\r\n` },
});

/** The finger table: client × feature → command. */
export const fingerScenarios: Scenario[] = [
  { client: 'finger', feature: 'list', skip: fingerSkip, run: fingerRun(() => '') },
  { client: 'finger', feature: 'query', skip: (c) => needsUser(c) ?? fingerSkip(c), run: fingerRun(user) },
  {
    client: 'curl',
    feature: 'list',
    run: command(
      (c) => gopher(c, ''),
      (r) => answers('', r.stdout.toString('latin1')),
    ),
  },
  {
    client: 'curl',
    feature: 'query',
    skip: needsUser,
    run: command(
      (c) => gopher(c, user(c)),
      (r, c) => answers(user(c), r.stdout.toString('latin1')),
    ),
  },
  {
    client: 'nc',
    feature: 'list',
    run: command(
      (c) => nc(c, ''),
      (r) => answers('', r.stdout.toString('latin1')),
    ),
  },
  {
    client: 'nc',
    feature: 'query',
    skip: needsUser,
    run: command(
      (c) => nc(c, user(c)),
      (r, c) => answers(user(c), r.stdout.toString('latin1')),
    ),
  },
];
