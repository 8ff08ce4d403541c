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
 * One row of the POP3 command table: the core's spec plus whether this server offers the
 * command, and the CAPA line it contributes on a given session (CAPA is generated from these,
 * so it cannot list what is not implemented or not offered). @see RFC 2449 §5
 */
export interface Pop3Command extends CommandSpec<Pop3State, Pop3Session> {
  offered?(offer: OfferContext): boolean;
  capa?(session: Pop3Session): string | undefined;
}
