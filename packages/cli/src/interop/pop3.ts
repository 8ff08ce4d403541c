/**
 * POP3 and POP3S: curl, mpop, fetchmail, Python's poplib and the npm library node-pop3 doing
 * login, TLS (STLS, or pop3s://), list, retrieve, top and delete. Nothing is ever deleted:
 * poplib's and node-pop3's DELE is undone with RSET, and the clients that would delete for real
 * (curl -X DELE, mpop --keep=off) are not run. A probe on the wire reads CAPA and the message
 * every retrieve is compared with.
 */
import { isUtf8 } from 'node:buffer';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { sha256 } from './exec.js';
import { allOf, command, curlTrust, curlUser, needsCapability, needsSample, node, python, sameAsSample } from './kit.js';
import { NODE_POP3 } from './node-scripts.js';
import { POPLIB } from './python.js';
import { hostPort, schemeOf } from './target.js';
import type { Context, Outcome, Probe, Scenario, Settings, Target } from './types.js';
import { Wire } from './wire.js';

const MAX_SAMPLE = 16 * 1024 * 1024;

async function expectOk(wire: Wire, what: string): Promise<string> {
  const line = await wire.line();
  if (!line.startsWith('+OK')) throw new Error(`${what}: ${line.slice(0, 120)}`);
  return line;
}

/** CAPA, and with credentials USER/PASS, STAT and RETR 1 for the reference message. */
export async function probePop3(t: Target, s: Settings): Promise<Probe> {
  let wire: Wire | undefined;
  try {
    wire = await Wire.open(t.host, t.port, t.implicitTls, s.timeoutMs);
    await expectOk(wire, 'greeting');
    wire.send('CAPA');
    let capabilities: Set<string> | undefined;
    if ((await wire.line()).startsWith('+OK')) {
      const words = (await wire.body()).toString('latin1').split('\r\n').filter(Boolean);
      capabilities = new Set(words.flatMap((l) => [l.toUpperCase(), l.split(' ')[0]!.toUpperCase()]));
    }
    const base = capabilities ? { capabilities } : {};
    if (t.user === undefined) return { ...base, noSample: 'give credentials (URL userinfo or --user/--password)' };
    wire.send(`USER ${t.user}`);
    await expectOk(wire, 'USER');
    wire.send(`PASS ${t.password ?? ''}`);
    await expectOk(wire, 'PASS (the probe logs in with USER/PASS)');
    wire.send('STAT');
    const count = Number((await expectOk(wire, 'STAT')).split(' ')[1]);
    if (!(count > 0)) return { ...base, noSample: 'the mailbox is empty' };
    wire.send('LIST 1');
    const size = Number((await expectOk(wire, 'LIST 1')).split(' ')[2]);
    if (size > MAX_SAMPLE) return { ...base, noSample: 'message 1 is larger than 16 MiB' };
    wire.send('RETR 1');
    await expectOk(wire, 'RETR 1');
    const data = await wire.body();
    wire.send('QUIT');
    return { ...base, number: 1, sample: { name: 'message 1', data } };
  } catch (err) {
    return { error: `probe: ${messageOf(err)}` };
  } finally {
    wire?.close();
  }
}

const needsLogin = (c: Context): string | undefined =>
  c.target.user === undefined ? 'give credentials (URL userinfo or --user/--password)' : undefined;
const stls = needsCapability('STLS');
const explicitTls = (c: Context): string | undefined => (c.target.implicitTls ? undefined : stls(c));
const NO_DELETE = 'not run: it would delete the message for real (poplib tests DELE and undoes it with RSET)';

// curl: LIST on the bare URL, RETR with /N, other commands with -X (and -I when the reply is one line).
const curl = (c: Context, tls = false): string[] => [
  'curl',
  '-sS',
  '--max-time',
  String(c.settings.timeoutMs / 1000),
  ...curlUser(c.target),
  ...curlTrust(c),
  ...(tls && !c.target.implicitTls ? ['--ssl-reqd'] : []),
];
const url = (c: Context, path = ''): string => `${schemeOf(c.target)}://${hostPort(c.target)}/${path}`;
const listed = (text: string): Outcome => (/^\d+ \d+/m.test(text) ? undefined : 'LIST gave no message lines');

