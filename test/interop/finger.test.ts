/**
 * @gorgon/finger against stock software: Debian's finger(1) client, curl's gopher client and
 * OpenBSD netcat driving the Gorgon server; the Gorgon client against Debian's in.fingerd.
 * Debian packages: finger fingerd netcat-openbsd curl (and util-linux for unshare).
 * @see RFC 1288
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFingerServer, finger, MemoryUserDirectory, type FingerServer, type FingerUser } from '@gorgon/finger';

const CI = process.env['CI'] === 'true';
const FINGER = '/usr/bin/finger';
const FINGERD = '/usr/sbin/in.fingerd';

const users: FingerUser[] = [
  {
    login: 'alice',
    name: 'Alice Liddell',
    office: 'Wonderland',
    officePhone: 'x1865',
    homePhone: '555-0100',
    directory: '/home/alice',
    shell: '/bin/zsh',
    plan: 'Follow the white rabbit.\nDrink me.',
    lastLogin: '2024-03-01T12:00:00Z',
    loggedIn: true,
    tty: 'pts/1',
    idleSeconds: 180,
  },
  { login: 'bob', name: 'Bob Dodgson', shell: '/bin/sh' },
  { login: 'mallory', name: 'Mal\x1b]0;pwned\x07lory', plan: 'evil \x1b[2J clear' },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with a hard timeout (the child is killed when it passes). */
function run(file: string, args: string[], input?: string | Buffer, timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'latin1' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** `unshare -m` needs CAP_SYS_ADMIN: root outside a locked-down container. */
const unshareWorks = spawnSync('unshare', ['-m', 'true'], { timeout: 5000 }).status === 0;
const hasFinger = existsSync(FINGER);
const hasFingerd = existsSync(FINGERD);

let server: FingerServer;
let port: number;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gorgon-finger-interop-'));
  server = createFingerServer({ store: new MemoryUserDirectory(users) });
  port = (await server.listen(0, '127.0.0.1')).port;
});

afterAll(async () => {
  await server?.close({ timeoutMs: 2000 });
  await rm(tmp, { recursive: true, force: true });
});

describe('Debian finger(1) against the Gorgon server (port from a private /etc/services)', () => {
  /** finger(1) in a private mount namespace where /etc/services maps `finger` to our port. */
  async function stockFinger(...args: string[]): Promise<Run> {
    if (!hasFinger) throw new Error(`${FINGER} is missing: apt-get install finger`);
    const services = join(tmp, 'services');
    const original = await readFile('/etc/services', 'utf8');
    const line = `finger\t\t${port}/tcp`;
    const edited = /^finger\s/m.test(original) ? original.replace(/^finger\s.*$/gm, line) : `${original}\n${line}\n`;
    await writeFile(services, edited);
    const result = await run('unshare', [
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" /etc/services && shift && exec "$@"',
      'sh',
      services,
      FINGER,
      ...args,
    ]);
    // netkit finger keeps the server's CR when its stdin is not a terminal: compare lines.
    return { ...result, stdout: result.stdout.replace(/\r\n/g, '\n') };
  }

  // Skipped only where the namespace is denied, or off CI where finger(1) is not installed.
  const skip = !unshareWorks || (!hasFinger && !CI);

  it.skipIf(skip)('finger alice@127.0.0.1 shows the entry and the plan', async () => {
    const { code, stdout, stderr } = await stockFinger('alice@127.0.0.1');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Login: alice\s+Name: Alice Liddell$/m);
    expect(stdout).toContain('Directory: /home/alice');
    expect(stdout).toContain('On since 2024-03-01 12:00 UTC on pts/1, idle 3 minutes');
    expect(stdout).toContain('Plan:\nFollow the white rabbit.\nDrink me.\n');
    expect(stdout).not.toContain('555-0100');
  });

  it.skipIf(skip)('finger -l sends /W: the home phone appears', async () => {
    const { stdout } = await stockFinger('-l', 'alice@127.0.0.1');
    expect(stdout).toMatch(/^Office: Wonderland, x1865\s+Home Phone: 555-0100$/m);
  });

  it.skipIf(skip)('finger @127.0.0.1 lists the users', async () => {
    const { stdout } = await stockFinger('@127.0.0.1');
    expect(stdout).toMatch(/^Login\s+Name\s+Tty\s+Idle\s+Login Time\s+Office$/m);
    expect(stdout).toMatch(/^alice\s+Alice Liddell\s+pts\/1\s+3m/m);
    expect(stdout).toMatch(/^bob\s+Bob Dodgson/m);
  });

  it.skipIf(skip)('no escape sequence reaches the terminal', async () => {
    const { stdout } = await stockFinger('mallory@127.0.0.1');
    expect(stdout).toContain('Name: Mal^[]0;pwned^Glory');
    expect(stdout).toContain('evil ^[[2J clear');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test checks that no control byte reaches the terminal
    expect(stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\xff]/);
  });

  it.skipIf(skip)('forwarding through the Gorgon server is refused', async () => {
    const { stdout } = await stockFinger('alice@example.org@127.0.0.1');
    expect(stdout).toContain('Finger forwarding service denied.');
  });
});

