/**
 * @gorgon/pop3 against stock clients on loopback: Python's poplib (USER/PASS, APOP, STLS,
 * pop3s, TOP, UIDL, DELE then QUIT, a pipelined session), node-pop3, curl, fetchmail and mpop
 * (which pipelines its commands).
 * Every test checks that the retrieved messages are byte-identical to what was delivered and
 * that deletions happen only after QUIT.
 * Debian packages: curl fetchmail mpop python3 (poplib is in the standard library).
 * @see RFC 1939, RFC 2449, RFC 2595, RFC 5034
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Pop3Command from 'node-pop3';
import { wireSize } from '@gorgon/pop3';
import { available, APOP_SECRET, CI, need, PASSWORD, run, startPop3, unstuff, USER, type Pop3Fixture } from './pop3-fixtures.js';
import { HOSTILE, PIPELINED, POPLIB_DELE, POPLIB_FETCH } from './pop3-python.js';

const PYTHON = '/usr/bin/python3';
const CURL = '/usr/bin/curl';
const FETCHMAIL = '/usr/bin/fetchmail';
const MPOP = '/usr/bin/mpop';

let fixture: Pop3Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function python(script: string, args: string[], input?: string, interpreter = PYTHON): Promise<unknown> {
  need(interpreter, 'python3');
  const path = join(fixture!.dir, `script-${Math.random().toString(36).slice(2)}.py`);
  await writeFile(path, script);
  const r = await run(interpreter, [path, ...args], input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`python3 exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString());
}

interface FetchResult {
  caps: string[];
  stat: [number, number];
  list: string[];
  uidl: string[];
  messages: string[];
  tops: string[];
}

function expectIdentical(received: Buffer[], delivered: Buffer[]): void {
  expect(received.length).toBe(delivered.length);
  received.forEach((r, i) => {
    expect(r.equals(delivered[i]!), `message ${i + 1} differs`).toBe(true);
  });
}

function headerOf(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  return message.subarray(0, end + 4);
}

const skipUnlessPython = !CI && !available(PYTHON);

describe('Python poplib', () => {
  it.skipIf(skipUnlessPython)('USER/PASS: STAT, LIST, UIDL, RETR and TOP match what was delivered', async () => {
    fixture = await startPop3();
    const r = (await python(POPLIB_FETCH, ['127.0.0.1', String(fixture.port), 'user', '', USER, PASSWORD])) as FetchResult;
    const sizes = fixture.messages.map((m) => wireSize(m));
    expect(r.stat).toEqual([4, sizes.reduce((a, b) => a + b, 0)]);
    expect(r.list).toEqual(sizes.map((s, i) => `${i + 1} ${s}`));
    expect(r.uidl).toHaveLength(4);
    expect(r.caps).toEqual(expect.arrayContaining(['TOP', 'UIDL', 'USER', 'SASL', 'STLS', 'PIPELINING', 'RESP-CODES']));
    expectIdentical(
      r.messages.map((m) => Buffer.from(m, 'base64')),
      fixture.messages,
    );
    expectIdentical(
      r.tops.map((m) => Buffer.from(m, 'base64')),
      fixture.messages.map(headerOf),
    );
    expect(await fixture.stored()).toHaveLength(4);
  });

  it.skipIf(skipUnlessPython)('APOP with the greeting timestamp', async () => {
    fixture = await startPop3({ mechanisms: ['apop'] });
    const r = (await python(POPLIB_FETCH, ['127.0.0.1', String(fixture.port), 'apop', '', USER, APOP_SECRET])) as FetchResult;
    expectIdentical(
      r.messages.map((m) => Buffer.from(m, 'base64')),
      fixture.messages,
    );
    expect(r.caps).not.toContain('USER');
  });

  it.skipIf(skipUnlessPython)('STLS, then USER/PASS over TLS, with cleartext logins refused off loopback', async () => {
    fixture = await startPop3({ requireTlsForPlaintext: true });
    const r = (await python(POPLIB_FETCH, ['localhost', String(fixture.port), 'stls', fixture.certPath, USER, PASSWORD])) as FetchResult;
    expect(r.caps).not.toContain('STLS');
    expectIdentical(
      r.messages.map((m) => Buffer.from(m, 'base64')),
      fixture.messages,
    );
  });

  it.skipIf(skipUnlessPython)('implicit TLS (POP3_SSL)', async () => {
    fixture = await startPop3();
    const r = (await python(POPLIB_FETCH, ['localhost', String(fixture.tlsPort), 'ssl', fixture.certPath, USER, PASSWORD])) as FetchResult;
    expectIdentical(
      r.messages.map((m) => Buffer.from(m, 'base64')),
      fixture.messages,
    );
  });

  it.skipIf(skipUnlessPython)('DELE marks, and the messages go only after QUIT', async () => {
    need(PYTHON, 'python3');
    fixture = await startPop3();
    const path = join(fixture.dir, 'dele.py');
    await writeFile(path, POPLIB_DELE);
    const child = spawn(PYTHON, [path, '127.0.0.1', String(fixture.port), USER, PASSWORD], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let out = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const marked = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Wait for the whole line: "marked" and its count may arrive in separate reads.
        if (/marked[^\n]*\n/.test(out)) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await Promise.race([marked, exited]);
    expect(out, stderr).toContain('marked 2');
    expect(await fixture.stored()).toHaveLength(4); // marked, not removed
    child.stdin.end('go\n');
    expect(await exited).toBe(0);
    clearTimeout(timer);
    expect(out).toContain('+OK Gorgon POP3 server signing off (2 messages left)');
    const left = await fixture.stored();
    expect(left).toHaveLength(2);
    const contents = await Promise.all(left.map((n) => readFile(join(fixture!.root, USER, 'cur', n))));
    expect(contents.map(String).sort()).toEqual(fixture.messages.slice(2).map(String).sort());
  });

  it.skipIf(skipUnlessPython)('a pipelined session gets every reply in order', async () => {
    fixture = await startPop3();
    const r = (await python(PIPELINED, ['127.0.0.1', String(fixture.port), USER, PASSWORD])) as {
      greeting: string;
      replies: Array<{ cmd: string; status: string; body: string }>;
      after: string;
    };
    expect(r.greeting).toMatch(/^\+OK/);
    expect(r.replies.map((x) => x.cmd)).toEqual(['CAPA', 'USER', 'PASS', 'STAT', 'LIST', 'RETR', 'RETR', 'UIDL', 'NOOP', 'QUIT']);
    for (const reply of r.replies) expect(reply.status, reply.cmd).toMatch(/^\+OK/);
    const bodies = r.replies.filter((x) => x.cmd === 'RETR').map((x) => unstuff(Buffer.from(x.body, 'base64')));
    expectIdentical(bodies, fixture.messages.slice(0, 2));
    expect(r.after).toBe('');
  });
  it.skipIf(skipUnlessPython)('hostile input over a real socket: every line answered, then a normal session', async () => {
    fixture = await startPop3();
    const r = (await python(HOSTILE, ['127.0.0.1', String(fixture.port), USER, PASSWORD])) as { lines: string[]; body: string };
    expect(r.lines).toEqual([
      '+OK Gorgon POP3 server ready',
      '-ERR command not valid in this state',
      '-ERR command not valid in this state',
      '-ERR unknown command',
      '-ERR command line too long',
      '-ERR unknown command',
      '+OK send PASS',
      `+OK maildrop has 4 messages (${fixture.messages.reduce((a, m) => a + wireSize(m), 0)} octets)`,
      '-ERR no such message, only 4 messages in maildrop',
      `+OK ${wireSize(fixture.messages[0]!)} octets`,
      '+OK Gorgon POP3 server signing off (4 messages left)',
    ]);
    expect(unstuff(Buffer.from(r.body, 'base64')).equals(fixture.messages[0]!)).toBe(true);
  });
});

const withCrlf = (text: string): string => text.replace(/(?:\r\n)?$/, '\r\n');

/**
 * The python3 first on PATH when it is not Debian's: here an upstream CPython 3.11, a strict TLS
 * reader (a TLS connection that ends without close_notify is an error; ../shared/INTEROP.md).
 */
