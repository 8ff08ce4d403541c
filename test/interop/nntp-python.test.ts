/**
 * Python's nntplib (standard library up to 3.12) against the Gorgon NNTP server on loopback:
 * capabilities, starttls, login, group, over, article, head, body, post, newnews, list, xhdr,
 * and NNTP_SSL (implicit TLS). Debian package: python3.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { available, CI, need, run } from './pop3-fixtures.js';
import { PASSWORD, startNntp, USER, type NntpFixture } from './nntp-fixtures.js';

const PYTHON = '/usr/bin/python3';

const READER = `
import base64, json, nntplib, ssl, sys, warnings
warnings.simplefilter('ignore')
host, port, mode, cafile, user, password = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cafile)
if mode == 'ssl':
    s = nntplib.NNTP_SSL(host, int(port), ssl_context=ctx, readermode=True, timeout=20)
else:
    s = nntplib.NNTP(host, int(port), readermode=True, timeout=20)
out = {'welcome': s.getwelcome()}
out['caps_before'] = sorted(s.getcapabilities().keys())
if mode == 'starttls':
    s.starttls(context=ctx)
    out['caps_tls'] = sorted(s.getcapabilities().keys())
s.login(user, password, usenetrc=False)
out['caps_after'] = sorted(s.getcapabilities().keys())
resp, count, first, last, name = s.group('gorgon.test')
out['group'] = [resp, count, first, last, name]
resp, overviews = s.over((first, last))
out['over'] = [[n, o['subject'], o['message-id'], o[':bytes'], o[':lines']] for n, o in overviews]
resp, info = s.article('<first@example.org>')
out['article'] = base64.b64encode(b'\\r\\n'.join(info.lines) + b'\\r\\n').decode()
resp, info = s.body(2)
out['body2'] = [l.decode('latin1') for l in info.lines]
resp, info = s.head(1)
out['head1'] = [l.decode('latin1') for l in info.lines]
resp, lines = s.xhdr('subject', '1-3')
out['xhdr'] = lines
resp, groups = s.list()
out['list'] = sorted([g.group, int(g.last), int(g.first), g.flag] for g in groups)
resp, descs = s.descriptions('gorgon.*')
out['descriptions'] = descs
posted = 'From: py@example.org\\r\\nNewsgroups: gorgon.test\\r\\nSubject: from nntplib\\r\\n\\r\\nposted by python\\r\\n.dotted\\r\\n'
out['post'] = s.post(posted.encode().splitlines())
resp, count, first, last, name = s.group('gorgon.test')
out['after_post'] = [count, first, last]
resp, info = s.body(last)
out['posted_body'] = [l.decode() for l in info.lines]
import datetime
resp, ids = s.newnews('gorgon.*', datetime.datetime(2000, 1, 1))
out['newnews'] = len(ids)
out['date'] = str(s.date()[1].year)
out['quit'] = s.quit()
print(json.dumps(out))
`;

let fixture: NntpFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/**
 * The python3 first on PATH when it is not Debian's: on this machine an upstream CPython 3.11,
 * a strict TLS reader (a TLS connection ending without close_notify is an error there;
 * ../shared/INTEROP.md). Its nntplib runs the same sessions.
 */
function strictPython(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    const candidate = join(dir, 'python3');
    if (dir !== '/usr/bin' && dir !== '/bin' && available(candidate)) return candidate;
  }
  return undefined;
}

let interpreter = PYTHON;

async function python(args: string[]): Promise<Record<string, unknown>> {
  need(interpreter, 'python3');
  const path = join(fixture!.dir, 'reader.py');
  await writeFile(path, READER);
  const r = await run(interpreter, [path, ...args]);
  if (r.code !== 0) throw new Error(`${interpreter} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>;
}

const skip = !CI && !available(PYTHON);
const strict = strictPython();
const interpreters: Array<[string, string]> = [["Debian's python3", PYTHON]];
if (strict) interpreters.push(['the strict upstream python3 on PATH', strict]);

describe.skipIf(skip).each(interpreters)('Python nntplib against gorgon nntpd (%s)', (_name, bin) => {
  beforeEach(() => {
    interpreter = bin;
  });
  it('capabilities, STARTTLS, AUTHINFO, GROUP, OVER, ARTICLE/HEAD/BODY, XHDR, LIST, POST, NEWNEWS, DATE', async () => {
    fixture = await startNntp();
    const r = await python(['localhost', String(fixture.port), 'starttls', fixture.certPath, USER, PASSWORD]);
    expect(r['caps_before']).toEqual(expect.arrayContaining(['VERSION', 'READER', 'STARTTLS', 'OVER', 'POST']));
    expect(r['caps_tls']).not.toContain('STARTTLS');
    expect(r['caps_after']).not.toContain('AUTHINFO');
    expect(r['group']).toEqual(['211 3 1 3 gorgon.test', 3, 1, 3, 'gorgon.test']);
    expect(r['over']).toEqual([
      [1, 'first article', '<first@example.org>', expect.stringMatching(/^\d+$/), '3'],
      [2, 'Re: first article', '<second@example.org>', expect.stringMatching(/^\d+$/), '1'],
      [3, 'third', '<third@example.org>', expect.stringMatching(/^\d+$/), '1'],
    ]);
    const stored = (await fixture.store.articleById('<first@example.org>'))!;
    expect(Buffer.from(r['article'] as string, 'base64').equals(stored.data)).toBe(true);
    expect(r['body2']).toEqual(['A reply.']);
    expect(r['head1']).toContain('Subject: first article');
    expect(r['xhdr']).toEqual([
      ['1', 'first article'],
      ['2', 'Re: first article'],
      ['3', 'third'],
    ]);
    expect(r['list']).toEqual([
      ['comp.lang.misc', 1, 1, 'y'],
      ['gorgon.empty', 0, 1, 'y'],
      ['gorgon.test', 3, 1, 'y'],
    ]);
    expect(r['descriptions']).toMatchObject({ 'gorgon.test': 'tests' });
    expect(r['post']).toMatch(/^240 /);
    expect(r['after_post']).toEqual([4, 1, 4]);
    expect(r['posted_body']).toEqual(['posted by python', '.dotted']);
    expect(r['newnews']).toBe(4);
    expect(r['quit']).toMatch(/^205 /);
  });

  it('NNTP_SSL on the implicit-TLS port', async () => {
    fixture = await startNntp();
    const r = await python(['localhost', String(fixture.tlsPort), 'ssl', fixture.certPath, USER, PASSWORD]);
    expect(r['caps_before']).not.toContain('STARTTLS');
    expect(r['group']).toEqual(['211 3 1 3 gorgon.test', 3, 1, 3, 'gorgon.test']);
  });
});
