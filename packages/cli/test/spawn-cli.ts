import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

// GORGON_CLI_MAIN runs another build (an older one, to see a test fail before its fix).
const main = process.env.GORGON_CLI_MAIN ?? fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A TCP port free on 127.0.0.1 just now (for a daemon told its port on the command line). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One JSON log line of the daemon. */
export interface LogRecord {
  level: number;
  event?: string;
  daemon?: string;
  address?: string;
  msg?: string;
  [key: string]: unknown;
}

/** A `gorgon` daemon run from the built CLI, with its JSON log parsed as it comes. */
export class SpawnedDaemon {
  readonly child: ChildProcess;
  readonly records: LogRecord[] = [];
  readonly ports = new Map<string, number>();
  #stderr = '';
  #waiters: Array<() => void> = [];

  constructor(args: string[], cwd: string) {
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'pnpm build' first`);
    this.child = spawn(process.execPath, [main, ...args, '--log-format', 'json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const record = JSON.parse(line) as LogRecord;
        this.records.push(record);
        if (record.event === 'started' && record.daemon && record.address) {
          this.ports.set(record.daemon, Number(record.address.split(':').pop()));
        }
      }
      this.#wake();
    });
    this.child.on('exit', () => this.#wake());
  }

  get stderr(): string {
    return this.#stderr;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first log record (from index `from` on) that `match` accepts. */
  async waitFor(match: (r: LogRecord) => boolean, from = 0, timeoutMs = 10_000): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.records.slice(from).find(match);
      if (found) return found;
      if (!this.alive) throw new Error(`the daemon exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms:\n${this.#stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the `started` line of `daemon` and returns its port. */
  async started(daemon: string): Promise<number> {
    await this.waitFor((r) => r.event === 'started' && r.daemon === daemon);
    return this.ports.get(daemon)!;
  }

  /** The exit code, once the process has ended. */
  exited(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve(this.child.exitCode);
      else this.child.on('exit', (code) => resolve(code));
    });
  }

  /** SIGTERM if still running, and its exit code. */
  async stop(): Promise<number | null> {
    if (this.alive) this.child.kill('SIGTERM');
    return this.exited();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
