import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';

/** What a client command left behind. */
export interface ExecResult {
  /** Exit status, or null when killed (by the timeout or a signal). */
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** How to run one client command. */
export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs: number;
}

/** Output kept per stream: a client that streams a huge file to stdout cannot fill memory. */
const MAX_OUTPUT = 32 * 1024 * 1024;

/**
 * Runs a stock client in its own process group under a timeout (SIGKILL to the group when it
 * passes, so a client's helpers, like fetchmail's MDA, go too). Never rejects for a non-zero exit;
 * rejects only when the program cannot be started.
 */
export function exec(argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      if (outBytes < MAX_OUTPUT) out.push(d);
      outBytes += d.length;
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < MAX_OUTPUT) err += d.toString();
    });
    const kill = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
    // A client that never reads its input (or exits first) must not fail the run with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The short reason a command failed, for a table cell: the timeout, or the exit status with the
 * last meaningful line the client printed (curl's `curl: (67) Access denied`, a Python
 * exception's last line).
 */
export function failureReason(r: ExecResult, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${Math.round(timeoutMs / 1000)} s`;
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/warning|deprecat/i.test(l));
  const last = lines.at(-1) ?? r.stdout.toString().trim().split('\n').at(-1) ?? '';
  const status = r.code === null ? 'killed' : `exit ${r.code}`;
  return last ? `${status}: ${shorten(last)}` : status;
}

/** One line of at most `max` characters, control characters shown as spaces. */
export function shorten(text: string, max = 120): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters from a server's reply are what is removed
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
