/**
 * Scale-out behind HAProxy (docs/scale-out.md), with the built CLI and Debian's haproxy: two
 * `gorgon serve` instances for POP3 and FTP behind one HAProxy that sends PROXY v2 and forwards
 * each instance's passive range to it, one Maildir tree and one FTP root. Stock clients (curl,
 * Python poplib/ftplib) see one service; each instance logs the real client address; concurrent
 * deliveries, retrievals and uploads through both instances lose and duplicate nothing; an
 * instance killed mid-session leaves the other serving and the store consistent, and its
 * restart does not sweep away the other instance's upload in progress.
 * Needs the build (`pnpm build`) and haproxy (scripts/install-clients.sh); fails under CI=true
 * without them, skips elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CI, run } from './pop3-fixtures.js';
import {
  built,
  FRONT,
  HAPROXY,
  haproxyAvailable,
  type Instance,
  killAll,
  MAIN,
  PROXY_SOURCE,
  type Rig,
  startRig,
  USERS,
} from './scale-out-fixtures.js';
import { FTP_HELD_UPLOAD, FTP_UPLOADS, POP3_DRAIN, POP3_HELD, POP3_LOCK } from './scale-out-python.js';

const runnable = CI || (haproxyAvailable && built);

let rig: Rig;
/** Message-IDs delivered and not yet taken, per user. */
const mailbox: Record<string, Set<string>> = { alice: new Set(), bob: new Set() };
let serial = 0;

beforeAll(async () => {
  if (!runnable) return;
  if (!haproxyAvailable) throw new Error(`${HAPROXY} is missing: apt-get install haproxy (scripts/install-clients.sh)`);
  if (!built) throw new Error(`${MAIN} is missing: run pnpm build first`);
  rig = await startRig();
}, 60_000);

/** Python clients held open by a test: killed at the end whatever happened. */
const clients = new Set<ChildProcess>();

afterAll(async () => {
  await killAll([...clients]);
  if (!rig) return;
  await rig.stop();
  await rm(rig.dir, { recursive: true, force: true });
});

/** A message with a unique Message-ID and the checksum of its body (dot lines included). */
function message(user: string): { id: string; text: string } {
  const id = `<${++serial}.${randomBytes(4).toString('hex')}@scale-out>`;
  const lines = [`line one of ${id}`, '.a line that starts with a dot', '..two dots', '.', randomBytes(300).toString('base64')];
  const body = `${lines.join('\r\n')}\r\n`;
  const sum = createHash('sha256').update(body).digest('hex');
  mailbox[user]!.add(id);
  return { id, text: `Message-ID: ${id}\r\nX-Sum: ${sum}\r\nSubject: ${serial}\r\n\r\n${body}` };
}

/** What an MTA does: write under tmp/, then rename into new/ (Maildir's delivery protocol). */
async function deliverLikeMta(user: string): Promise<void> {
  const { text } = message(user);
  const box = join(rig.maildirs, user);
  await Promise.all(['tmp', 'new', 'cur'].map((d) => mkdir(join(box, d), { recursive: true })));
  const name = `${Date.now()}.M${randomBytes(6).toString('hex')}P${process.pid}.scale-test`;
  await writeFile(join(box, 'tmp', name), text);
  await rename(join(box, 'tmp', name), join(box, 'new', name));
}

/** `gorgon deliver USER` as an MDA, in a process of its own. */
async function deliverWithGorgon(user: string): Promise<void> {
  const { text } = message(user);
  const r = await run(process.execPath, [MAIN, 'deliver', user, '--maildirs', rig.maildirs, '--log-level', 'warn'], { input: text });
  expect(r.code, r.stderr).toBe(0);
}

const python = (script: string, args: (string | number)[], timeoutMs = 40_000) =>
  run('python3', ['-c', script, ...args.map(String)], { timeoutMs });
const curl = (args: string[]) => run('curl', ['-sS', '--max-time', '20', ...args]);

/** Log lines of an instance from index `from` on (each test marks where it starts). */
const since = (i: Instance, from: number) => i.log.slice(from);
const marks = () => rig.instances.map((i) => i.log.length) as [number, number];
const logins = (i: Instance, from: number, listener: 'pop3' | 'ftp') =>
  since(i, from).filter((l) => l['event'] === 'login' && l['listener'] === listener);

