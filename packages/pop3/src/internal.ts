/**
 * Every module of the package in one place, for the package's own tests only: not in the
 * exports map, not public API (the public entries are src/exports/ and src/testing/).
 * @internal
 */
export { createPop3Server, type Pop3Server, type Pop3ServerOptions } from './server.js';
export { createPop3Context, type Pop3Context, type Pop3Mechanism, type Pop3Options, type Pop3Stats } from './context.js';
export { Pop3Session, maskCommand, isLoopback, type Pop3State } from './session.js';
export { pop3Commands, capabilityLines, type Pop3Command, type OfferContext } from './commands/index.js';
export { defaultPop3Limits, implementationName, type Pop3Limits } from './defaults.js';
export { replies, formatReply, formatContinuation, Pop3ReplyError, type Pop3Reply, type RespCode, type ReplyName } from './replies.js';
export { MaildropError, type Maildrop, type MaildropErrorCode, type MaildropMessage, type MaildropStore } from './maildrop.js';
export { MemoryMaildropStore } from './maildrop-memory.js';
export { TopProducer } from './top-producer.js';
export { WireSizeCounter, wireSize } from './wire-size.js';
export { apopDigest, apopTimestamp, verifyApop } from './apop.js';
export { decodeSaslResponse, parsePlain, type PlainCredentials } from './sasl-plain.js';
export { LoginDelay } from './login-delay.js';
export { MaildirStore, MAILDIR_LOCK_NAME, smallReadAheadBytes, type MaildirStoreOptions } from './maildir.js';
export { SIZE_CACHE_NAME } from './maildir-size-cache.js';
export { acquireMaildirLock, type MaildirLock, type MaildirLockOptions } from './maildir-lock.js';
export { parseMaildirName, uniqueMaildirName, type MaildirName } from './maildir-names.js';
export { deliver, type Delivery } from './deliver.js';
export { MessageFileProducer } from './message-file-producer.js';
