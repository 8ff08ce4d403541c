import { errorText, type AuthUser } from '@gorgon/core';
import { MaildropError } from './maildrop.js';
import { replies } from './replies.js';
import type { Pop3Session } from './session.js';

/**
 * The end of every login mechanism (PASS, APOP, AUTH PLAIN): check the credentials, apply
 * LOGIN-DELAY, lock the maildrop and enter TRANSACTION, or answer with the reply that says why
 * not. Unknown users and wrong passwords are indistinguishable to the client.
 * @see RFC 1939 §4, §7; RFC 2449 §8.1; RFC 3206
 */
export async function completeLogin(
  session: Pop3Session,
  name: string,
  mechanism: string,
  verify: () => Promise<AuthUser | undefined>,
): Promise<void> {
  const outcome = await session.ctx.login.attempt(session.channel, session.authFailures, name, mechanism, verify);
  // The authenticator failed: a temporary failure, not a wrong password (not counted or delayed).
  if (outcome.kind === 'unavailable') return session.reply(replies.authUnavailable);
  if (outcome.kind === 'failed') return session.loginFailed(outcome.failures, outcome.disconnect);
  const user = outcome.user;
  if (!session.ctx.loginDelay.allows(user.name)) {
    session.reply(replies.loginDelay(session.ctx.loginDelay.seconds));
    return;
  }
  let maildrop;
  try {
    maildrop = await session.ctx.store.open(user.name);
  } catch (err) {
    const code = err instanceof MaildropError ? err.code : 'io';
    session.channel.log.warn({ event: 'maildrop-refused', user: user.name, code }, errorText(err));
    session.reply(code === 'in-use' ? replies.inUse : code === 'invalid-user' ? replies.maildropPermanent : replies.maildropTemporary);
    return;
  }
  if (session.closing) {
    // The client left while the lock was being taken: nothing to do but let go.
    await maildrop.release();
    return;
  }
  // Only a completed login counts for LOGIN-DELAY: a refusal ([IN-USE]) must not delay a retry.
  session.ctx.loginDelay.record(user.name);
  session.enterTransaction(user.name, maildrop);
}
