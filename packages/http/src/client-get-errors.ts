import { HttpClientError, HttpStatusError } from './client-errors.js';

const CERTIFICATE_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed, so no authority this machine trusts vouches for it',
  SELF_SIGNED_CERT_IN_CHAIN: 'its chain ends in a self-signed authority this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is signed by an authority this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT: 'it is signed by an authority this machine does not know',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is signed by an authority this machine does not know',
  CERT_UNTRUSTED: 'it is signed by an authority this machine does not trust',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  CERT_REVOKED: 'it has been revoked',
  CERT_SIGNATURE_FAILURE: 'its signature does not check out',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is made out to another name',
};

/**
 * Why the server's certificate was refused, in a user's words, or undefined when `err` is not a
 * certificate failure. Not transient: trying again meets the same certificate.
 */
export function certificateProblem(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code in CERTIFICATE_PROBLEMS) return CERTIFICATE_PROBLEMS[code];
  }
  return undefined;
}

function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

function rootMessage(err: Error): string {
  let e: Error = err;
  for (let depth = 0; e.cause instanceof Error && depth < 5; depth++) e = e.cause;
  return e.message;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * One sentence for people about a URL that could not be fetched: the URL named, the status
 * quoted, no stack and no class names.
 */
export function describeGetError(err: unknown, url: string, origin: string): string {
  if (err instanceof HttpStatusError) {
    const shown = `${err.status}${err.statusText ? ` ${err.statusText}` : ''}`;
    const at = err.url === url ? url : `${url} (redirected to ${err.url})`;
    if (err.status === 404 || err.status === 410) return sentence(`${at}: no such file on the server (${shown})`);
    if (err.status === 401 || err.status === 403) return sentence(`${at}: the server refused access (${shown})`);
    return sentence(`${at}: the server answered ${shown}`);
  }
  const untrusted = certificateProblem(err);
  if (untrusted !== undefined) return sentence(`${url}: the certificate of ${origin} is not trusted: ${untrusted}`);
  if (err instanceof HttpClientError) {
    switch (err.kind) {
      case 'connect-failed': {
        const code = errnoOf(err);
        if (code === 'ECONNREFUSED') return `${url}: cannot connect to ${origin}: connection refused.`;
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url}: cannot find the host of ${origin}.`;
        return sentence(`${url}: cannot connect to ${origin}: ${rootMessage(err)}`);
      }
      case 'tls-failed':
        return sentence(`${url}: TLS with ${origin} failed: ${rootMessage(err)}`);
      default:
        return sentence(`${url}: ${err.message}`);
    }
  }
  return sentence(`${url}: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Whether trying again could help: lost or silent connections and the "try again" statuses,
 * yes; a missing file, a refused certificate, a bad URL, a local disk failure, no.
 * @see RFC 9110 §15.5, §15.6
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.transient;
  if (certificateProblem(err) !== undefined) return false;
  if (err instanceof HttpClientError) {
    if (err.kind === 'connect-failed') return errnoOf(err) !== 'ENOTFOUND';
    return err.kind === 'timeout' || err.kind === 'closed';
  }
  return false;
}
