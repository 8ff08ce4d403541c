/**
 * The demo does what its README says: demo/demo may upload into incoming/ and nowhere else;
 * everything else is read-only. Driven with curl against `gorgon serve --demo` (built binary).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const hasCurl = existsSync('/usr/bin/curl');

function curl(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, _stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

let dir: string;
let child: ChildProcess;
let port = 0;

beforeAll(async () => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
  dir = await mkdtemp(join(tmpdir(), 'gorgon-demo-perms-'));
  await writeFile(join(dir, 'upload.txt'), 'uploaded\n');
  child = spawn(process.execPath, [main, 'serve', '--demo', '--ephemeral-ports', '--data', join(dir, 'demo'), '--log-format', 'json'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  port = await new Promise<number>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`no ftpd within 15 s:\n${log}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /"event":"started","daemon":"ftpd","address":"[^"]*:(\d+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${log}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasCurl)('gorgon serve --demo: FTP permissions match the README (curl)', () => {
  const url = (path: string): string => `ftp://demo:demo@127.0.0.1:${port}/${path}`;

  it('demo/demo uploads into incoming/', async () => {
    const r = await curl('-T', join(dir, 'upload.txt'), url('incoming/'));
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'demo', 'ftp', 'root', 'incoming', 'upload.txt'), 'utf8')).toBe('uploaded\n');
  });

  it('demo/demo still reads everywhere', async () => {
    const r = await curl('-o', join(dir, 'hello.txt'), url('pub/hello.txt'));
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'hello.txt'), 'utf8')).toMatch(/Hello from Gorgon/);
  });

  it.each(['', 'pub/'])('demo/demo cannot upload into /%s (curl exit 25)', async (where) => {
    const r = await curl('-T', join(dir, 'upload.txt'), url(where));
    expect(r.code).toBe(25);
    expect(existsSync(join(dir, 'demo', 'ftp', 'root', where, 'upload.txt'))).toBe(false);
  });

  it('demo/demo cannot delete, rename or make directories outside incoming/', async () => {
    for (const commands of [['DELE pub/hello.txt'], ['MKD newdir'], ['RNFR README.txt', 'RNTO incoming/README.txt'], ['RMD incoming']]) {
      const r = await curl(...commands.flatMap((c) => ['-Q', c]), url(''));
      expect(r.code, commands.join(', ')).not.toBe(0);
    }
    for (const kept of ['pub/hello.txt', 'README.txt', 'incoming'])
      expect(existsSync(join(dir, 'demo', 'ftp', 'root', kept)), kept).toBe(true);
    expect(existsSync(join(dir, 'demo', 'ftp', 'root', 'newdir'))).toBe(false);
  });
});
