import type { Channel } from './channel.js';
import { CoreError, errorText } from './errors.js';

/**
 * Why a TLS handshake failed, in an operator's words. A failed handshake is the client's
 * decision far more often than a server fault: a client that does not trust the certificate
 * (fetchmail, mpop or curl checking a self-signed demo certificate against the system CAs)
 * ends it with an alert, or (Node's own client) just closes. Such failures are logged as
 * warnings with this reason, never as errors.
 * @see RFC 8446 §6.2 (alert protocol), RFC 5246 §7.2
 */

/** The code of the error for a peer that closed during the handshake, without an alert. */
export const HANDSHAKE_CLOSED = 'ERR_GORGON_TLS_HANDSHAKE_CLOSED';

/** The error for a peer that closed (or reset) the connection before the handshake completed. */
export function handshakeClosed(): Error {
  return Object.assign(new Error('connection closed during handshake'), { code: HANDSHAKE_CLOSED });
}

/** Alerts a client sends when it refuses the server's certificate. @see RFC 8446 §6.2 */
const CERTIFICATE_ALERTS = new Set([
  'BAD_CERTIFICATE',
  'UNSUPPORTED_CERTIFICATE',
  'CERTIFICATE_REVOKED',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_UNKNOWN',
  'UNKNOWN_CA',
]);

/** The code of the innermost error: a CoreError's cause, else the error's own. */
function rootOf(err: unknown): unknown {
  return err instanceof CoreError && err.cause !== undefined ? err.cause : err;
}

/** The reason a handshake failed, for the `reason` field and the text of a warning. */
export function describeTlsFailure(err: unknown): string {
  const root = rootOf(err);
  const code = (root as NodeJS.ErrnoException | undefined)?.code ?? '';
  // OpenSSL's alert errors: ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE…
  // or, when the alert met a write, EPROTO with OpenSSL's text ("…:tlsv1 alert unknown ca:…").
  const alert =
    /^ERR_SSL_(?:TLSV1|TLSV13|SSLV3)_ALERT_(.+)$/.exec(code)?.[1] ??
    /(?:tlsv1|tlsv13|sslv3) alert ([a-z ]+?)(?::|$)/i.exec(errorText(root))?.[1]?.toUpperCase().replace(/ /g, '_');
  if (alert !== undefined) {
    const name = alert.toLowerCase().replace(/_/g, ' ');
    return CERTIFICATE_ALERTS.has(alert)
      ? `the client rejected our certificate (TLS alert "${name}")`
      : `the client ended the handshake with TLS alert "${name}"`;
  }
  if (code === HANDSHAKE_CLOSED || code === 'ECONNRESET' || code === 'EPIPE') {
    return 'the client closed the connection during the handshake (as clients that do not trust our certificate do)';
  }
  return errorText(root);
}

/** True for a failure that belongs to the handshake (an alert, a closed peer, a TLS error). */
export function isTlsHandshakeFailure(err: unknown): boolean {
  if (err instanceof CoreError && err.code === 'tls-failed') return true;
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  return code === HANDSHAKE_CLOSED || code.startsWith('ERR_SSL_') || (code === 'EPROTO' && /alert/i.test(errorText(err)));
}

/** Logs a failed handshake on `channel`: a warning (`event: 'tls-failed'`) with the reason. */
export function logTlsFailure(channel: Channel, err: unknown): void {
  const reason = describeTlsFailure(err);
  channel.log.warn({ event: 'tls-failed', reason }, `TLS handshake failed: ${reason}`);
}
