/**
 * SIGHUP and SIGUSR1 before the daemons run. Node's default action for SIGHUP is to exit, and
 * a daemon takes a moment to start (modules, the demo certificate, a spool): a `systemctl
 * reload` or a logrotate `postrotate` in that window must not kill it. A daemon command calls
 * {@link holdSignals} first thing; the daemon runner then takes the signals over and applies
 * what arrived meanwhile. Nothing heavy is imported here: `main` loads this before the rest.
 */

/** What arrived while held: undefined when not holding. */
let held: { hangup: boolean; usr1: boolean } | undefined;
const onHangup = (): void => {
  if (held) held.hangup = true;
};
const onUsr1 = (): void => {
  if (held) held.usr1 = true;
};

/** The commands that run daemons (the others keep Node's defaults: a hangup ends a client). */
export const daemonCommands: ReadonlySet<string> = new Set(['serve', 'fingerd', 'pop3d', 'ftpd', 'nntpd', 'httpd']);

/** Starts holding SIGHUP and SIGUSR1 (idempotent). */
export function holdSignals(): void {
  if (held) return;
  held = { hangup: false, usr1: false };
  process.on('SIGHUP', onHangup);
  process.on('SIGUSR1', onUsr1);
}

/**
 * Stops holding (the caller has installed its own handlers first, so there is no moment
 * without one) and says what arrived meanwhile.
 */
export function releaseHeldSignals(): { hangup: boolean; usr1: boolean } {
  const arrived = held ?? { hangup: false, usr1: false };
  if (held) {
    held = undefined;
    process.off('SIGHUP', onHangup);
    process.off('SIGUSR1', onUsr1);
  }
  return arrived;
}