const STRICT_PYTHON = (process.env['PATH'] ?? '')
  .split(':')
  .filter((dir) => dir !== '/usr/bin' && dir !== '/bin')
  .map((dir) => join(dir, 'python3'))
  .find((candidate) => available(candidate));

describe.skipIf(STRICT_PYTHON === undefined)('strict poplib (upstream CPython): STLS and POP3_SSL sessions end cleanly', () => {
  it.each(['stls', 'ssl'] as const)('%s: every message as delivered, QUIT answered, no TLS error', async (mode) => {
    fixture = await startPop3();
    const port = mode === 'ssl' ? fixture.tlsPort : fixture.port;
    const r = (await python(
      POPLIB_FETCH,
      ['localhost', String(port), mode, fixture.certPath, USER, PASSWORD],
      undefined,
      STRICT_PYTHON,
    )) as FetchResult;
    expectIdentical(
      r.messages.map((m) => Buffer.from(m, 'base64')),
      fixture.messages,
    );
  });
});

describe('node-pop3 (does not remove dot-stuffing)', () => {
  it('RETR, UIDL, TOP, and DELE that takes effect at QUIT', async () => {
    fixture = await startPop3({ mechanisms: ['user'] });
    const pop3 = new Pop3Command({ host: '127.0.0.1', port: fixture.port, user: USER, password: PASSWORD });
    let quit = false;
    try {
      // Depending on its build, node-pop3 keeps or drops the CRLF before the terminating ".":
      // put exactly one back. It decodes as UTF-8, so the ASCII messages are compared.
      for (const i of [0, 1, 3]) {
        const text = await pop3.RETR(i + 1);
        expect(unstuff(Buffer.from(withCrlf(text))).equals(fixture.messages[i]!), `message ${i + 1} differs`).toBe(true);
      }
      const uidl = await pop3.UIDL();
      expect(uidl).toHaveLength(4);
      const top = await pop3.TOP(2, 0);
      expect(withCrlf(top)).toBe(headerOf(fixture.messages[1]!).toString().slice(0, -2));
      await pop3.command('DELE', 1);
      expect(await fixture.stored()).toHaveLength(4);
      quit = true;
      await pop3.QUIT();
    } finally {
      if (!quit) await pop3.QUIT().catch(() => undefined);
    }
    for (let i = 0; i < 100 && (await fixture.stored()).length === 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await fixture.stored()).toHaveLength(3);
  });
});

