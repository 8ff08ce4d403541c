/**
 * `@gorgon/pop3/server`: the RFC 1939 POP3 server (CAPA, RESP-CODES, STLS, AUTH PLAIN, APOP) and
 * its maildrops: the interface, the Maildir store with its delivery function, and a memory store.
 * @see RFC 1939
 * @packageDocumentation
 */
export { createPop3Server, type Pop3Server, type Pop3ServerOptions } from '../server.js';
export type { Pop3Mechanism, Pop3Stats } from '../context.js';
export type { Pop3Limits } from '../defaults.js';
// Types only: a custom command (the `commands` option) and what it may use of the session.
export type { Pop3CommandSession, Pop3CustomCommand as Pop3Command, Pop3State } from '../session.js';
export type { Pop3Reply, RespCode } from '../replies.js';
export { MaildropError, type Maildrop, type MaildropErrorCode, type MaildropMessage, type MaildropStore } from '../maildrop.js';
export { MemoryMaildropStore } from '../maildrop-memory.js';
export { MaildirStore, type MaildirStoreOptions } from '../maildir.js';
export { deliver, type Delivery } from '../deliver.js';
export { wireSize } from '../wire-size.js';
