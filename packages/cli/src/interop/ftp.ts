/**
 * FTP and FTPS: curl, lftp, wget, Python's ftplib and the npm library basic-ftp, each doing
 * login, TLS, list, retrieve, resume and (with --write) store and delete. A probe with Gorgon's own FTP client reads FEAT and
 * downloads the reference file every retrieve is compared with; store and delete are set up and
 * checked with it too, so each cell tests one thing of one stock client.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Writable } from 'node:stream';
import { FtpClient } from '@gorgon/ftp/client';
import { messageOf } from '../errors.js';
import {
  caText,
  command,
  curlTrust,
  curlUser,
  needsCapability,
  needsSample,
  needsWrite,
  node,
  noReference,
  python,
  sameAsSample,
  urlPath,
} from './kit.js';
import { BASIC_FTP } from './node-scripts.js';
import { FTPLIB } from './python.js';
import { hostPort, schemeOf } from './target.js';
import type { Context, Outcome, Probe, Scenario, Settings, Target } from './types.js';

const ANONYMOUS = { user: 'anonymous', password: 'anonymous@' };
const MAX_SAMPLE = 16 * 1024 * 1024;

const login = (t: Target) => ({ user: t.user ?? ANONYMOUS.user, password: t.password ?? ANONYMOUS.password });

/** Gorgon's client on the target: for the probe, for setting up a file to delete, for checking an upload. */
async function gorgonClient(t: Target, s: Settings): Promise<FtpClient> {
  const ca = caText(s.caFile);
  return FtpClient.connect({
    host: t.host,
    port: t.port,
    secure: t.implicitTls ? 'implicit' : false,
    tls: { rejectUnauthorized: false, ...(ca ? { ca } : {}) },
    ...login(t),
    timeoutMs: s.timeoutMs,
    connectTimeoutMs: s.timeoutMs,
    dataTimeoutMs: s.timeoutMs,
  });
}