const skipUnlessCurl = !CI && !available(CURL);

describe('curl', () => {
  const curl = async (args: string[]) => {
    need(CURL, 'curl');
    return run(CURL, ['-sS', '--max-time', '20', ...args]);
  };

  it.skipIf(skipUnlessCurl)('pop3:// LIST and RETR of every message, byte-identical (USER/PASS forced by the offer)', async () => {
    fixture = await startPop3({ mechanisms: ['user'] });
    const base = `pop3://127.0.0.1:${fixture.port}`;
    const list = await curl(['--user', `${USER}:${PASSWORD}`, `${base}/`]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.toString()).toBe(fixture.messages.map((m, i) => `${i + 1} ${wireSize(m)}\r\n`).join(''));
    // One at a time: a second concurrent login would get -ERR [IN-USE] (the maildrop lock).
    const bodies: Buffer[] = [];
    for (let i = 1; i <= fixture.messages.length; i++) bodies.push((await curl(['--user', `${USER}:${PASSWORD}`, `${base}/${i}`])).stdout);
    expectIdentical(bodies, fixture.messages);
  });

  it.skipIf(skipUnlessCurl)('-X UIDL and -X "TOP 1 0" with SASL PLAIN', async () => {
    fixture = await startPop3();
    const base = `pop3://127.0.0.1:${fixture.port}/`;
    const uidl = await curl(['--user', `${USER}:${PASSWORD}`, '-X', 'UIDL', base]);
    expect(uidl.code, uidl.stderr).toBe(0);
    expect(uidl.stdout.toString()).toMatch(/^1 \S+\r\n2 \S+\r\n3 \S+\r\n4 \S+\r\n$/);
    const top = await curl(['--user', `${USER}:${PASSWORD}`, '-X', 'TOP 1 0', base]);
    expect(top.stdout.equals(headerOf(fixture.messages[0]!))).toBe(true);
  });

  it.skipIf(skipUnlessCurl)('--ssl-reqd upgrades with STLS; pop3s:// uses implicit TLS', async () => {
    fixture = await startPop3({ requireTlsForPlaintext: true, mechanisms: ['user'] });
    const stls = await curl([
      '--ssl-reqd',
      '--cacert',
      fixture.certPath,
      '--user',
      `${USER}:${PASSWORD}`,
      `pop3://localhost:${fixture.port}/2`,
    ]);
    expect(stls.code, stls.stderr).toBe(0);
    expect(stls.stdout.equals(fixture.messages[1]!)).toBe(true);
    const implicit = await curl(['--cacert', fixture.certPath, '--user', `${USER}:${PASSWORD}`, `pop3s://localhost:${fixture.tlsPort}/4`]);
    expect(implicit.code, implicit.stderr).toBe(0);
    expect(implicit.stdout.equals(fixture.messages[3]!)).toBe(true);
  });

  it.skipIf(skipUnlessCurl)('APOP when offered, a wrong password exits 67, DELE takes effect at QUIT', async () => {
    fixture = await startPop3({ mechanisms: ['user', 'apop'] });
    const base = `pop3://127.0.0.1:${fixture.port}`;
    const apop = await curl(['--user', `${USER}:${APOP_SECRET}`, `${base}/3`]);
    expect(apop.code, apop.stderr).toBe(0);
    expect(apop.stdout.equals(fixture.messages[2]!)).toBe(true);
    const wrong = await curl(['--user', `${USER}:nope`, `${base}/`]);
    expect(wrong.code).toBe(67);
    const dele = await curl(['--user', `${USER}:${APOP_SECRET}`, '-X', 'DELE', '-I', `${base}/1`]);
    expect(dele.code, dele.stderr).toBe(0);
    expect(await fixture.stored()).toHaveLength(3);
  });
});

