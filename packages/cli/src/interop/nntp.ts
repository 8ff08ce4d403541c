/**
 * NNTP and NNTPS: Python's nntplib (login, STARTTLS or nntps://, list, overview, retrieve, post)
 * and suck/rpost (retrieve, post; neither speaks TLS). A probe on the wire reads CAPABILITIES,
 * picks the group (the URL's, or the first with articles) and the newest article every retrieve is
 * compared with. Posting needs --write: it posts one uniquely identified article.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { allOf, command, needsCapability, needsSample, needsWrite, python, sameAsSample } from './kit.js';
import { NNTPLIB } from './python.js';
import type { Context, Outcome, Probe, Scenario, Settings, Target } from './types.js';
import { Wire } from './wire.js';

async function expect(wire: Wire, codes: string[], what: string): Promise<string> {
  const line = await wire.line();
  if (!codes.some((c) => line.startsWith(c))) throw new Error(`${what}: ${line.slice(0, 120)}`);
  return line;
}

/** A reader session on the wire: greeting, MODE READER, AUTHINFO when there are credentials. */
async function session(t: Target, s: Settings): Promise<Wire> {
  const wire = await Wire.open(t.host, t.port, t.implicitTls, s.timeoutMs);
  try {
    await expect(wire, ['200', '201'], 'greeting');
    wire.send('MODE READER');
    await wire.line();
    if (t.user !== undefined) {
      wire.send(`AUTHINFO USER ${t.user}`);
      if ((await expect(wire, ['281', '381'], 'AUTHINFO USER')).startsWith('381')) {
        wire.send(`AUTHINFO PASS ${t.password ?? ''}`);
        await expect(wire, ['281'], 'AUTHINFO PASS');
      }
    }
    return wire;
  } catch (err) {
    wire.close();
    throw err;
  }
}

/** CAPABILITIES, the group to read (the URL's or the first with articles) and its newest article. */
export async function probeNntp(t: Target, s: Settings): Promise<Probe> {
  let wire: Wire | undefined;
  try {
    const first = await Wire.open(t.host, t.port, t.implicitTls, s.timeoutMs);
    let capabilities: Set<string> | undefined;
    try {
      await expect(first, ['200', '201'], 'greeting');
      first.send('CAPABILITIES');
      if ((await first.line()).startsWith('101')) {
        const lines = (await first.body()).toString('latin1').split('\r\n').filter(Boolean);
        capabilities = new Set(lines.flatMap((l) => [l.toUpperCase(), l.split(' ')[0]!.toUpperCase()]));
      }
    } finally {
      first.close();
    }
    const base = capabilities ? { capabilities } : {};
    wire = await session(t, s);
    let group = t.path.split('/')[0] || undefined;
    if (!group) {
      wire.send('LIST ACTIVE');
      await expect(wire, ['215'], 'LIST ACTIVE');
      const active = (await wire.body()).toString('latin1').split('\r\n').filter(Boolean);
      group = active
        .map((l) => l.split(' '))
        .find(([name, high, low]) => name && !/^(control|junk)(\.|$)/.test(name) && Number(high) >= Number(low) && Number(high) > 0)?.[0];
      if (!group) return { ...base, noSample: 'no group with articles: name one in the URL (nntp://host/group)' };
    }
    wire.send(`GROUP ${group}`);
    const [, count, low, high] = (await expect(wire, ['211'], `GROUP ${group}`)).split(' ');
    if (Number(count) === 0) return { ...base, group, noSample: `${group} is empty` };
    // The newest article: suck, limited to one article, fetches the newest.
    wire.send(`ARTICLE ${high}`);
    let number = Number(high);
    let head = await wire.line();
    if (!head.startsWith('220')) {
      number = Number(low);
      wire.send(`ARTICLE ${low}`);
      head = await expect(wire, ['220'], `ARTICLE ${low}`);
    }
    const data = await wire.body();
    wire.send('QUIT');
    const messageId = head.split(' ')[2];
    return { ...base, group, number, ...(messageId ? { messageId } : {}), sample: { name: `${group} ${number}`, data } };
  } catch (err) {
    return { error: `probe: ${messageOf(err)}` };
  } finally {
    wire?.close();
  }
}

/** Is the article there? (The check after a post.) */
async function hasArticle(c: Context, messageId: string): Promise<Outcome> {
  const wire = await session(c.target, c.settings);
  try {
    wire.send(`STAT ${messageId}`);
    const line = await wire.line();
    return line.startsWith('223') ? undefined : `the posted article is not there: ${line.slice(0, 80)}`;
  } finally {
    wire.close();
  }
}

const needsLogin = (c: Context): string | undefined =>
  c.target.user === undefined ? 'give credentials (URL userinfo or --user/--password)' : undefined;
