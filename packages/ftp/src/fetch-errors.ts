import { FtpClientError, FtpError } from './client-errors.js';
import { replyText } from './client-reply.js';

/** Where an error happened, to name it in the sentence. */
export interface ErrorContext {
  host: string;
  port: number;
  user: string;
  /** The remote path, when the error concerns one file. */
  path?: string;
}

function errnoOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Why a certificate was not accepted, in a user's words, by the OpenSSL/Node code that Node puts
 * on the handshake error (or, for a check made after the handshake, in its message).
 */
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
 * certificate failure. Such a failure is not transient: trying again meets the same certificate.
 */
export function certificateProblem(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code in CERTIFICATE_PROBLEMS) return CERTIFICATE_PROBLEMS[code];
    // The client's own check by address after the handshake carries the code in its message.
    if (e instanceof FtpClientError && e.kind === 'tls-failed') {
      const named = Object.keys(CERTIFICATE_PROBLEMS).find((c) => e.message.includes(c));
      if (named) return CERTIFICATE_PROBLEMS[named];
      if (/does not match certificate's altnames/i.test(e.message)) return CERTIFICATE_PROBLEMS.ERR_TLS_CERT_ALTNAME_INVALID;
    }
  }
  return undefined;
}

/** The innermost message: core's connect error already says "cannot connect to host:port". */
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
 * One sentence for people about a failed fetch: no stack, no error class names, the host and
 * the file named, the server's reply quoted.
 */
export function describeFetchError(err: unknown, at: ErrorContext): string {
  const where = `${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`;
  if (err instanceof FtpError) {
    const text = replyText(err.reply);
    if (err.command === 'login' || err.code === 530) {
      return sentence(`${where} refused the login as ${at.user}: wrong user name or password? (${err.code} ${text})`);
    }
    if (err.command === '') return sentence(`${where} does not accept sessions now (${err.code} ${text})`);
    if (err.code === 550 && at.path !== undefined) {
      return sentence(`${at.path} on ${where}: no such file or no permission (${err.code} ${text})`);
    }
    const verb = err.command.split(' ')[0] ?? err.command;
    return sentence(`${at.path ?? where}: the server refused ${verb} (${err.code} ${text})`);
  }
  const untrusted = certificateProblem(err);
  if (untrusted !== undefined) return sentence(`the certificate of ${where} is not trusted: ${untrusted}`);
  if (err instanceof FtpClientError) {
    switch (err.kind) {
      case 'connect-failed': {
        const code = errnoOf(err);
        if (code === 'ECONNREFUSED') return `cannot connect to ${where}: connection refused.`;
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot find the host ${at.host}.`;
        if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `cannot reach ${where}: no route to the host.`;
        return sentence(`cannot connect to ${where}: ${rootMessage(err)}`);
      }
      case 'timeout':
        return sentence(`${where} did not answer in time (${err.message})`);
      case 'tls-failed':
        return sentence(`TLS with ${where} failed: ${err.message}`);
      case 'local-io':
        return sentence(`${at.path ?? where}: ${err.message}`);
      default:
        return sentence(`${at.path === undefined ? where : `${at.path} on ${where}`}: ${err.message}`);
    }
  }
  return sentence(`${at.path ?? where}: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Whether trying again could help: 4yz replies and lost or slow connections, yes; 5yz replies
 * (no such file, wrong password), a certificate that does not verify, TLS and local disk
 * failures, no.
 * @see RFC 959 §4.2 (transient vs permanent negative completion)
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FtpError) return err.transient;
  if (certificateProblem(err) !== undefined) return false;
  if (err instanceof FtpClientError) {
    if (err.kind === 'connect-failed') return errnoOf(err) !== 'ENOTFOUND';
    return err.kind === 'timeout' || err.kind === 'closed' || err.kind === 'data-connection';
  }
  return false;
}

/** Errors that doom every file of the server: no connection, no login. */
export function isServerWide(err: unknown): boolean {
  if (err instanceof FtpError) return err.command === 'login' || err.command === '' || err.code === 530;
  if (err instanceof FtpClientError) return err.kind === 'connect-failed' || err.kind === 'tls-failed';
  return false;
}
