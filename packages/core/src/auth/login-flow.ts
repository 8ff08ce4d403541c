import type { Channel } from '../channel.js';
import { errorText } from '../errors.js';
import { printable } from '../logger.js';
import type { ServerEvents } from '../server-events.js';
import type { AuthUser } from './authenticator.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';

/** What a login attempt came to; the protocol turns it into its reply. */
export type LoginOutcome<U extends { name: string } = AuthUser> =
  | { kind: 'ok'; user: U }
  /**
   * Unknown user or wrong password (never told apart), answered after the throttle's delay.
   * `failures` counts this connection's failures; `disconnect` is true once it reached
   * `maxAuthFailures`.
   */
  | { kind: 'failed'; failures: number; disconnect: boolean }
  /**
   * The authenticator threw (its backend is down): a temporary failure. Not a bad password:
   * not throttled, not counted toward `maxAuthFailures`, logged as an error.
   */
  | { kind: 'unavailable' };

/** Options of {@link LoginFlow}. */
export interface LoginFlowOptions {
  throttle?: LoginThrottle | LoginThrottleOptions | undefined;
  maxAuthFailures: number;
  events?: ServerEvents | undefined;
}

/**
 * The login-and-throttle flow every protocol with logins shares: verify, then on failure a
 * growing delay per source address (shared by all the server's sessions, so a guesser gains
 * nothing by reconnecting), a count per connection and a disconnect after `maxAuthFailures`;
 * on success the address's record is cleared. Unknown users and wrong passwords get the same
 * outcome (and the same reply). Events `login`/`loginFailed` are emitted here.
 */
export class LoginFlow {
  readonly throttle: LoginThrottle;
  readonly maxAuthFailures: number;
  readonly #events: ServerEvents | undefined;

  constructor(options: LoginFlowOptions) {
    const t = options.throttle;
    this.throttle = t instanceof LoginThrottle ? t : new LoginThrottle(t ?? {});
    this.maxAuthFailures = options.maxAuthFailures;
    this.#events = options.events;
  }

  /**
   * Runs one attempt for `user` on `channel`, whose earlier failures were `failures`. The
   * failure delay ends early if the connection closes.
   */
  async attempt<U extends { name: string } = AuthUser>(
    channel: Channel,
    failures: number,
    user: string,
    mechanism: string,
    verify: () => Promise<U | undefined>,
  ): Promise<LoginOutcome<U>> {
    const remoteAddress = channel.remoteAddress;
    let found: U | undefined;
    try {
      found = await verify();
    } catch (err) {
      channel.log.error({ event: 'auth-error', mechanism }, `authenticator failed: ${errorText(err)}`);
      if (this.#events?.wants.loginFailed) {
        this.#events.emit('loginFailed', { id: channel.id, remoteAddress, user, mechanism, reason: 'unavailable' });
      }
      return { kind: 'unavailable' };
    }
    if (found) {
      this.throttle.succeeded(remoteAddress);
      if (this.#events?.wants.login) this.#events.emit('login', { id: channel.id, remoteAddress, user: found.name, mechanism });
      return { kind: 'ok', user: found };
    }
    const count = failures + 1;
    channel.log.warn({ event: 'auth-failed', user: printable(user, 64), mechanism, failures: count }, 'login failed');
    if (this.#events?.wants.loginFailed) {
      this.#events.emit('loginFailed', { id: channel.id, remoteAddress, user, mechanism, reason: 'credentials' });
    }
    await pause(channel, this.throttle.failed(remoteAddress));
    return { kind: 'failed', failures: count, disconnect: count >= this.maxAuthFailures };
  }
}

/** Waits `ms`, or until the channel closes. */
function pause(channel: Channel, ms: number): Promise<void> {
  if (ms <= 0 || channel.isClosed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void channel.closed.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