async function download(client: FtpClient, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  await client.download(
    path,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        parts.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(parts);
}

/**
 * FEAT, and the reference file: the URL's file, or the first regular file of the URL's directory
 * (at most 16 MiB).
 */
export async function probeFtp(t: Target, s: Settings): Promise<Probe> {
  let client: FtpClient | undefined;
  try {
    client = await gorgonClient(t, s);
    const capabilities = new Set<string>();
    for (const [name, value] of client.featureSet) {
      capabilities.add(name);
      for (const v of value.split(/[;\s]+/)) if (v) capabilities.add(`${name} ${v.toUpperCase()}`);
    }
    const isFile = t.path !== '' && !t.path.endsWith('/') && (await client.size(t.path).catch(() => -1)) >= 0;
    const directory = isFile ? posix.dirname(t.path).replace(/^\.$/, '') : t.path.replace(/\/$/, '');
    let file = isFile ? t.path : undefined;
    if (!file) {
      const entries = await client.listDir(directory || undefined);
      const found = entries.find((e) => e.type === 'file' && (e.size ?? 0) > 1 && (e.size ?? 0) <= MAX_SAMPLE);
      if (!found) return { capabilities, directory, noSample: `no file of 2 bytes to 16 MiB in /${directory}: name one in the URL` };
      file = directory ? `${directory}/${found.name}` : found.name;
    }
    const data = await download(client, file);
    return { capabilities, directory, sample: { name: file, data } };
  } catch (err) {
    return { error: `probe with Gorgon's FTP client: ${messageOf(err)}` };
  } finally {
    await client?.quit().catch(() => client?.close());
  }
}

const sampleName = (c: Context): string => c.probe.sample?.name ?? c.target.path;
const directory = (c: Context): string => c.probe.directory ?? c.target.path.replace(/\/$/, '');
const uploadDir = (c: Context): string => (c.settings.uploadDir ?? directory(c)).replace(/^\/+|\/+$/g, '');
const remoteName = (c: Context): string => {
  const dir = uploadDir(c);
  return `${dir ? `${dir}/` : ''}${c.unique('.txt')}`;
};
const UPLOAD = 'Uploaded by gorgon interop; deleted again by the same run.\r\n';
/** Half of the sample is "already downloaded" for the resume cells. */
const half = (c: Context): number => Math.floor((c.probe.sample?.data.length ?? 0) / 2);

/** The listing must name the sample (when there is one). */
function listsSample(c: Context, text: string): Outcome {
  const name = c.probe.sample ? posix.basename(c.probe.sample.name) : undefined;
  if (name && !text.includes(name)) return `the listing does not name ${name}`;
  if (!name && text.trim() === '') return 'empty listing';
  return undefined;
}

/** Upload cells: the file must be on the server with the content sent; it is deleted afterwards. */
async function checkUploaded(c: Context, remote: string): Promise<Outcome> {
  const client = await gorgonClient(c.target, c.settings);
  try {
    const data = await download(client, remote).catch((err: unknown) => new Error(messageOf(err)));
    if (data instanceof Error) return `the upload is not on the server: ${data.message}`;
    return data.toString() === UPLOAD ? undefined : `the upload reads back as ${data.length} other bytes`;
  } finally {
    await client.send(`DELE ${remote}`).catch(() => undefined);
    await client.quit().catch(() => client.close());
  }
}

/** Delete cells: a file put there by Gorgon's client first, then it must be gone. */
async function putFileToDelete(c: Context): Promise<string> {
  const remote = remoteName(c);
  const client = await gorgonClient(c.target, c.settings);
  try {
    await client.upload(UPLOAD, remote);
  } finally {
    await client.quit().catch(() => client.close());
  }
  return remote;
}
async function checkDeleted(c: Context, remote: string): Promise<Outcome> {
  const client = await gorgonClient(c.target, c.settings);
  try {
    const size = await client.size(remote).catch(() => -1);
    if (size < 0) return undefined;
    await client.send(`DELE ${remote}`).catch(() => undefined);
    return `${remote} is still there`;
  } finally {
    await client.quit().catch(() => client.close());
  }
}

/** A write cell: set up, run the client on the remote name, check. */
function deleting(run: (c: Context, remote: string) => Promise<Outcome>): Scenario['run'] {
  return async (c) => {
    const remote = await putFileToDelete(c).catch((err: unknown) => new Error(messageOf(err)));
    if (remote instanceof Error) return `could not put a file there to delete: ${remote.message}`;
    return (await run(c, remote)) ?? checkDeleted(c, remote);
  };
}
function storing(run: (c: Context, remote: string, local: string) => Promise<Outcome>): Scenario['run'] {
  return async (c) => {
    const remote = remoteName(c);
    const local = join(c.dir, 'upload.txt');
    await writeFile(local, UPLOAD);
    return (await run(c, remote, local)) ?? checkUploaded(c, remote);
  };
}

// curl: one URL per transfer; --ssl-reqd asks for AUTH TLS on ftp://.
const url = (c: Context, path: string): string => `${schemeOf(c.target)}://${hostPort(c.target)}/${urlPath(path)}`;
const curl = (c: Context, tls = false): string[] => [
  'curl',
  '-sS',
  '--max-time',
  String(c.settings.timeoutMs / 1000),
  ...curlUser(c.target, ANONYMOUS),
  ...curlTrust(c),
  ...(tls && !c.target.implicitTls ? ['--ssl-reqd'] : []),
];
const dirUrl = (c: Context): string => url(c, directory(c) ? `${directory(c)}/` : '');

// lftp: a script of commands; cmd:fail-exit makes the first failure its exit status.
function lftp(c: Context, commands: string, tls = false): string[] {
  const sets = ['set net:max-retries 1', `set net:timeout ${Math.ceil(c.settings.timeoutMs / 1000)}`, 'set cmd:fail-exit yes'];
  if (c.target.implicitTls || tls) sets.push('set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes');
  else sets.push('set ftp:ssl-allow no');
  if (c.settings.insecure) sets.push('set ssl:verify-certificate no');
  if (c.settings.caFile) sets.push(`set ssl:ca-file "${c.settings.caFile}"`);
  const { user, password } = login(c.target);
  return [
    'lftp',
    '-u',
    `${user},${password}`,
    '-e',
    `${sets.join('; ')}; ${commands}; bye`,
    `${schemeOf(c.target)}://${hostPort(c.target)}`,
  ];
}
const q = (path: string): string => `"${path.replace(/(["\\])/g, '\\$1')}"`;

// wget: ftp:// or ftps:// (AUTH TLS), --ftps-implicit for implicit FTPS.
function wget(c: Context): string[] {
  const { user, password } = login(c.target);
  return [
    'wget',
    '-q',
    '--tries=1',
    `--timeout=${Math.ceil(c.settings.timeoutMs / 1000)}`,
    `--ftp-user=${user}`,
    `--ftp-password=${password}`,
    ...(c.settings.insecure ? ['--no-check-certificate'] : []),
    ...(c.settings.caFile ? [`--ca-certificate=${c.settings.caFile}`] : []),
    ...(c.target.implicitTls ? ['--ftps-implicit'] : []),
  ];
}
const wgetUrl = (c: Context, path: string, tls = false): string =>
  `${c.target.implicitTls || tls ? 'ftps' : 'ftp'}://${hostPort(c.target)}/${urlPath(path)}`;

const tlsOffered = needsCapability('AUTH TLS', 'AUTH TLS');
const explicitTls = (c: Context): string | undefined => (c.target.implicitTls ? undefined : tlsOffered(c));
const writeStore = needsWrite('upload a uniquely named file (deleted after)');
const writeDelete = needsWrite('upload a uniquely named file and delete it');
const nameCheck = (out: Record<string, unknown>, c: Context): Outcome => listsSample(c, (out['names'] as string[]).join('\n'));
const shaCheck = (offset: (c: Context) => number) => (out: Record<string, unknown>, c: Context) =>
  sameAsSample(c, out['sha'] as string, offset(c));

/** The FTP table: client × feature → command. */
/** A cell run by a client library's script (`python`, `node`): its config and the check of its output. */
type ScriptCell = (
  extra: (c: Context) => Record<string, unknown>,
  check?: (out: Record<string, unknown>, c: Context) => Outcome,
) => (feature: string) => Scenario['run'];

/** Every FTP feature as a client library's script does it (ftplib, basic-ftp). */
function scriptedCells(who: { client: string; library?: string }, cell: ScriptCell): Scenario[] {
  return [
    { ...who, feature: 'login', run: cell((c) => login(c.target))('login') },
    { ...who, feature: 'tls', skip: explicitTls, run: cell((c) => ({ ...login(c.target), dir: directory(c) }), nameCheck)('tls') },
    { ...who, feature: 'list', run: cell((c) => ({ ...login(c.target), dir: directory(c) }), nameCheck)('list') },
    {
      ...who,
      feature: 'retrieve',
      skip: needsSample,
      run: cell(
        (c) => ({ ...login(c.target), file: sampleName(c) }),
        shaCheck(() => 0),
      )('retrieve'),
    },
    {
      ...who,
      feature: 'resume',
      skip: needsSample,
      run: cell((c) => ({ ...login(c.target), file: sampleName(c), offset: half(c) }), shaCheck(half))('resume'),
    },
    {
      ...who,
      feature: 'store',
      skip: writeStore,
      run: storing((c, remote) => cell(() => ({ ...login(c.target), remote, content: UPLOAD }))('store')(c)),
    },
    {
      ...who,
      feature: 'delete',
      skip: writeDelete,
      run: deleting((c, remote) => cell(() => ({ ...login(c.target), remote }))('delete')(c)),
    },
  ];
}

export const ftpScenarios: Scenario[] = [
  // curl
  { client: 'curl', feature: 'login', run: command((c) => [...curl(c), '-Q', 'NOOP', '--list-only', '-o', '/dev/null', url(c, '')]) },
  {
    client: 'curl',
    feature: 'tls',
    skip: explicitTls,
    run: command(
      (c) => [...curl(c, true), '--list-only', dirUrl(c)],
      (r, c) => listsSample(c, r.stdout.toString()),
    ),
  },
  {
    client: 'curl',
    feature: 'list',
    run: command(
      (c) => [...curl(c), '--list-only', dirUrl(c)],
      (r, c) => listsSample(c, r.stdout.toString()),
    ),
  },
  {
    client: 'curl',
    feature: 'retrieve',
    skip: needsSample,
    run: command(
      (c) => [...curl(c), url(c, sampleName(c))],
      (r, c) => sameAsSample(c, r.stdout),
    ),
  },
  {
    client: 'curl',
    feature: 'resume',
    skip: needsSample,
    run: async (c) => {
      const out = join(c.dir, 'partial');
      if (!c.probe.sample) return noReference(c);
      await writeFile(out, c.probe.sample.data.subarray(0, half(c)));
      return command(
        () => [...curl(c), '-C', '-', '-o', out, url(c, sampleName(c))],
        async () => sameAsSample(c, await readFile(out)),
      )(c);
    },
  },
  {
    client: 'curl',
    feature: 'store',
    skip: writeStore,
    run: storing((c, remote, local) => command(() => [...curl(c), '-T', local, url(c, remote)])(c)),
  },
  {
    client: 'curl',
    feature: 'delete',
    skip: writeDelete,
    run: deleting((c, remote) => command(() => [...curl(c), '-Q', `DELE ${remote}`, '--list-only', '-o', '/dev/null', url(c, '')])(c)),
  },
  // lftp
  { client: 'lftp', feature: 'login', run: command((c) => lftp(c, 'quote NOOP')) },
  {
    client: 'lftp',
    feature: 'tls',
    skip: explicitTls,
    run: command(
      (c) => lftp(c, `cls -1 ${q(directory(c) || '.')}`, true),
      (r, c) => listsSample(c, r.stdout.toString()),
    ),
  },
  {
    client: 'lftp',
    feature: 'list',
    run: command(
      (c) => lftp(c, `cls -1 ${q(directory(c) || '.')}`),
      (r, c) => listsSample(c, r.stdout.toString()),
    ),
  },
  {
    client: 'lftp',
    feature: 'retrieve',
    skip: needsSample,
    run: command(
      (c) => lftp(c, `cat ${q(sampleName(c))}`),
      (r, c) => sameAsSample(c, r.stdout),
    ),
  },
  {
    client: 'lftp',
    feature: 'resume',
    skip: needsSample,
    run: async (c) => {
      const out = join(c.dir, 'partial');
      if (!c.probe.sample) return noReference(c);
      await writeFile(out, c.probe.sample.data.subarray(0, half(c)));
      return command(
        () => lftp(c, `get -c ${q(sampleName(c))} -o ${q(out)}`),
        async () => sameAsSample(c, await readFile(out)),
      )(c);
    },
  },
  {
    client: 'lftp',
    feature: 'store',
    skip: writeStore,
    run: storing((c, remote, local) => command(() => lftp(c, `put ${q(local)} -o ${q(remote)}`))(c)),
  },
  { client: 'lftp', feature: 'delete', skip: writeDelete, run: deleting((c, remote) => command(() => lftp(c, `rm ${q(remote)}`))(c)) },
  // wget: no upload, no delete.
  { client: 'wget', feature: 'login', run: command((c) => [...wget(c), '--spider', wgetUrl(c, directory(c) ? `${directory(c)}/` : '')]) },
  {
    client: 'wget',
    feature: 'tls',
    skip: explicitTls,
    run: command(
      (c) => [...wget(c), '-O', '-', wgetUrl(c, directory(c) ? `${directory(c)}/` : '', true)],
      (r, c) => listsSample(c, r.stdout.toString()),
    ),
  },
  {
    client: 'wget',
    feature: 'list',
    run: command(
      (c) => [...wget(c), '-O', '-', wgetUrl(c, directory(c) ? `${directory(c)}/` : '')],
      (r, c) => listsSample(c, r.stdout.toString()),
    ),
  },
  {
    client: 'wget',
    feature: 'retrieve',
    skip: needsSample,
    run: command(
      (c) => [...wget(c), '-O', '-', wgetUrl(c, sampleName(c))],
      (r, c) => sameAsSample(c, r.stdout),
    ),
  },
  {
    client: 'wget',
    feature: 'resume',
    skip: needsSample,
    run: async (c) => {
      const out = join(c.dir, posix.basename(sampleName(c)));
      if (!c.probe.sample) return noReference(c);
      await writeFile(out, c.probe.sample.data.subarray(0, half(c)));
      return command(
        () => [...wget(c), '-c', wgetUrl(c, sampleName(c))],
        async () => sameAsSample(c, await readFile(out)),
      )(c);
    },
  },
  // Python's ftplib and basic-ftp (npm): the same config and checks for both
  ...scriptedCells({ client: 'python', library: 'ftplib' }, (extra, check) => python(FTPLIB, extra, check)),
  ...scriptedCells({ client: 'basic-ftp' }, (extra, check) => node(BASIC_FTP, extra, check)),
];
