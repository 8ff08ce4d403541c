/**
 * An error meant for the person at the terminal: one clear sentence, no stack trace, and the
 * exit status to leave with (2 for a usage mistake, 1 for everything else).
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A mistake in how the command was called: exit status 2 and a pointer to --help. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/**
 * Turns what a failed listen() throws into one sentence a person can act on. `inUseAdvice` says
 * how to move the listener in the command that started it: a flag for `gorgon fingerd`, a config
 * key for `gorgon serve` (which has no --port).
 */
export function describeListenError(
  err: unknown,
  what: string,
  port: number | string,
  host?: string,
  inUseAdvice = 'pick another with --port',
): CliError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = host ? `${host} port ${port}` : `${port}`;
  if (code === 'EADDRINUSE') return new CliError(`${what}: ${where} is already in use; ${inUseAdvice}.`);
  if (code === 'EACCES') return new CliError(`${what}: no permission to listen on ${where} (ports below 1024 need root).`);
  if (code === 'EADDRNOTAVAIL') return new CliError(`${what}: ${host ?? 'the host'} is not an address of this machine.`);
  return new CliError(`${what}: cannot listen on ${where}: ${(err as Error).message}`);
}

/** The message of anything thrown, for the one-sentence report. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
