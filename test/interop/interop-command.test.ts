/**
 * `gorgon interop` (the built CLI) against servers that are not Gorgon's: vsftpd and a private
 * INN on loopback; against the Gorgon suite (`serve --demo`), with the npm libraries' rows and
 * a copy of the CLI that cannot find them; node-pop3 on messages it does not return as sent
 * (dot-stuffed, not UTF-8); and against servers that answer wrongly, which must give `fail`
 * cells and exit status 1. Off CI a missing stock server skips its block; with CI=true it fails.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { innUnavailable, startInn, type InnPeer } from '../../packages/nntp/test/inn-peer.js';
import { CI, hasVsftpd, startVsftpd, type StockServer } from './ftp-client-stock.js';
import { fixtureMessages, PASSWORD, type Pop3Fixture, startPop3, USER } from './pop3-fixtures.js';

const MAIN = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
/** The npm client libraries' versions the repository pins (root devDependencies). */
const PINNED = (
  JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as {
    devDependencies: Record<string, string>;
  }
).devDependencies;

interface CellJson {
  client: string;
  feature: string;
  status: 'pass' | 'fail' | 'n/a';
  reason?: string;
}
interface ReportJson {
  clients: Array<{ id: string; label: string; bin?: string; version?: string; missing?: string }>;
  targets: Array<{
    url: string;
    probe: { error?: string; sample?: string };
    rows: Array<{ client: string; label: string; version?: string; cells: CellJson[] }>;
  }>;
  totals: { pass: number; fail: number; 'n/a': number };
}

/**
 * Runs `gorgon interop ... --json` and parses the report (stdout is JSON even when cells fail);
 * `main` and `cwd` run another copy of the CLI, elsewhere.
 */
async function interop(
  args: string[],
  timeoutMs = 150_000,
  { main = MAIN, cwd }: { main?: string; cwd?: string } = {},
): Promise<{ code: number | null; report: ReportJson; stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'pnpm build' first`);
  const child = spawn(process.execPath, [main, 'interop', ...args, '--json', '--log-level', 'warn', '--timeout', '15'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  let report: ReportJson;
  try {
    report = JSON.parse(stdout) as ReportJson;
  } catch {
    throw new Error(`gorgon interop printed no JSON (exit ${code}):\n${stdout}\n${stderr}`);
  }
  return { code, report, stderr };
}

/** The cells of one target as `client/feature` → status, with the reason after a colon. */
function cells(report: ReportJson, index = 0): Map<string, CellJson> {
  const map = new Map<string, CellJson>();
  for (const row of report.targets[index]!.rows) for (const cell of row.cells) map.set(`${row.label}/${cell.feature}`, cell);
  return map;
}
const statusOf = (map: Map<string, CellJson>, prefix: string, feature: string): string[] =>
  [...map]
    .filter(([key]) => key.startsWith(prefix) && key.endsWith(`/${feature}`))
    .map(([, c]) => (c.reason ? `${c.status}: ${c.reason}` : c.status));

/** Every status in the list is `want` (or matches it), and there is at least one. */
function expectAll(list: string[], want: string | RegExp): void {
  expect(list.length).toBeGreaterThan(0);
  expect(list.filter((s) => (typeof want === 'string' ? s !== want : !want.test(s)))).toEqual([]);
}

describe.skipIf(!CI && !hasVsftpd)('against vsftpd (anonymous, read-only)', () => {
  let server: StockServer;
  let dir: string;
  const content = randomBytes(50_003);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-interop-vsftpd-'));
    await mkdir(join(dir, 'root/pub'), { recursive: true });
    await writeFile(join(dir, 'root/pub/data.bin'), content);
    server = await startVsftpd({ root: join(dir, 'root'), work: join(dir, 'work') });
    const cert = await createDemoCertificate('localhost');
    await writeFile(join(dir, 'cert.pem'), cert.cert);
    await writeFile(join(dir, 'key.pem'), cert.key);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('every client logs in, lists, retrieves and resumes the file byte-exact; AUTH TLS and the write side are n/a', async () => {
    const { code, report, stderr } = await interop([`ftp://127.0.0.1:${server.port}/pub/`, '--clients', 'curl,lftp,wget,python']);
    expect(report.targets[0]!.probe).toEqual({ sample: 'pub/data.bin', capabilities: expect.any(Array) } as never);
    const map = cells(report);
    for (const prefix of ['curl', 'lftp', 'wget', 'ftplib']) {
      for (const feature of ['login', 'list', 'retrieve', 'resume']) expectAll(statusOf(map, prefix, feature), 'pass');
      expectAll(statusOf(map, prefix, 'tls'), 'n/a: the server does not offer AUTH TLS');
    }
    expect(statusOf(map, 'curl', 'store')).toEqual(['n/a: not run: give --write to upload a uniquely named file (deleted after)']);
    expect(report.totals.fail).toBe(0);
    expect(code, stderr).toBe(0);
  }, 150_000);

  it('with explicit FTPS (vsftpd requires TLS session reuse on data connections): a client that does not reuse it fails, with the reason', async () => {
    const tlsServer = await startVsftpd({
      root: join(dir, 'root'),
      work: join(dir, 'work-tls'),
      tls: { certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') },
    });
    try {
      const { code, report } = await interop([`ftp://127.0.0.1:${tlsServer.port}/pub/`, '--clients', 'curl,lftp,python', '--insecure']);
      const map = cells(report);
      expectAll(statusOf(map, 'curl', 'tls'), 'pass');
      expectAll(statusOf(map, 'lftp', 'tls'), 'pass');
      // Python's ftplib opens each data connection with a new TLS session (bpo-19500).
      expectAll(statusOf(map, 'ftplib', 'tls'), /^fail: .*522/);
      expect(code).toBe(1);
    } finally {
      await tlsServer.stop();
    }
  }, 150_000);
});

