/**
 * @gorgon/nntp: an RFC 977 / RFC 3977 news server (reader and transit, STARTTLS, AUTHINFO,
 * streaming feeds) over pluggable news stores (disk spool, memory), and a client with the
 * retrieval and filter engines. The root re-exports the two entry points
 * `@gorgon/nntp/server` and `@gorgon/nntp/client`; nothing else is public.
 * @packageDocumentation
 */
export * from './exports/server.js';
export * from './exports/client.js';