// mpop: the password from a file, mail into an mbox in the cell's directory, never deleting.
async function mpop(c: Context, args: string[], tls = false): Promise<string[]> {
  const secret = join(c.dir, 'password');
  await writeFile(secret, c.target.password ?? '', { mode: 0o600 });
  const secure = c.target.implicitTls || tls;
  return [
    'mpop',
    `--host=${c.target.host}`,
    `--port=${c.target.port}`,
    `--timeout=${Math.ceil(c.settings.timeoutMs / 1000)}`,
    `--user=${c.target.user}`,
    `--passwordeval=cat ${secret}`,
    ...(secure ? ['--tls=on', `--tls-starttls=${c.target.implicitTls ? 'off' : 'on'}`] : ['--tls=off', '--auth=user']),
    ...(c.settings.insecure ? ['--tls-certcheck=off'] : []),
    ...(c.settings.caFile ? [`--tls-trust-file=${c.settings.caFile}`] : []),
    '--keep=on',
    '--only-new=off',
    `--delivery=mbox,${join(c.dir, 'mbox')}`,
    `--uidls-file=${join(c.dir, 'uidls')}`,
    ...args,
  ];
}
const mboxMessages = async (c: Context): Promise<Outcome> => {
  const mbox = await readFile(join(c.dir, 'mbox'), 'latin1').catch(() => '');
  return /^From /m.test(mbox) ? undefined : 'no message was delivered to the mbox';
};

