/**
 * @gorgon/pop3: an RFC 1939 POP3 server with CAPA, RESP-CODES, STLS, AUTH PLAIN and APOP, over
 * pluggable maildrops (Maildir, memory) and authenticators. The root re-exports
 * `@gorgon/pop3/server`; the maildrop contract suite is in `@gorgon/pop3/testing`.
 * @packageDocumentation
 */
export * from './exports/server.js';