/** What is stored in a user's Maildir (new/ and cur/). */
async function stored(user: string): Promise<string[]> {
  const dirs = await Promise.all(['new', 'cur'].map((d) => readdir(join(rig.maildirs, user, d)).catch(() => [] as string[])));
  return dirs.flat();
}

describe.skipIf(!runnable)('scale-out: two instances behind HAProxy (PROXY v2, passive ranges, shared storage)', () => {
  it('a stock client sees one service, and its sessions land on both instances', async () => {
    const [ma, mb] = marks();
    await deliverLikeMta('alice');
    await deliverLikeMta('alice');
    for (let n = 0; n < 4; n++) {
      const r = await curl(['--user', `alice:${USERS.alice}`, `pop3://${FRONT}:${rig.pop3Port}/`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString().trim().split(/\r?\n/)).toHaveLength(2);
    }
    // UIDL is the same whichever instance answers (uids come from the shared file names), so a
    // client that leaves mail on the server does not fetch it again from the other instance.
    const uidls = [];
    for (const i of rig.instances) {
      const r = await on(i, 'pop3', () => curl(['--user', `alice:${USERS.alice}`, '-X', 'UIDL', `pop3://${FRONT}:${rig.pop3Port}/`]));
      expect(r.code, r.stderr).toBe(0);
      uidls.push(r.stdout.toString());
    }
    expect(uidls[0]!.trim().split(/\r?\n/)).toHaveLength(2);
    expect(uidls[1]).toBe(uidls[0]);
    const file = join(rig.dir, 'hello.txt');
    await writeFile(file, 'hello through haproxy\n');
    const up = await curl(['--user', `bob:${USERS.bob}`, '-T', file, `ftp://${FRONT}:${rig.ftpPort}/`]);
    expect(up.code, up.stderr).toBe(0);
    for (const epsv of [[], ['--disable-epsv'], [], ['--disable-epsv']]) {
      const r = await curl([...epsv, '--user', `bob:${USERS.bob}`, `ftp://${FRONT}:${rig.ftpPort}/hello.txt`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toBe('hello through haproxy\n');
    }
    const [a, b] = rig.instances;
    // Round robin: each instance took POP3 and FTP sessions.
    expect(logins(a, ma, 'pop3').length).toBeGreaterThanOrEqual(1);
    expect(logins(b, mb, 'pop3').length).toBeGreaterThanOrEqual(1);
    expect(logins(a, ma, 'ftp').length).toBeGreaterThanOrEqual(1);
    expect(logins(b, mb, 'ftp').length).toBeGreaterThanOrEqual(1);
  });

  it("each instance logs the client's address from PROXY v2, never HAProxy's, and takes its passive connections", async () => {
    const [ma, mb] = marks();
    // curl from 127.0.0.2: HAProxy connects from 127.0.0.3; only the PROXY header says .2.
    for (const i of rig.instances) {
      const r = await on(i, 'pop3', () =>
        curl(['--interface', '127.0.0.2', '--user', `alice:${USERS.alice}`, `pop3://${FRONT}:${rig.pop3Port}/1`]),
      );
      expect(r.code, r.stderr).toBe(0);
    }
    // EPSV on one instance, PASV on the other: both data connections through the forwarders.
    for (const [i, epsv] of [
      [rig.instances[0], []],
      [rig.instances[1], ['--disable-epsv']],
    ] as const) {
      const r = await on(i, 'ftp', () =>
        curl([...epsv, '--interface', '127.0.0.2', '--user', `bob:${USERS.bob}`, '-l', `ftp://${FRONT}:${rig.ftpPort}/`]),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString()).toContain('hello.txt');
    }
    rig.instances.forEach((i, n) => {
      const from = [ma, mb][n]!;
      for (const listener of ['pop3', 'ftp'] as const) {
        expect(logins(i, from, listener).map((l) => l['remote'])).toEqual(['127.0.0.2']);
      }
      const lines = since(i, from);
      expect(lines.filter((l) => l['remote'] === PROXY_SOURCE)).toEqual([]);
      // The passive connections came through HAProxy with their PROXY header and were taken.
      expect(lines.filter((l) => /pasv|proxy-refused/.test(String(l['event'])))).toEqual([]);
    });
  });

  it('TLS passes through HAProxy: STLS, and AUTH TLS with PROT P data connections through the passive forwarders', async () => {
    const [ma, mb] = marks();
    const tls = ['--ssl-reqd', '--cacert', rig.certPath];
    for (const i of rig.instances) {
      const r = await on(i, 'pop3', () => curl([...tls, '--user', `alice:${USERS.alice}`, `pop3://${FRONT}:${rig.pop3Port}/`]));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.toString().trim().split(/\r?\n/)).toHaveLength(2);
    }
    const body = randomBytes(300_000);
    const file = join(rig.dir, 'tls-up.bin');
    await writeFile(file, body);
    const [a0, b0] = rig.instances;
    const up = await on(a0, 'ftp', () => curl([...tls, '--user', `bob:${USERS.bob}`, '-T', file, `ftp://${FRONT}:${rig.ftpPort}/`]));
    expect(up.code, up.stderr).toBe(0);
    for (const [i, epsv] of [
      [b0, []],
      [b0, ['--disable-epsv']],
      [a0, ['--disable-epsv']],
    ] as const) {
      const r = await on(i, 'ftp', () => curl([...tls, ...epsv, '--user', `bob:${USERS.bob}`, `ftp://${FRONT}:${rig.ftpPort}/tls-up.bin`]));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.equals(body)).toBe(true);
    }
    expect((await readFile(join(rig.ftpRoot, 'tls-up.bin'))).equals(body)).toBe(true);
    const [a, b] = rig.instances;
    for (const [i, from] of [
      [a, ma],
      [b, mb],
    ] as const) {
      expect(since(i, from).filter((l) => l['event'] === 'stls')).toHaveLength(1);
      expect(logins(i, from, 'ftp').length).toBeGreaterThanOrEqual(1);
    }
  });

  it('two sessions of one user on the two instances: the second gets -ERR [IN-USE] until the first quits', async () => {
    const [ma, mb] = marks();
    const [a, b] = rig.instances;
    // The first session on a (b drained), the second on b (a drained).
    await rig.setState('pop3/b', 'drain');
    const lock = held(POP3_LOCK, [FRONT, rig.pop3Port, 'alice', USERS.alice]);
    try {
      expect(await lock.next()).toBe('first in');
    } finally {
      await rig.setState('pop3/b', 'ready');
    }
    await rig.setState('pop3/a', 'drain');
    let line: string;
    try {
      line = await lock.finish();
    } finally {
      await rig.setState('pop3/a', 'ready');
    }
    const out = JSON.parse(line) as { refused: string | null; second: number };
    expect(out.refused).toMatch(/^-ERR \[IN-USE\]/);
    expect(out.second).toBe(2);
    expect(logins(a, ma, 'pop3')).toHaveLength(1);
    expect(since(a, ma).filter((l) => l['event'] === 'maildrop-refused')).toEqual([]);
    // b refused the lock a held, then logged the second session in once a's QUIT released it.
    expect(
      since(b, mb)
        .filter((l) => l['event'] === 'maildrop-refused')
        .map((l) => l['code']),
    ).toEqual(['in-use']);
    expect(logins(b, mb, 'pop3')).toHaveLength(1);
  });

  it('concurrent deliveries and retrievals (RETR, DELE, QUIT) through both instances lose and duplicate nothing', async () => {
    const [ma, mb] = marks();
    const perUser = 24;
    // The drains start first, each told how many messages it will find in all, and run while
    // the deliveries go on: two per user by `gorgon deliver`, the others as an MTA writes them.
    const targets = { alice: mailbox['alice']!.size + perUser, bob: mailbox['bob']!.size + perUser };
    const drains = drainWithTargets(3, 25, targets);
    const jobs: Promise<void>[] = [];
    for (let n = 0; n < 2 * perUser; n++) {
      const user = n % 2 === 0 ? 'alice' : 'bob';
      jobs.push(n % 24 < 2 ? deliverWithGorgon(user) : deliverLikeMta(user));
      if (n % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(jobs);
    const result = await drains;
    expect(result.sessions).toBeGreaterThanOrEqual(4);
    const [a, b] = rig.instances;
    expect(logins(a, ma, 'pop3').length).toBeGreaterThanOrEqual(1);
    expect(logins(b, mb, 'pop3').length).toBeGreaterThanOrEqual(1);
  });

  it('concurrent uploads through both instances land whole: distinct names intact, one name from four clients is one of them', async () => {
    const [ma, mb] = marks();
    const spec: [string, number, string][] = [];
    for (let n = 0; n < 6; n++) spec.push([`distinct-${n}.bin`, 150_000 + n * 10_007, `d${n}`]);
    for (let n = 0; n < 4; n++) spec.push(['same.bin', 200_000 + n * 65_537, `s${n}`]);
    const r = await python(FTP_UPLOADS, [FRONT, rig.ftpPort, 'bob', USERS.bob, JSON.stringify(spec)]);
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout.toString()) as { results: [string, string, string][] };
    expect(results).toHaveLength(spec.length);
    for (const [, , reply] of results) expect(reply).toMatch(/^226/);
    const sha = async (name: string) =>
      createHash('sha256')
        .update(await readFile(join(rig.ftpRoot, name)))
        .digest('hex');
    for (const [name, sum] of results.filter(([n]) => n.startsWith('distinct-'))) expect(await sha(name)).toBe(sum);
    const candidates = results.filter(([n]) => n === 'same.bin').map(([, sum]) => sum);
    expect(candidates).toContain(await sha('same.bin'));
    // Read back through HAProxy too.
    const back = await curl(['--user', `bob:${USERS.bob}`, `ftp://${FRONT}:${rig.ftpPort}/distinct-3.bin`]);
    expect(createHash('sha256').update(back.stdout).digest('hex')).toBe(results.find(([n]) => n === 'distinct-3.bin')![1]);
    expect((await readdir(rig.ftpRoot)).filter((n) => n.startsWith('.gorgon-upload-'))).toEqual([]);
    const [a, b] = rig.instances;
    expect(logins(a, ma, 'ftp').length).toBeGreaterThanOrEqual(1);
    expect(logins(b, mb, 'ftp').length).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!CI && !existsSync('/usr/bin/lftp'))(
    'lftp mirrors a tree up and back down through HAProxy with parallel sessions on both instances',
    async () => {
      const [ma, mb] = marks();
      const home = join(rig.dir, 'lftp-home');
      const tree = join(rig.dir, 'tree');
      await mkdir(join(tree, 'sub'), { recursive: true });
      const files: Record<string, Buffer> = {};
      for (let n = 0; n < 6; n++) files[n % 2 === 0 ? `f${n}.bin` : `sub/f${n}.bin`] = randomBytes(50_000 + n * 1000);
      for (const [name, data] of Object.entries(files)) await writeFile(join(tree, name), data);
      await mkdir(home, { recursive: true });
      const lftp = (script: string) =>
        run(
          'lftp',
          [
            '-u',
            `bob,${USERS.bob}`,
            '-e',
            `set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes; set ftp:ssl-allow no; ${script}; bye`,
            `ftp://${FRONT}:${rig.ftpPort}`,
          ],
          { env: { HOME: home }, cwd: rig.dir, timeoutMs: 40_000 },
        );
      const up = await lftp('mirror -R --parallel=3 tree mirrored');
      expect(up.code, `${up.stdout.toString()}${up.stderr}`).toBe(0);
      const down = await lftp('mirror --parallel=3 mirrored back');
      expect(down.code, `${down.stdout.toString()}${down.stderr}`).toBe(0);
      for (const [name, data] of Object.entries(files)) {
        expect((await readFile(join(rig.ftpRoot, 'mirrored', name))).equals(data)).toBe(true);
        expect((await readFile(join(rig.dir, 'back', name))).equals(data)).toBe(true);
      }
      const [a, b] = rig.instances;
      expect(logins(a, ma, 'ftp').length).toBeGreaterThanOrEqual(1);
      expect(logins(b, mb, 'ftp').length).toBeGreaterThanOrEqual(1);
    },
  );

  it('an instance that stops answering (SIGSTOP) fails the greeting check: marked down, sessions go to the other, back up after SIGCONT', async () => {
    const [, b] = rig.instances;
    b.process!.kill('SIGSTOP');
    try {
      // The kernel still accepts its connections; only the greeting check sees it is stuck.
      await rig.waitStatus('pop3/b', 'DOWN');
      await rig.waitStatus('ftp/b', 'DOWN');
      const [ma] = marks();
      for (let n = 0; n < 2; n++) {
        const p = await curl(['--user', `alice:${USERS.alice}`, `pop3://${FRONT}:${rig.pop3Port}/`]);
        expect(p.code, p.stderr).toBe(0);
        const f = await curl(['--user', `bob:${USERS.bob}`, '-l', `ftp://${FRONT}:${rig.ftpPort}/`]);
        expect(f.code, f.stderr).toBe(0);
      }
      expect(logins(rig.instances[0], ma, 'pop3')).toHaveLength(2);
      expect(logins(rig.instances[0], ma, 'ftp')).toHaveLength(2);
    } finally {
      b.process!.kill('SIGCONT');
    }
    await rig.waitStatus('pop3/b', 'UP');
    await rig.waitStatus('ftp/b', 'UP');
  });

  it('an instance killed mid-session: HAProxy marks it down, the other serves, the store stays consistent, and its restart spares the other instance’s upload', async () => {
    for (let n = 0; n < 3; n++) {
      await deliverLikeMta('alice');
      await deliverLikeMta('bob');
    }
    const [victim, survivor] = rig.instances;
    // An upload and a POP3 session (alice) held open on the victim, and a POP3 session (bob) on
    // the survivor: HAProxy is steered by draining the other server for each new session.
    const mark = marks();
    const upload = await on(victim, 'ftp', async () => {
      const u = held(FTP_HELD_UPLOAD, [FRONT, rig.ftpPort, 'bob', USERS.bob, 'killed.bin', 400_000]);
      expect(await u.next()).toBe('sending');
      return u;
    });
    const popHeld = async (user: 'alice' | 'bob') => {
      const p = held(POP3_HELD, [FRONT, rig.pop3Port, user, USERS[user]]);
      // It says which two messages it marked.
      const [word, left, ...ids] = (await p.next()).split(' ');
      expect([word, left]).toEqual(['marked', '1']);
      return { p, ids };
    };
    const killed = await on(victim, 'pop3', () => popHeld('alice'));
    const kept = await on(survivor, 'pop3', () => popHeld('bob'));
    expect(instanceOf(mark, 'ftp', 'bob')).toBe(victim);
    expect(instanceOf(mark, 'pop3', 'alice')).toBe(victim);
    expect(instanceOf(mark, 'pop3', 'bob')).toBe(survivor);
    const killedUser = 'alice';
    const keptUser = 'bob';

    victim.process!.kill('SIGKILL');
    await rig.waitStatus(`pop3/${victim.name}`, 'DOWN');
    await rig.waitStatus(`ftp/${victim.name}`, 'DOWN');
    // The held sessions on the dead instance fail; the one on the survivor commits its DELEs.
    expect(await killed.p.finish()).toMatch(/^error/);
    expect(await kept.p.finish()).toMatch(/^\+OK/);
    for (const id of kept.ids) mailbox[keptUser]!.delete(id);
    expect(await upload.finish()).toMatch(/^error/);

    // New sessions all succeed, on the survivor.
    const before = survivor.log.length;
    for (let n = 0; n < 3; n++) {
      const p = await curl(['--user', `${killedUser}:${USERS[killedUser]}`, `pop3://${FRONT}:${rig.pop3Port}/`]);
      expect(p.code, p.stderr).toBe(0);
      // The dead instance's lock on this maildrop is broken (its pid is gone): all 3 are there.
      expect(p.stdout.toString().trim().split(/\r?\n/)).toHaveLength(3);
      const f = await curl(['--user', `bob:${USERS.bob}`, '-l', `ftp://${FRONT}:${rig.ftpPort}/`]);
      expect(f.code, f.stderr).toBe(0);
    }
    expect(logins(survivor, before, 'pop3')).toHaveLength(3);
    expect(logins(survivor, before, 'ftp')).toHaveLength(3);

    // The store: no torn file under the final name, the killed upload's temporary file aside.
    const names = await readdir(rig.ftpRoot);
    expect(names).not.toContain('killed.bin');
    expect(names.filter((n) => n.startsWith('.gorgon-upload-'))).toHaveLength(1);
    // The survivor's session removed 2 of its user's 3 messages; the killed one removed none.
    expect(await stored(keptUser)).toHaveLength(1);
    expect(await stored(killedUser)).toHaveLength(3);

    // An upload in progress on the survivor while the victim restarts (its start-up sweep of
    // stale temporary files runs over the shared root): the sweep must leave it alone.
    const live = held(FTP_HELD_UPLOAD, [FRONT, rig.ftpPort, 'bob', USERS.bob, 'during-restart.bin', 2 * (64 * 1024 + 1024 * 1024)]);
    expect(await live.next()).toBe('sending');
    await waitForSettledTemp(64 * 1024, 2);
    const restartMark = victim.log.length;
    await rig.start(victim);
    await rig.waitStatus(`pop3/${victim.name}`, 'UP');
    await rig.waitStatus(`ftp/${victim.name}`, 'UP');
    const sweep = await until(() => since(victim, restartMark).find((l) => l['event'] === 'upload-sweep'));
    // The dead process's temporary file is removed; the live upload's is not.
    expect(sweep['removed']).toBe(1);
    expect(await live.finish()).toMatch(/^226/);
    const whole = Buffer.from(Array.from({ length: 2 * (64 * 1024 + 1024 * 1024) }, (_, i) => (i * 7) % 251));
    expect((await readFile(join(rig.ftpRoot, 'during-restart.bin'))).equals(whole)).toBe(true);
    expect((await readdir(rig.ftpRoot)).filter((n) => n.startsWith('.gorgon-upload-'))).toEqual([]);

    // Every message not deleted by a committed QUIT is still there, once: drain through both.
    await drainWithTargets(2, 15);
  });
});

/** Runs `open` (a new session) with the other instance drained on `listener`, so it lands on `target`. */
async function on<T>(target: Instance, listener: 'pop3' | 'ftp', open: () => Promise<T>): Promise<T> {
  const other = rig.instances.find((i) => i !== target)!;
  await rig.setState(`${listener}/${other.name}`, 'drain');
  try {
    return await open();
  } finally {
    await rig.setState(`${listener}/${other.name}`, 'ready');
  }
}

/** The instance whose log has a login of `user` on `listener` since `mark`. */
function instanceOf(mark: [number, number], listener: 'pop3' | 'ftp', user: string): Instance {
  const found = rig.instances.filter((i, n) => logins(i, mark[n]!, listener).some((l) => l['user'] === user));
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** A Python client driven line by line: `next()` is its next stdout line, `finish()` sends a line and returns the last. */
function held(script: string, args: (string | number)[]): { next(): Promise<string>; finish(): Promise<string> } {
  const child: ChildProcess = spawn('python3', ['-c', script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  clients.add(child);
  child.once('exit', () => clients.delete(child));
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  timer.unref();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`client ended early: ${stderr}`);
    return r.value;
  };
  return {
    next,
    async finish() {
      child.stdin!.end('go\n');
      const line = await next();
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      clearTimeout(timer);
      return line;
    },
  };
}

async function until<T>(poll: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = poll();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until `count` temporary upload files exist and the largest has at least `bytes` and has
 * stopped growing (what arrived is written; the rest of the upload waits for the client), so
 * that its last change is older than anything started after this returns.
 */
async function waitForSettledTemp(bytes: number, count: number): Promise<void> {
  const sizes = async () => {
    const temps = (await readdir(rig.ftpRoot)).filter((n) => n.startsWith('.gorgon-upload-'));
    return Promise.all(temps.map(async (n) => (await stat(join(rig.ftpRoot, n))).size));
  };
  const deadline = Date.now() + 10_000;
  let last = -1;
  let same = 0;
  for (;;) {
    const s = await sizes();
    const largest = Math.max(0, ...s);
    same = s.length === count && largest >= bytes && largest === last ? same + 1 : 0;
    last = largest;
    if (same >= 3) return;
    if (Date.now() > deadline) throw new Error(`temporary files ${JSON.stringify(s)}, waiting for one of ${bytes} bytes or more to settle`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Drains both users through HAProxy (several sessions at once per user, so on both instances)
 * until each has taken `targets[user]` messages (default: those not taken yet), then checks that
 * every delivered message came out once and intact, and that the Maildirs are empty.
 */
async function drainWithTargets(
  threads: number,
  seconds: number,
  targets?: Record<string, number>,
): Promise<{ inUse: number; sessions: number }> {
  const results = await Promise.all(
    Object.entries(USERS).map(async ([user, password]) => {
      const target = targets?.[user] ?? mailbox[user]!.size;
      const r = await python(POP3_DRAIN, [FRONT, rig.pop3Port, user, password, target, threads, seconds]);
      return { user, r };
    }),
  );
  let inUse = 0;
  let sessions = 0;
  for (const { user, r } of results) {
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { got: [string, boolean][]; errors: string[]; inUse: number; sessions: number };
    expect(out.errors).toEqual([]);
    const ids = out.got.map(([id]) => id);
    expect(out.got.every(([, ok]) => ok)).toBe(true);
    // Nothing duplicated, nothing lost.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...mailbox[user]!].sort());
    mailbox[user]!.clear();
    expect(await stored(user)).toEqual([]);
    inUse += out.inUse;
    sessions += out.sessions;
  }
  return { inUse, sessions };
}