const skipUnlessFetchmail = !CI && !available(FETCHMAIL);

describe('fetchmail (MDA writing each message to a file)', () => {
  async function fetchmail(keep: boolean): Promise<{ code: number | null; files: Buffer[]; log: string }> {
    need(FETCHMAIL, 'fetchmail');
    const home = join(fixture!.dir, 'home');
    const out = join(fixture!.dir, 'out');
    await mkdir(home, { recursive: true });
    await mkdir(out, { recursive: true });
    const mda = join(fixture!.dir, 'mda.sh');
    await writeFile(mda, `#!/bin/sh\nexec cat > "$(mktemp '${out}/msg.XXXXXX')"\n`, { mode: 0o755 });
    const rc = join(home, 'fetchmailrc');
    await writeFile(
      rc,
      [
        'set no bouncemail',
        `poll 127.0.0.1 with protocol POP3 port ${fixture!.port} uidl`,
        `  user "${USER}" there with password "${PASSWORD}" is "${USER}" here`,
        `  mda "${mda}"`,
        `  ${keep ? 'keep' : 'no keep'} fetchall`,
        "  sslproto ''",
        '',
      ].join('\n'),
    );
    await chmod(rc, 0o600);
    const r = await run(FETCHMAIL, ['-f', rc, '-i', join(home, '.fetchids'), '--nodetach', '--nosyslog', '-v'], {
      env: { ...process.env, HOME: home },
      timeoutMs: 45_000,
    });
    const names = (await readdir(out)).sort();
    const files = await Promise.all(names.map((n) => readFile(join(out, n))));
    return { code: r.code, files, log: r.stderr + r.stdout.toString() };
  }

  /** fetchmail hands the MDA LF line ends and puts its Received: header first. */
  function asDelivered(file: Buffer): string {
    const text = file.toString('latin1');
    return text.replace(/^Received: [^\n]*\n(?:[ \t][^\n]*\n)*/, '');
  }
  const asLf = (m: Buffer): string => m.toString('latin1').replace(/\r\n/g, '\n');

  it.skipIf(skipUnlessFetchmail)('keep mode: every message arrives intact and stays on the server', async () => {
    fixture = await startPop3({ mechanisms: ['user'] });
    const r = await fetchmail(true);
    expect(r.code, r.log).toBe(0);
    expect(r.files.map(asDelivered).sort()).toEqual(fixture.messages.map(asLf).sort());
    expect(await fixture.stored()).toHaveLength(4);
  });

  it.skipIf(skipUnlessFetchmail)('delete mode: every message arrives intact, then is removed at QUIT', async () => {
    fixture = await startPop3({ mechanisms: ['user'] });
    const r = await fetchmail(false);
    expect(r.code, r.log).toBe(0);
    expect(r.files.map(asDelivered).sort()).toEqual(fixture.messages.map(asLf).sort());
    expect(r.log).toMatch(/QUIT/);
    expect(await fixture.stored()).toEqual([]);
  });
});

