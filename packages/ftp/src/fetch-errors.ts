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
  if (err instanceof FtpClientError) {
    switch (err.kind) {
      case 'connect-failed': {
        const code = errnoOf(err);
        if (code === 'ECONNREFUSED') return `cannot connect to ${where}: connection refused.`;
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot find the host ${at.host}.`;
        if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `cannot reach ${where}: no route to the host.`;
        return sentence(`cannot connect to ${where}: ${err.message}`);
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
 * (no such file, wrong password), TLS and local disk failures, no.
 * @see RFC 959 §4.2 (transient vs permanent negative completion)
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof FtpError) return err.transient;
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
