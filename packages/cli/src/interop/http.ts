/**
 * HTTP and HTTPS: curl, wget and Python's http.client doing GET, HEAD, a ranged resume, a
 * conditional GET and two requests on one kept-alive connection. A probe with Node's own client
 * fetches the resource every retrieve is compared with, and its Last-Modified.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { readFile, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { messageOf } from '../errors.js';
import { command, curlTrust, needsSample, noReference, python, sameAsSample, urlPath } from './kit.js';
import { HTTP_CLIENT } from './python.js';
import { hostPort, schemeOf } from './target.js';
import type { Context, Outcome, Probe, Scenario, Settings, Target } from './types.js';

const MAX_SAMPLE = 16 * 1024 * 1024;

/** GET of the URL: the reference body and its Last-Modified. */
export function probeHttp(t: Target, s: Settings): Promise<Probe> {
  return new Promise((resolve) => {
    const get = t.implicitTls ? https.get : http.get;
    const req = get(
      { host: t.host, port: t.port, path: `/${urlPath(t.path)}`, rejectUnauthorized: false, timeout: s.timeoutMs, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (d: Buffer) => {
          size += d.length;
          if (size > MAX_SAMPLE) req.destroy(new Error('the resource is larger than 16 MiB'));
          else parts.push(d);
        });
        res.on('end', () => {
          if (res.statusCode !== 200)
            return resolve({ noSample: `GET /${t.path} answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim() });
          const lastModified = res.headers['last-modified'];
          resolve({ sample: { name: `/${t.path}`, data: Buffer.concat(parts) }, ...(lastModified ? { lastModified } : {}) });
        });
        res.on('error', (err) => resolve({ error: `probe: ${messageOf(err)}` }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${s.timeoutMs / 1000} s`)));
    req.on('error', (err) => resolve({ error: `probe: ${messageOf(err)}` }));
  });
}

const url = (c: Context): string => `${schemeOf(c.target)}://${hostPort(c.target)}/${urlPath(c.target.path)}`;
const half = (c: Context): number => Math.floor((c.probe.sample?.data.length ?? 0) / 2);
const needsLastModified = (c: Context): string | undefined =>
  needsSample(c) ?? (c.probe.lastModified || !c.probe.sample ? undefined : 'the server sends no Last-Modified');
const needsTwoBytes = (c: Context): string | undefined =>
  needsSample(c) ?? ((c.probe.sample?.data.length ?? 2) < 2 ? 'the resource is shorter than 2 bytes' : undefined);

const curl = (c: Context): string[] => ['curl', '-sS', '--fail', '--max-time', String(c.settings.timeoutMs / 1000), ...curlTrust(c)];
const wget = (c: Context): string[] => [
  'wget',
  '-q',
  '--tries=1',
  `--timeout=${Math.ceil(c.settings.timeoutMs / 1000)}`,
  ...(c.settings.insecure ? ['--no-check-certificate'] : []),
  ...(c.settings.caFile ? [`--ca-certificate=${c.settings.caFile}`] : []),
];
/** The name wget saves the URL under. */
const wgetName = (c: Context): string => posix.basename(c.target.path) || 'index.html';

/** A resume: half the resource already on disk under `name`; the client must complete it. */
function resuming(name: (c: Context) => string, argv: (c: Context, file: string) => string[]): Scenario['run'] {
  return async (c) => {
    const file = join(c.dir, name(c));
    if (!c.probe.sample) return noReference(c);
    await writeFile(file, c.probe.sample.data.subarray(0, half(c)));
    return command(
      () => argv(c, file),
      async () => sameAsSample(c, await readFile(file)),
    )(c);
  };
}

const httpClient = (feature: string, check?: (out: Record<string, unknown>, c: Context) => Outcome) =>
  python(
    HTTP_CLIENT,
    (c) => ({ path: `/${urlPath(c.target.path)}`, offset: half(c), lastModified: c.probe.lastModified ?? null }),
    check,
  )(feature);

/** The HTTP table: client × feature → command. */
export const httpScenarios: Scenario[] = [
  // curl
  {
    client: 'curl',
    feature: 'retrieve',
    skip: needsSample,
    run: command(
      (c) => [...curl(c), url(c)],
      (r, c) => sameAsSample(c, r.stdout),
    ),
  },
  {
    client: 'curl',
    feature: 'head',
    run: command(
      (c) => [...curl(c), '--head', url(c)],
      (r) => (/^HTTP\/\S+ 200/.test(r.stdout.toString()) ? undefined : 'HEAD did not answer 200'),
    ),
  },
  {
    client: 'curl',
    feature: 'resume',
    skip: needsTwoBytes,
    run: resuming(
      () => 'partial',
      (c, file) => [...curl(c), '-C', '-', '-o', file, url(c)],
    ),
  },
  {
    client: 'curl',
    feature: 'conditional',
    skip: needsLastModified,
    run: command(
      (c) => [...curl(c), '-o', '/dev/null', '-w', '%{http_code}', '-H', `If-Modified-Since: ${c.probe.lastModified}`, url(c)],
      (r) => (r.stdout.toString() === '304' ? undefined : `If-Modified-Since was answered ${r.stdout.toString()}, not 304`),
    ),
  },
  {
    client: 'curl',
    feature: 'keep-alive',
    run: command(
      (c) => [...curl(c), '-v', '-o', '/dev/null', '-o', '/dev/null', url(c), url(c)],
      (r) => (/Re-using existing connection/i.test(r.stderr) ? undefined : 'curl opened a second connection for the second request'),
    ),
  },
  // wget
  {
    client: 'wget',
    feature: 'retrieve',
    skip: needsSample,
    run: command(
      (c) => [...wget(c), '-O', '-', url(c)],
      (r, c) => sameAsSample(c, r.stdout),
    ),
  },
  { client: 'wget', feature: 'head', run: command((c) => [...wget(c), '--spider', url(c)]) },
  { client: 'wget', feature: 'resume', skip: needsTwoBytes, run: resuming(wgetName, (c) => [...wget(c), '-c', url(c)]) },
  // Python's http.client
  {
    client: 'python',
    library: 'http.client',
    feature: 'retrieve',
    skip: needsSample,
    run: httpClient('retrieve', (out, c) => sameAsSample(c, out['sha'] as string)),
  },
  {
    client: 'python',
    library: 'http.client',
    feature: 'head',
    run: httpClient('head', (out) => (Number(out['body']) === 0 ? undefined : 'HEAD came with a body')),
  },
  {
    client: 'python',
    library: 'http.client',
    feature: 'resume',
    skip: needsTwoBytes,
    run: httpClient('resume', (out, c) => sameAsSample(c, out['sha'] as string, half(c))),
  },
  { client: 'python', library: 'http.client', feature: 'conditional', skip: needsLastModified, run: httpClient('conditional') },
  { client: 'python', library: 'http.client', feature: 'keep-alive', run: httpClient('keep-alive') },
];