const starttls = needsCapability('STARTTLS');
const explicitTls = (c: Context): string | undefined => (c.target.implicitTls ? undefined : starttls(c));
const needsGroup = (c: Context): string | undefined => (c.probe.group ? undefined : (c.probe.noSample ?? 'no group found to read'));
const postGroup = (c: Context): string | undefined => c.settings.postGroup ?? c.probe.group;
const canPost = allOf(needsWrite('post one uniquely identified article'), (c) => (postGroup(c) ? undefined : 'give --post-group'));
const noTls = (c: Context): string | undefined => (c.target.implicitTls ? 'the client has no TLS' : undefined);

function article(c: Context, messageId: string): string {
  return [
    'From: gorgon interop <interop@gorgon.invalid>',
    `Newsgroups: ${postGroup(c)}`,
    `Subject: gorgon interop test (${c.client.id})`,
    `Message-ID: ${messageId}`,
    '',
    `Posted by gorgon interop to test ${c.client.id}.`,
    '',
  ].join('\n');
}
const newId = (c: Context): string => `<${c.unique('')}@gorgon.invalid>`;

// suck: the newest article of the group into a directory of files (-m), user and password as flags;
// -M sends MODE READER first, without which INN's innd (transit mode) answers GROUP with 401.
async function suck(c: Context): Promise<string[]> {
  await writeFile(join(c.dir, 'sucknewsrc'), `${c.probe.group} ${c.probe.number! - 1} 1\n`);
  const auth = c.target.user !== undefined ? ['-U', c.target.user, '-P', c.target.password ?? ''] : [];
  for (const d of ['msgs', 'tmp']) await mkdir(join(c.dir, d));
  return [
    'suck',
    c.target.host,
    '-N',
    String(c.target.port),
    ...auth,
    '-dd',
    c.dir,
    '-dm',
    join(c.dir, 'msgs'),
    '-dt',
    join(c.dir, 'tmp'),
    '-m',
    '-M',
    '-q',
  ];
}
async function suckGotSample(c: Context): Promise<Outcome> {
  const files = await readdir(join(c.dir, 'msgs')).catch(() => []);
  for (const f of files) {
    const text = await readFile(join(c.dir, 'msgs', f), 'latin1');
    if (c.probe.messageId && text.includes(c.probe.messageId)) return undefined;
  }
  return `no file holds ${c.probe.messageId ?? 'the article'}`;
}

const nntplib = (
  feature: string,
  extra: (c: Context) => Record<string, unknown>,
  check?: (out: Record<string, unknown>, c: Context) => Outcome,
) => python(NNTPLIB, extra, check)(feature);

/** The NNTP table: client × feature → command. */
export const nntpScenarios: Scenario[] = [
  // Python's nntplib
  { client: 'python', library: 'nntplib', feature: 'login', skip: needsLogin, run: nntplib('login', () => ({})) },
  {
    client: 'python',
    library: 'nntplib',
    feature: 'tls',
    skip: explicitTls,
    run: nntplib('tls', (c) => ({ group: c.probe.group ?? null })),
  },
  {
    client: 'python',
    library: 'nntplib',
    feature: 'list',
    run: nntplib(
      'list',
      (c) => ({ group: c.probe.group ?? null }),
      (out) => (out['found'] ? undefined : 'LIST does not name the group read'),
    ),
  },
  {
    client: 'python',
    library: 'nntplib',
    feature: 'overview',
    skip: needsGroup,
    run: nntplib(
      'overview',
      (c) => ({ group: c.probe.group }),
      (out) => (Number(out['overviews']) === Number(out['count']) || Number(out['overviews']) > 0 ? undefined : 'OVER gave no lines'),
    ),
  },
  {
    client: 'python',
    library: 'nntplib',
    feature: 'retrieve',
    skip: needsSample,
    run: nntplib(
      'retrieve',
      (c) => ({ group: c.probe.group, number: c.probe.number }),
      (out, c) => sameAsSample(c, out['sha'] as string),
    ),
  },
  {
    client: 'python',
    library: 'nntplib',
    feature: 'post',
    skip: canPost,
    run: async (c) => {
      const messageId = newId(c);
      return nntplib('post', () => ({ group: postGroup(c), messageId, article: article(c, messageId) }))(c);
    },
  },
  // suck and rpost (Debian's suck package): plain NNTP only.
  { client: 'suck', feature: 'tls', skip: () => 'the client has no TLS', run: async () => undefined },
  { client: 'suck', feature: 'retrieve', skip: allOf(noTls, needsSample), run: command(suck, (_r, c) => suckGotSample(c)) },
  { client: 'rpost', feature: 'tls', skip: () => 'the client has no TLS', run: async () => undefined },
  {
    client: 'rpost',
    feature: 'post',
    skip: allOf(noTls, canPost),
    run: async (c) => {
      const messageId = newId(c);
      const auth = c.target.user !== undefined ? ['-U', c.target.user, '-P', c.target.password ?? ''] : [];
      return command(
        () => ({ argv: ['rpost', c.target.host, '-N', String(c.target.port), ...auth, '-M'], options: { input: article(c, messageId) } }),
        () => hasArticle(c, messageId),
      )(c);
    },
  },
];