describe.skipIf(!CI && innUnavailable() !== undefined)('against INN 2.7 (a private innd)', () => {
  let inn: InnPeer;
  const port = 23000 + (process.pid % 500);
  beforeAll(async () => {
    inn = await startInn({ port, groups: ['interop.test'] });
    // nnrpd (started per reader connection, reading inn.conf each time) turns readers away with
    // "400 load at N, try later" past nnrpdloadlimit (16): a busy test machine is not the subject.
    const conf = join(inn.dir, 'etc/inn.conf');
    const text = await readFile(conf, 'utf8');
    await writeFile(
      conf,
      /^#?\s*nnrpdloadlimit:.*$/m.test(text)
        ? text.replace(/^#?\s*nnrpdloadlimit:.*$/m, 'nnrpdloadlimit: 0')
        : `${text}\nnnrpdloadlimit: 0\n`,
    );
  }, 30_000);
  afterAll(async () => {
    await inn?.stop();
  });

  it('with --write nntplib and rpost post; then nntplib and suck read the newest article back byte-exact', async () => {
    const url = `nntp://127.0.0.1:${port}/interop.test`;
    const first = await interop([url, '--write', '--clients', 'python,rpost,suck']);
    const posted = cells(first.report);
    expectAll(statusOf(posted, 'nntplib', 'post'), 'pass');
    expect(statusOf(posted, 'rpost', 'post')).toEqual(['pass']);
    expectAll(statusOf(posted, 'nntplib', 'retrieve'), 'n/a: interop.test is empty');
    expect(first.code, first.stderr).toBe(0);

    const second = await interop([url, '--clients', 'python,rpost,suck']);
    const read = cells(second.report);
    expect(second.report.targets[0]!.probe.sample).toMatch(/^interop\.test \d+$/);
    for (const feature of ['list', 'overview', 'retrieve']) expectAll(statusOf(read, 'nntplib', feature), 'pass');
    expect(statusOf(read, 'suck', 'retrieve')).toEqual(['pass']);
    expect(statusOf(read, 'rpost', 'post')[0]).toMatch(/^n\/a: not run: give --write/);
    expect(second.code, second.stderr).toBe(0);
  }, 150_000);
});

describe('against the Gorgon suite (serve --demo)', () => {
  let dir: string;
  let suite: ReturnType<typeof spawn>;
  const ports: Record<string, number> = {};
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gorgon-interop-suite-'));
    suite = spawn(process.execPath, [MAIN, 'serve', '--demo', '--ephemeral-ports', '--data', join(dir, 'data'), '--log-format', 'json'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      suite.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        for (const m of log.matchAll(/"event":"started","daemon":"(\w+)","address":"[\d.]+:(\d+)"/g)) ports[m[1]!] = Number(m[2]);
        if (log.includes('"event":"ready"')) resolve();
      });
      suite.once('exit', (code) => reject(new Error(`the suite exited (${code}):\n${log}`)));
    });
  });
  afterAll(async () => {
    if (suite?.exitCode === null) {
      suite.kill('SIGTERM');
      await new Promise((resolve) => suite.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('POP3 with STLS, implicit FTPS with uploads, HTTP and finger: every applicable cell passes, exit 0', async () => {
    const { code, report, stderr } = await interop([
      `pop3://demo:demo@127.0.0.1:${ports['pop3d']}/`,
      `ftps://127.0.0.1:${ports['ftpsd']}/pub/`,
      `http://127.0.0.1:${ports['httpd']}/files/hello.txt`,
      `finger://127.0.0.1:${ports['fingerd']}/alice`,
      '--user',
      'demo',
      '--password',
      'demo',
      '--insecure',
      '--write',
      '--upload-dir',
      'incoming',
    ]);
    const pop3 = cells(report, 0);
    for (const client of ['curl', 'mpop', 'fetchmail', 'poplib']) {
      expectAll(statusOf(pop3, client, 'login'), 'pass');
      expectAll(statusOf(pop3, client, 'tls'), 'pass');
      expectAll(statusOf(pop3, client, 'retrieve'), 'pass');
    }
    expectAll(statusOf(pop3, 'poplib', 'delete'), 'pass');
    for (const feature of ['login', 'list', 'retrieve', 'top', 'delete']) expect(statusOf(pop3, 'node-pop3', feature)).toEqual(['pass']);
    expect(statusOf(pop3, 'node-pop3', 'tls')).toEqual(['n/a: node-pop3 has no STLS']);
    const ftps = cells(report, 1);
    for (const client of ['curl', 'lftp', 'ftplib']) {
      for (const feature of ['tls', 'retrieve', 'store', 'delete']) expectAll(statusOf(ftps, client, feature), 'pass');
    }
    for (const feature of ['login', 'tls', 'list', 'retrieve', 'resume', 'store', 'delete']) {
      expect(statusOf(ftps, 'basic-ftp', feature)).toEqual(['pass']);
    }
    const httpCells = cells(report, 2);
    expect(statusOf(httpCells, 'curl', 'conditional')).toEqual(['pass']);
    expect(statusOf(httpCells, 'curl', 'keep-alive')).toEqual(['pass']);
    expect(statusOf(cells(report, 3), 'nc', 'query')).toEqual(['pass']);
    expect(report.totals.fail, JSON.stringify(report.targets.map((t) => t.rows))).toBe(0);
    expect(code, stderr).toBe(0);
  }, 150_000);

  it('basic-ftp and node-pop3 (npm) pass every feature they have: FTP with AUTH TLS and implicit FTPS, POP3 and POP3S; node-pop3 has no STLS', async () => {
    const { code, report, stderr } = await interop([
      `ftp://demo:demo@127.0.0.1:${ports['ftpd']}/pub/`,
      `ftps://demo:demo@127.0.0.1:${ports['ftpsd']}/pub/`,
      `pop3://demo:demo@127.0.0.1:${ports['pop3d']}/`,
      `pop3s://demo:demo@127.0.0.1:${ports['pop3sd']}/`,
      '--clients',
      'basic-ftp,node-pop3',
      '--insecure',
      '--write',
      '--upload-dir',
      'incoming',
    ]);
    expect(report.clients.map((c) => [c.id, c.version])).toEqual([
      ['basic-ftp', PINNED['basic-ftp']],
      ['node-pop3', PINNED['node-pop3']],
    ]);
    expect(report.clients[1]!.bin).toMatch(/node-pop3[/\\]lib[/\\]Command\.cjs$/);
    const rows = report.targets.map((t) =>
      t.rows.map((r) => [r.label, r.cells.map((c) => (c.reason ? `${c.status}: ${c.reason}` : c.status))]),
    );
    const all = (n: number) => Array.from({ length: n }, () => 'pass');
    expect(rows).toEqual([
      [['basic-ftp', all(7)]],
      [['basic-ftp', all(7)]],
      [['node-pop3', ['pass', 'n/a: node-pop3 has no STLS', 'pass', 'pass', 'pass', 'pass']]],
      [['node-pop3', all(6)]],
    ]);
    expect(code, stderr).toBe(0);
  }, 60_000);

  it('a library Node cannot find (from the working directory, or from the CLI) is reported missing: its cells are n/a', async () => {
    // A copy of the built CLI outside the repository (its own dependencies linked), run in an
    // empty directory: neither place resolves basic-ftp or node-pop3.
    const elsewhere = await mkdtemp(join(tmpdir(), 'gorgon-interop-nolibs-'));
    try {
      const cli = join(elsewhere, 'cli');
      await cp(fileURLToPath(new URL('../../packages/cli/dist', import.meta.url)), join(cli, 'dist'), { recursive: true });
      await cp(fileURLToPath(new URL('../../packages/cli/package.json', import.meta.url)), join(cli, 'package.json'));
      await symlink(fileURLToPath(new URL('../../packages/cli/node_modules', import.meta.url)), join(cli, 'node_modules'), 'dir');
      await mkdir(join(elsewhere, 'cwd'));
      const { code, report, stderr } = await interop(
        [
          `ftp://demo:demo@127.0.0.1:${ports['ftpd']}/pub/`,
          `pop3://demo:demo@127.0.0.1:${ports['pop3d']}/`,
          '--clients',
          'basic-ftp,node-pop3',
        ],
        60_000,
        { main: join(cli, 'dist/main.js'), cwd: join(elsewhere, 'cwd') },
      );
      expect(report.clients).toEqual([
        { id: 'basic-ftp', label: 'basic-ftp', missing: 'basic-ftp is not installed (npm i basic-ftp where gorgon interop runs)' },
        { id: 'node-pop3', label: 'node-pop3', missing: 'node-pop3 is not installed (npm i node-pop3 where gorgon interop runs)' },
      ]);
      const reasons = report.targets.flatMap((t) => t.rows.flatMap((r) => r.cells.map((c) => `${c.status}: ${c.reason}`)));
      expect(reasons).toHaveLength(13);
      expect(new Set(reasons)).toEqual(
        new Set([
          'n/a: basic-ftp is not installed (npm i basic-ftp where gorgon interop runs)',
          'n/a: node-pop3 is not installed (npm i node-pop3 where gorgon interop runs)',
        ]),
      );
      expect(code, stderr).toBe(0);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('node-pop3 on messages it does not return as sent (Gorgon POP3 server)', () => {
  const fixtures: Pop3Fixture[] = [];
  afterAll(async () => {
    for (const f of fixtures) await f.close();
  });

  it('a dot-stuffed message and one that is not UTF-8 (Latin-1) compare equal after normalising; POP3S passes too', async () => {
    // Message 1 of each mailbox is the reference: "dots" (lines ".one dot", "..two dots", ".") and
    // "folded" (Latin-1 bytes é t é).
    const [, dots, latin1] = fixtureMessages();
    fixtures.push(await startPop3({ mechanisms: ['user'] }, [dots!]), await startPop3({ mechanisms: ['user'] }, [latin1!]));
    const userinfo = `${USER}:${encodeURIComponent(PASSWORD)}`;
    const { code, report, stderr } = await interop([
      ...fixtures.flatMap((f) => [`pop3://${userinfo}@127.0.0.1:${f.port}/`, `pop3s://${userinfo}@127.0.0.1:${f.tlsPort}/`]),
      '--clients',
      'node-pop3',
      '--insecure',
    ]);
    for (let i = 0; i < 4; i++) {
      const map = cells(report, i);
      expect(report.targets[i]!.probe.sample).toBe('message 1');
      for (const feature of ['login', 'list', 'retrieve', 'top', 'delete']) expect(statusOf(map, 'node-pop3', feature)).toEqual(['pass']);
    }
    // DELE was undone with RSET: every message is still there.
    for (const f of fixtures) expect(await f.stored()).toHaveLength(1);
    expect(code, stderr).toBe(0);
  }, 60_000);
});

describe('against servers that answer wrongly', () => {
  const sockets = new Set<net.Socket>();
  let pop3: net.Server;
  let web: http.Server;
  beforeAll(async () => {
    // A POP3 server that greets, then refuses every password.
    pop3 = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.write('+OK ready\r\n');
      let buffer = '';
      socket.on('data', (d: Buffer) => {
        buffer += d.toString();
        for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
          const verb = buffer.slice(0, end).trim().split(' ')[0]!.toUpperCase();
          buffer = buffer.slice(end + 1);
          if (verb === 'CAPA') socket.write('+OK\r\nUSER\r\n.\r\n');
          else if (verb === 'USER') socket.write('+OK\r\n');
          else if (verb === 'QUIT') socket.end('+OK bye\r\n');
          else socket.write('-ERR no\r\n');
        }
      });
    });
    // An HTTP server that sends other bytes every time and ignores Range and If-Modified-Since.
    web = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Last-Modified': new Date(0).toUTCString() });
      res.end(req.method === 'HEAD' ? undefined : randomBytes(1000));
    });
    await new Promise<void>((resolve) => pop3.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    web.closeAllConnections();
    await new Promise((resolve) => pop3.close(resolve));
    await new Promise((resolve) => web.close(resolve));
  });

  it('gives fail cells with the reasons and exits 1', async () => {
    const pop3Port = (pop3.address() as net.AddressInfo).port;
    const webPort = (web.address() as net.AddressInfo).port;
    const { code, report, stderr } = await interop([
      `pop3://someone:secret@127.0.0.1:${pop3Port}/`,
      `http://127.0.0.1:${webPort}/file`,
      '--clients',
      'curl,python,node-pop3',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/gorgon: interop: \d+ cells failed\./);
    expect(report.targets[0]!.probe.error).toMatch(/PASS/);
    const pop3Cells = cells(report, 0);
    expect(statusOf(pop3Cells, 'curl', 'login')[0]).toMatch(/^fail: exit 67/);
    expectAll(statusOf(pop3Cells, 'poplib', 'login'), /^fail: .*-ERR no/);
    expect(statusOf(pop3Cells, 'node-pop3', 'login')).toEqual(['fail: exit 1: PASS ***: -ERR no']);
    const httpCells = cells(report, 1);
    expect(statusOf(httpCells, 'curl', 'retrieve')[0]).toMatch(/^fail: \/file: content differs from the reference/);
    expect(statusOf(httpCells, 'curl', 'conditional')[0]).toBe('fail: If-Modified-Since was answered 200, not 304');
    expectAll(statusOf(httpCells, 'http.client', 'resume'), /^fail: .*got 200 OK, expected 206/);
    expect(statusOf(httpCells, 'curl', 'head')).toEqual(['pass']);
    expect(report.totals.fail).toBeGreaterThan(5);
  }, 150_000);

  it('a URL it cannot drive is a usage mistake: one sentence, exit 2', async () => {
    const child = spawn(process.execPath, [MAIN, 'interop', 'gopher://127.0.0.1/'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe(
      'gorgon: gopher:// is not a scheme gorgon interop drives; use one of ftp, ftps, pop3, pop3s, nntp, nntps, news, http, https, finger.',
    );
  });
});
