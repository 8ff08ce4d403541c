// One server process the soak keeps alive: `gorgon serve --config` (every protocol in one
// process) or one daemon (`gorgon pop3d`, `ftpd`, `nntpd`), started from the built CLI on fixed
// loopback ports, killed with SIGKILL and started again, with its JSON log kept per life.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../packages/cli/dist/main.js', import.meta.url));

export class Unit {
  /**
   * @param {string} name what it is called in the report (`serve`, `pop3d`, …)
   * @param {string[]} protocols the protocols it serves (`pop3`, `ftp`, `nntp`)
   * @param {string[]} args the CLI's arguments
   * @param {string} cwd
   */
  constructor(name, protocols, args, cwd) {
    Object.assign(this, { name, protocols, args, cwd });
    this.child = undefined;
    this.up = false;
    this.lives = 0;
    this.kills = 0;
    /** Log records of the current life. */
    this.records = [];
    /** Events worth keeping from every life (warnings, errors, sweeps). */
    this.notable = [];
    this.#waiters = [];
    this.startMs = [];
    this.adminPort = undefined;
  }

  #waiters;

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Starts a new life and waits for its `ready` line. */
  async start(timeoutMs = 20_000) {
    const t0 = Date.now();
    this.records = [];
    const child = spawn(process.execPath, [CLI, ...this.args, '--log-format', 'json'], {
      cwd: this.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.lives++;
    let partial = '';
    child.stderr.on('data', (chunk) => {
      partial += chunk.toString();
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        let r;
        try {
          r = JSON.parse(line);
        } catch {
          continue;
        }
        r.pid = child.pid;
        this.records.push(r);
        if (r.level >= 40 || r.event === 'upload-sweep' || r.event === 'maildir-sweep' || r.event === 'article-refused')
          this.notable.push(r);
        if (r.event === 'admin-started') this.adminPort = Number(String(r.address).split(':').pop());
      }
      this.#wake();
    });
    child.on('exit', () => {
      this.up = false;
      this.#wake();
    });
    await this.waitFor((r) => r.event === 'ready', timeoutMs);
    this.up = true;
    this.startMs.push(Date.now() - t0);
  }

  get pid() {
    return this.child?.pid;
  }

  get alive() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first record of this life that `match` accepts. */
  async waitFor(match, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.records.find(match);
      if (found) return found;
      if (!this.alive)
        throw new Error(`${this.name} exited (${this.child?.exitCode ?? this.child?.signalCode}) before the expected log line`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no such log line within ${timeoutMs} ms`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #exited() {
    const child = this.child;
    return new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /** SIGKILL, and wait for the exit. */
  async kill() {
    this.up = false;
    if (this.alive) {
      this.child.kill('SIGKILL');
      this.kills++;
    }
    await this.#exited();
  }

  /** SIGTERM (drain, each protocol's goodbye), and wait for the exit. */
  async stop() {
    this.up = false;
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
    await this.#exited();
    clearTimeout(timer);
    return this.child?.exitCode;
  }
}