// fetchmail: an rc file (mode 0600) that keeps every message and delivers to a file through an MDA.
async function fetchmail(c: Context, args: string[], tls = false): Promise<string[]> {
  const rc = join(c.dir, 'fetchmailrc');
  const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  const security = c.target.implicitTls ? 'ssl' : tls ? "sslproto 'tls1.2+'" : "sslproto ''";
  const trust = [
    c.settings.insecure ? 'no sslcertck' : 'sslcertck',
    ...(c.settings.caFile ? [`sslcertfile ${quote(c.settings.caFile)}`] : []),
  ];
  const lines = [
    'set no syslog',
    `poll ${c.target.host} service ${c.target.port} protocol pop3 timeout ${Math.ceil(c.settings.timeoutMs / 1000)}`,
    `  username ${quote(c.target.user ?? '')} password ${quote(c.target.password ?? '')}`,
    `  options keep fetchall ${security} ${trust.join(' ')}`,
    `  mda ${quote(`/bin/sh -c 'cat >> ${join(c.dir, 'mail')}'`)}`,
  ];
  await writeFile(rc, `${lines.join('\n')}\n`, { mode: 0o600 });
  return ['fetchmail', '-f', rc, '-i', join(c.dir, 'ids'), '--nodetach', ...args];
}
/** fetchmail -c exits 1 for "no mail": the login worked all the same. */
const fetchmailCheck = async (c: Context, tls = false): Promise<Outcome> => {
  const r = await c.exec(await fetchmail(c, ['-c'], tls));
  if (r.code === 0 || r.code === 1) return undefined;
  return `exit ${r.code}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
};

const poplib = (feature: string, check?: (out: Record<string, unknown>, c: Context) => Outcome) =>
  python(POPLIB, (c) => ({ number: c.probe.number ?? 1 }), check)(feature);

const nodePop3 = (feature: string, check?: (out: Record<string, unknown>, c: Context) => Outcome) =>
  node(NODE_POP3, (c) => ({ number: c.probe.number ?? 1 }), check)(feature);
const noStls = (c: Context): string | undefined => (c.target.implicitTls ? undefined : 'node-pop3 has no STLS');
const sameCounts = (out: Record<string, unknown>): Outcome =>
  out['messages'] === out['uidls'] ? undefined : `LIST gave ${out['messages']} messages, UIDL ${out['uidls']}`;

/**
 * node-pop3's RETR, normalised by its script (CRLF line ends, dot-stuffing undone, the final CRLF
 * it may drop put back: node-scripts.ts), against the reference. node-pop3 decodes the message as
 * UTF-8, so a reference that is not valid UTF-8 is compared decoded and re-encoded the same way
 * (its invalid bytes as U+FFFD): the 8-bit bytes themselves cannot come through that client.
 */
function nodePop3Same(out: Record<string, unknown>, c: Context): Outcome {
  const sample = c.probe.sample;
  if (!sample || isUtf8(sample.data)) return sameAsSample(c, out['sha'] as string);
  if (out['sha'] === sha256(Buffer.from(sample.data.toString('utf8'), 'utf8'))) return undefined;
  return `${sample.name}: content differs from the reference (compared as UTF-8, the reference is not valid UTF-8)`;
}

/** The POP3 table: client × feature → command. */
export const pop3Scenarios: Scenario[] = [
  // curl
  { client: 'curl', feature: 'login', skip: needsLogin, run: command((c) => [...curl(c), '-X', 'STAT', '-I', url(c)]) },
  {
    client: 'curl',
    feature: 'tls',
    skip: allOf(needsLogin, explicitTls),
    run: command(
      (c) => [...curl(c, true), url(c)],
      (r) => listed(r.stdout.toString()),
    ),
  },
  {
    client: 'curl',
    feature: 'list',
    skip: needsLogin,
    run: command(
      (c) => [...curl(c), url(c)],
      (r) => listed(r.stdout.toString()),
    ),
  },
  {
    client: 'curl',
    feature: 'retrieve',
    skip: allOf(needsLogin, needsSample),
    run: command(
      (c) => [...curl(c), url(c, String(c.probe.number ?? 1))],
      (r, c) => sameAsSample(c, r.stdout),
    ),
  },
  {
    client: 'curl',
    feature: 'top',
    skip: allOf(needsLogin, needsSample, needsCapability('TOP')),
    run: command(
      (c) => [...curl(c), '-X', `TOP ${c.probe.number ?? 1} 0`, url(c)],
      (r) => (/^[\w-]+:/m.test(r.stdout.toString()) ? undefined : 'TOP gave no header lines'),
    ),
  },
  { client: 'curl', feature: 'delete', skip: () => NO_DELETE, run: async () => NO_DELETE },
  // mpop: no list or top of its own; retrieval keeps the messages.
  { client: 'mpop', feature: 'login', skip: needsLogin, run: command((c) => mpop(c, ['--status-only'])) },
  { client: 'mpop', feature: 'tls', skip: allOf(needsLogin, explicitTls), run: command((c) => mpop(c, ['--status-only'], true)) },
  {
    client: 'mpop',
    feature: 'retrieve',
    skip: allOf(needsLogin, needsSample),
    run: command(
      (c) => mpop(c, ['--quiet']),
      (_r, c) => mboxMessages(c),
    ),
  },
  { client: 'mpop', feature: 'delete', skip: () => NO_DELETE, run: async () => NO_DELETE },
  // fetchmail
  { client: 'fetchmail', feature: 'login', skip: needsLogin, run: (c) => fetchmailCheck(c) },
  { client: 'fetchmail', feature: 'tls', skip: allOf(needsLogin, explicitTls), run: (c) => fetchmailCheck(c, true) },
  {
    client: 'fetchmail',
    feature: 'retrieve',
    skip: allOf(needsLogin, needsSample),
    run: command(
      (c) => fetchmail(c, []),
      async (_r, c) =>
        (await readFile(join(c.dir, 'mail'), 'latin1').catch(() => '')).includes('\n') ? undefined : 'no message reached the MDA',
    ),
  },
  { client: 'fetchmail', feature: 'delete', skip: () => NO_DELETE, run: async () => NO_DELETE },
  // Python's poplib
  { client: 'python', library: 'poplib', feature: 'login', skip: needsLogin, run: poplib('login') },
  { client: 'python', library: 'poplib', feature: 'tls', skip: allOf(needsLogin, explicitTls), run: poplib('tls') },
  {
    client: 'python',
    library: 'poplib',
    feature: 'list',
    skip: needsLogin,
    run: poplib('list', sameCounts),
  },
  {
    client: 'python',
    library: 'poplib',
    feature: 'retrieve',
    skip: allOf(needsLogin, needsSample),
    run: poplib('retrieve', (out, c) => sameAsSample(c, out['sha'] as string)),
  },
  {
    client: 'python',
    library: 'poplib',
    feature: 'top',
    skip: allOf(needsLogin, needsSample, needsCapability('TOP')),
    run: poplib('top', (out) => (Number(out['lines']) > 0 ? undefined : 'TOP gave no lines')),
  },
  { client: 'python', library: 'poplib', feature: 'delete', skip: allOf(needsLogin, needsSample), run: poplib('delete') },
  // node-pop3 (npm): no STLS, implicit TLS only
  { client: 'node-pop3', feature: 'login', skip: needsLogin, run: nodePop3('login') },
  { client: 'node-pop3', feature: 'tls', skip: allOf(needsLogin, noStls), run: nodePop3('tls') },
  { client: 'node-pop3', feature: 'list', skip: needsLogin, run: nodePop3('list', sameCounts) },
  { client: 'node-pop3', feature: 'retrieve', skip: allOf(needsLogin, needsSample), run: nodePop3('retrieve', nodePop3Same) },
  {
    client: 'node-pop3',
    feature: 'top',
    skip: allOf(needsLogin, needsSample, needsCapability('TOP')),
    run: nodePop3('top', (out) => (Number(out['lines']) > 0 ? undefined : 'TOP gave no lines')),
  },
  { client: 'node-pop3', feature: 'delete', skip: allOf(needsLogin, needsSample), run: nodePop3('delete') },
];
