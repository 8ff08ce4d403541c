import { createProtocolServer, type GorgonServer } from '@gorgon/core';
import { createPop3Context, type Pop3Context, type Pop3Options, type Pop3Stats } from './context.js';
import { formatReply, replies } from './replies.js';
import { Pop3Session } from './session.js';

/** Options of {@link createPop3Server}. */
export type Pop3ServerOptions = Pop3Options;

/**
 * A running POP3 server: the core's one server shape (`listen` for plain POP3 with STLS,
 * `listenTls` for pop3s, `accept(stream)`, `close`, `address`, `tlsAddress`, `connections`,
 * `counters`, `on(event)`), with the POP3 counts in `counters`.
 */
export type Pop3Server = GorgonServer<Pop3Stats>;

/**
 * Creates a POP3 server over the given maildrop store and authenticator. Throws a
 * `ServerOptionError` (one sentence) for a bad option.
 * @see RFC 1939, RFC 2449 (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH), RFC 8314 §3.3 (pop3s)
 */
export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const ctx: Pop3Context = createPop3Context(options);
  return createProtocolServer<Pop3Stats>({
    name: 'pop3',
    logger: ctx.logger,
    limits: ctx.limits,
    secureContext: ctx.secureContext,
    proxyProtocol: options.proxyProtocol,
    hooks: options.hooks,
    events: ctx.events,
    rejectReply: () => formatReply(replies.tooManyConnections),
    // The session returns itself: the core sweeps its login deadline (loginTimeoutMs).
    createSession: (channel) => new Pop3Session(channel, ctx),
    stats: () => ({ ...ctx.stats }),
    // Nothing of the server stays in the process: the store's lock templates go too.
    afterClose: () => ctx.store.close?.(),
  });
}