const skipUnlessMpop = !CI && !available(MPOP);

describe('mpop (pipelines its commands; MDA writing each message to a file)', () => {
  async function mpop(extra: string[]): Promise<{ code: number | null; files: string[]; log: string }> {
    need(MPOP, 'mpop');
    const out = join(fixture!.dir, `mpop-out-${Math.random().toString(36).slice(2)}`);
    await mkdir(out, { recursive: true });
    const mda = join(fixture!.dir, 'mpop-mda.sh');
    await writeFile(mda, `#!/bin/sh\nexec cat > "$(mktemp '${out}/msg.XXXXXX')"\n`, { mode: 0o755 });
    const r = await run(
      MPOP,
      [
        '--host=127.0.0.1',
        '--auth=user',
        `--user=${USER}`,
        `--passwordeval=printf '%s' '${PASSWORD}'`,
        '--only-new=off',
        '--received-header=off',
        '--pipelining=on',
        `--delivery=mda,${mda}`,
        `--uidls-file=${join(fixture!.dir, 'mpop-uidls')}`,
        ...extra,
      ],
      { env: { ...process.env, HOME: fixture!.dir }, timeoutMs: 45_000 },
    );
    const names = (await readdir(out)).sort();
    const files = await Promise.all(names.map(async (n) => (await readFile(join(out, n))).toString('latin1')));
    return { code: r.code, files, log: r.stderr + r.stdout.toString() };
  }
  const asLf = (m: Buffer): string => m.toString('latin1').replace(/\r\n/g, '\n');

  it.skipIf(skipUnlessMpop)('pipelined retrieval, keep mode: every message intact and still on the server', async () => {
    fixture = await startPop3({ mechanisms: ['user'] });
    const r = await mpop([`--port=${fixture.port}`, '--tls=off', '--keep=on']);
    expect(r.code, r.log).toBe(0);
    expect(r.files.sort()).toEqual(fixture.messages.map(asLf).sort());
    expect(await fixture.stored()).toHaveLength(4);
  });

  it.skipIf(skipUnlessMpop)('STLS, then delete mode: every message intact, removed at QUIT', async () => {
    fixture = await startPop3({ mechanisms: ['user'], requireTlsForPlaintext: true });
    const r = await mpop([
      `--port=${fixture.port}`,
      '--tls=on',
      '--tls-starttls=on',
      `--tls-trust-file=${fixture.certPath}`,
      '--tls-host-override=localhost',
      '--keep=off',
    ]);
    expect(r.code, r.log).toBe(0);
    expect(r.files.sort()).toEqual(fixture.messages.map(asLf).sort());
    expect(await fixture.stored()).toEqual([]);
  });
});
