import { createProtocolServer, type GorgonServer } from '@gorgon/core';
import { createNntpContext, type NntpOptions, type NntpStats } from './context.js';
import { formatReply, replies } from './replies.js';
import { NntpSession } from './session.js';

/** Options of {@link createNntpServer}. */
export type NntpServerOptions = NntpOptions;

/** A running NNTP server: the core's one server shape, with NNTP's counts in `counters`. */
export type NntpServer = GorgonServer<NntpStats>;

/**
 * Creates an NNTP server (reader and transit) over a news store. Throws a `ServerOptionError`
 * for a bad option. `listen` is plain NNTP (119, STARTTLS when `tls` is set), `listenTls` is
 * NNTPS (563, RFC 4642 §1 / RFC 8143).
 * @see RFC 3977, RFC 4642, RFC 4643, RFC 4644
 */
export function createNntpServer(options: NntpServerOptions): NntpServer {
  const ctx = createNntpContext(options);
  return createProtocolServer<NntpStats>({
    name: 'nntp',
    logger: ctx.logger,
    limits: ctx.limits,
    secureContext: ctx.secureContext,
    proxyProtocol: options.proxyProtocol,
    hooks: options.hooks,
    events: ctx.events,
    rejectReply: () => formatReply(replies.tooManyConnections),
    createSession: (channel) => {
      new NntpSession(channel, ctx);
    },
    stats: () => ({ ...ctx.stats }),
    afterClose: () => ctx.store.close(),
  });
}