describe('curl and netcat against the Gorgon server', () => {
  it('curl gopher://…/0alice sends alice CRLF and gets the entry', async () => {
    const { code, stdout, stderr } = await run('curl', ['-sS', '--max-time', '10', `gopher://127.0.0.1:${port}/0alice`]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Login: alice');
    expect(stdout).toContain('Follow the white rabbit.\r\nDrink me.\r\n');
  });

  it('nc: the exact bytes of a reply, then the server closes', async () => {
    const { code, stdout } = await run('nc', ['-N', '-w', '5', '127.0.0.1', String(port)], 'bob\r\n');
    expect(code).toBe(0);
    expect(stdout).toBe(`${'Login: bob'.padEnd(40)}Name: Bob Dodgson\r\nShell: /bin/sh\r\nNever logged in.\r\nNo Plan.\r\n`);
  });

  it('nc: a binary query gets one line', async () => {
    const { stdout } = await run('nc', ['-N', '-w', '5', '127.0.0.1', String(port)], Buffer.from('ali\x00ce\r\n', 'latin1'));
    expect(stdout).toBe('Finger query contains invalid characters.\r\n');
  });

  it('nc: an unknown user', async () => {
    const { stdout } = await run('nc', ['-N', '-w', '5', '127.0.0.1', String(port)], 'zed\r\n');
    expect(stdout).toBe('finger: zed: no such user.\r\n');
  });
});

describe("the Gorgon client against Debian's in.fingerd", () => {
  /** A loopback TCP server that runs in.fingerd per connection, the socket on its stdio (inetd's way). */
  async function startFingerd(): Promise<{ port: number } & AsyncDisposable> {
    if (!hasFingerd) throw new Error(`${FINGERD} is missing: apt-get install fingerd`);
    const children = new Set<ChildProcess>();
    const sockets = new Set<net.Socket>();
    const tcp = net.createServer({ pauseOnConnect: true }, (socket) => {
      sockets.add(socket);
      const child = spawn(FINGERD, ['-t', '10'], { stdio: [socket, socket, 'ignore'] });
      children.add(child);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', () => {
        clearTimeout(timer);
        children.delete(child);
        socket.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    return {
      port: (tcp.address() as net.AddressInfo).port,
      [Symbol.asyncDispose]: async () => {
        for (const child of children) child.kill('SIGKILL');
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => tcp.close(resolve));
      },
    };
  }

  it.skipIf(!hasFingerd && !CI)('finger("root") gets the stock long entry', async () => {
    await using fingerd = await startFingerd();
    const reply = await finger('root', { host: '127.0.0.1', port: fingerd.port, timeoutMs: 10_000 });
    expect(reply).toMatch(/^Login: root\s+Name: /m);
    expect(reply).toMatch(/^Directory: \/root\s+Shell: /m);
    expect(reply).not.toContain('\r');
  });

  it.skipIf(!hasFingerd && !CI)('verbose (/W) and list ({C}) queries', async () => {
    await using fingerd = await startFingerd();
    const verbose = await finger('root', { host: '127.0.0.1', port: fingerd.port, verbose: true, timeoutMs: 10_000 });
    expect(verbose).toMatch(/^Login: root\s+Name: /m);
    const list = await finger('', { host: '127.0.0.1', port: fingerd.port, timeoutMs: 10_000 });
    // Who is logged in depends on the machine: either answer is a complete reply.
    expect(list).toMatch(/^(No one logged on\.|Login\s+Name\s+Tty)/m);
  });
});
