import type { CommandSpec } from '@gorgon/core';
import type { Pop3Mechanism } from '../context.js';
import type { Pop3Session, Pop3State } from '../session.js';

/** What decides whether a server offers a command at all. */
export interface OfferContext {
  mechanisms: ReadonlySet<Pop3Mechanism>;
  /** A certificate is configured (STLS possible). */
  tls: boolean;
}

/**
 * One row of the POP3 command table: the core's spec (whose `capability`, fixed or per
 * session, is the CAPA line the command contributes: CAPA is generated from the table, so it
 * cannot list what is not implemented or not offered) plus whether this server offers the
 * command at all. @see RFC 2449 §5
 */
export interface Pop3Command extends CommandSpec<Pop3State, Pop3Session> {
  offered?(offer: OfferContext): boolean;
}
